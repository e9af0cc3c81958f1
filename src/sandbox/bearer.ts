// The bearer token check in front of every /api/v1/* route (RFC 6750).
import type { IncomingMessage } from 'node:http';
import type { SandboxContext } from './context.ts';
import { HTTP } from './error-codes.ts';
import { QlikFailure } from './respond.ts';
import type { TokenRecord } from './store.ts';

/** RFC 6750 §2.1: `Authorization: Bearer <b64token>`; the scheme name is case-insensitive (RFC 9110 §11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Returns the access token's record, or throws the 401/403 with the WWW-Authenticate challenge. */
export function requireAccessToken(req: IncomingMessage, ctx: SandboxContext, requiredScope: string): TokenRecord {
  const header = req.headers.authorization;
  // RFC 6750 §3.1: a request with no bearer credentials gets a challenge without an error code.
  if (header === undefined || !/^bearer\b/i.test(header)) {
    throw unauthorized('Send the access token in an Authorization: Bearer header.', undefined);
  }
  const token = BEARER.exec(header)?.[1];
  const record = token === undefined ? undefined : ctx.store.tokens.get(token);
  // A refresh token is not an access token: it is only ever sent to /oauth/token.
  if (record === undefined || record.kind !== 'access') {
    throw unauthorized('The access token is unknown. Sign in again.', 'invalid_token');
  }
  if (record.revoked) throw unauthorized('The access token was revoked. Sign in again.', 'invalid_token');
  if (record.expiresAt <= ctx.now()) {
    throw unauthorized('The access token has expired. Refresh it, or sign in again.', 'invalid_token');
  }
  // RFC 6750 §3.1 insufficient_scope: a valid token without the scope this API needs → 403.
  if (!record.scopes.includes(requiredScope)) {
    throw new QlikFailure(403, HTTP.forbidden, `This API needs the ${requiredScope} scope; the token has: ${record.scopes.join(' ')}.`, {
      'www-authenticate': `Bearer realm="qlik", error="insufficient_scope", scope="${requiredScope}"`,
    });
  }
  return record;
}

function unauthorized(detail: string, error: 'invalid_token' | undefined): QlikFailure {
  const challenge = error === undefined ? 'Bearer realm="qlik"' : `Bearer realm="qlik", error="${error}"`;
  return new QlikFailure(401, HTTP.unauthorized, detail, { 'www-authenticate': challenge });
}
