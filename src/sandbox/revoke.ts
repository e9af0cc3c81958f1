// POST /oauth/revoke: token revocation (RFC 7009), e.g. at logout.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from './context.ts';
import { TOKEN } from './error-codes.ts';
import { param, readBodyParams, repeatedParams } from './params.ts';
import { QlikFailure } from './respond.ts';
import { revokeGrant } from './store.ts';
import { authenticateClient, readClientCredentials } from './client-auth.ts';

export async function handleRevoke(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): Promise<void> {
  ctx.stats.revokeRequests += 1;
  const body = await readBodyParams(req);
  // RFC 6749 §3.1: a repeated parameter makes the request ambiguous.
  const repeated = repeatedParams(body, ['token', 'token_type_hint', 'client_id', 'client_secret']);
  if (repeated.length > 0) throw new QlikFailure(400, TOKEN.badParameter, `Repeated parameter: ${repeated.join(', ')}.`);
  const creds = readClientCredentials(req, body);

  const token = param(body, 'token');
  // RFC 7009 §2.1: token is required.
  if (token === undefined) throw new QlikFailure(400, TOKEN.badParameter, 'token is missing.');
  const record = ctx.store.tokens.get(token);
  // Qlik documents the revoke body without client credentials: whoever holds a token may end it.
  // RFC 7009 §2.1 has confidential clients authenticate; when credentials come, they must be right.
  const client = creds.method === 'none' ? undefined : authenticateClient(creds, ctx, record?.clientId);

  // RFC 7009 §2.2: an unknown or already invalid token still gets 200: the client's goal (that the
  // token no longer works) is met, and the answer tells an attacker nothing.
  // token_type_hint is ignored: RFC 7009 §2.1 says to search all token types anyway.
  if (record !== undefined) {
    // RFC 7009 §2.1: a client that identified itself may revoke only its own tokens.
    if (client !== undefined && record.clientId !== client.clientId) {
      throw new QlikFailure(401, TOKEN.tokenOtherClient, 'The token was issued to another client.');
    }
    // RFC 7009 §2.1: revoking a refresh token SHOULD also invalidate the access tokens of the same grant.
    if (record.kind === 'refresh') revokeGrant(ctx.store, record.grantId);
    else record.revoked = true;
  }
  res.writeHead(200, { 'cache-control': 'no-store', 'content-length': '0' });
  res.end();
}
