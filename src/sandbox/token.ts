// POST /oauth/token: the token endpoint (RFC 6749 §3.2). Faults first, then the grant.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from './context.ts';
import { HTTP, TOKEN } from './error-codes.ts';
import { param, readBodyParams, repeatedParams } from './params.ts';
import { QlikFailure, sendHtml, sendJson, sendQlikError } from './respond.ts';
import { rejectAuthorizationHeader } from './client-auth.ts';
import { exchangeCode } from './code-grant.ts';
import { refreshTokens } from './refresh-grant.ts';

const TOKEN_PARAMETERS = [
  'grant_type', 'client_id', 'client_secret', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'scope',
] as const;

export async function handleToken(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): Promise<void> {
  ctx.stats.tokenRequests += 1;
  const body = await readBodyParams(req);
  const grantType = param(body, 'grant_type');
  if (grantType === 'refresh_token') ctx.stats.refreshRequests += 1;

  if (answeredByFault(res, ctx)) return;

  // RFC 6749 §3.1: a repeated parameter makes the request ambiguous.
  const repeated = repeatedParams(body, TOKEN_PARAMETERS);
  if (repeated.length > 0) throw new QlikFailure(400, TOKEN.badParameter, `Repeated parameter: ${repeated.join(', ')}.`);
  rejectAuthorizationHeader(req);

  let response;
  if (grantType === 'authorization_code') response = exchangeCode(body, ctx);
  else if (grantType === 'refresh_token') response = refreshTokens(body, ctx);
  else {
    // RFC 6749 §5.2 unsupported_grant_type. (Qlik also has client_credentials for M2M clients; the sandbox does not.)
    throw new QlikFailure(400, TOKEN.unsupportedGrant, 'grant_type must be authorization_code or refresh_token.');
  }
  // RFC 6749 §5.1: Cache-Control: no-store and Pragma: no-cache on every response holding tokens.
  sendJson(res, 200, response, { pragma: 'no-cache' });
}

/** The failures a test can switch on, to see the client cope with a broken tenant. */
function answeredByFault(res: ServerResponse, ctx: SandboxContext): boolean {
  switch (ctx.faults.tokenEndpoint) {
    case 'hang':
      // Never answer. The socket stays open until the client gives up or close() drops it:
      // only a client-side timeout saves the app.
      return true;
    case 'error500':
      sendQlikError(res, new QlikFailure(500, HTTP.internal, 'The sandbox was told to fail (faults.tokenEndpoint = error500).'), { traceId: false });
      return true;
    case 'rateLimit':
      sendQlikError(res, new QlikFailure(429, HTTP.tooManyRequests, 'The sandbox was told to rate limit (faults.tokenEndpoint = rateLimit).', { 'retry-after': '30' }), { traceId: true });
      return true;
    case 'html':
      // What a proxy in front of a tenant sends when the tenant is down: not JSON at all.
      sendHtml(res, 502, '<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n');
      return true;
    default:
      return false;
  }
}
