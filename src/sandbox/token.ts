// POST /oauth/token: the token endpoint (RFC 6749 §3.2). Faults first, then the grant.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hasFault, type SandboxContext } from './context.ts';
import { IMPERSONATION_GRANT } from './options.ts';
import { HTTP, TOKEN } from './error-codes.ts';
import { param, readBodyParams, repeatedParams } from './params.ts';
import { QlikFailure, sendHtml, sendJson, sendQlikError } from './respond.ts';
import { readClientCredentials } from './client-auth.ts';
import { answerCodeGrant } from './code-grant.ts';
import { answerRefreshGrant } from './refresh-grant.ts';
import { clientCredentials, impersonate } from './machine-grant.ts';

const TOKEN_PARAMETERS = [
  'grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'code', 'redirect_uri',
  'code_verifier', 'refresh_token', 'scope', 'user_lookup[field]', 'user_lookup[value]',
] as const;

export async function handleToken(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): Promise<void> {
  ctx.stats.tokenRequests += 1;
  const body = await readBodyParams(req);
  const grantType = param(body, 'grant_type');
  if (grantType === 'refresh_token') ctx.stats.refreshRequests += 1;

  if (answeredByFault(res, ctx)) return;
  if (hasFault(ctx, 'token-slow')) {
    await waitUnlessClosed(res, ctx.slowTokenMs);
    if (res.destroyed) return;
  }

  // RFC 6749 §3.1: a repeated parameter makes the request ambiguous.
  const repeated = repeatedParams(body, TOKEN_PARAMETERS);
  if (repeated.length > 0) throw new QlikFailure(400, TOKEN.badParameter, `Repeated parameter: ${repeated.join(', ')}.`);
  const creds = readClientCredentials(req, body);

  if (hasFault(ctx, 'token-error')) throw new QlikFailure(401, TOKEN.fault, 'The sandbox was told to refuse every token request (SANDBOX_FAULT=token-error).');
  // Qlik: 403 = the user is disabled or the token limit is reached.
  if (hasFault(ctx, 'token-forbidden')) throw new QlikFailure(403, TOKEN.forbidden, 'The sandbox was told to answer as for a disabled user or a reached token limit (SANDBOX_FAULT=token-forbidden).');

  let response;
  if (grantType === 'authorization_code') response = answerCodeGrant(body, creds, ctx);
  else if (grantType === 'refresh_token') response = answerRefreshGrant(body, creds, ctx);
  else if (grantType === 'client_credentials') response = clientCredentials(body, creds, ctx);
  else if (grantType === IMPERSONATION_GRANT) response = impersonate(body, creds, ctx);
  else if (grantType === undefined) throw new QlikFailure(400, TOKEN.badParameter, 'grant_type is missing.');
  else {
    // RFC 6749 §5.2 unsupported_grant_type.
    throw new QlikFailure(400, TOKEN.unsupportedGrant, `grant_type must be authorization_code, refresh_token, client_credentials or ${IMPERSONATION_GRANT}.`);
  }
  // RFC 6749 §5.1: Cache-Control: no-store and Pragma: no-cache on every response holding tokens.
  sendJson(res, 200, response, { pragma: 'no-cache' });
}

/** Waits `ms`, or less when the client hangs up first (close() included). */
function waitUnlessClosed(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on('close', done);
  });
}

/** The failures that answer without looking at the request: a broken tenant, not a refusal. */
function answeredByFault(res: ServerResponse, ctx: SandboxContext): boolean {
  const style = { oauth: true, style: ctx.errors };
  switch (ctx.faults.tokenEndpoint) {
    case 'hang':
      // Never answer. The socket stays open until the client gives up or close() drops it:
      // only a client-side timeout saves the app.
      return true;
    case 'error500':
      sendQlikError(res, new QlikFailure(500, HTTP.internal, 'The sandbox was told to fail (faults.tokenEndpoint = error500).'), style);
      return true;
    case 'rateLimit':
      sendQlikError(res, new QlikFailure(429, HTTP.tooManyRequests, 'The sandbox was told to rate limit (faults.tokenEndpoint = rateLimit).', { 'retry-after': '30' }), style);
      return true;
    case 'html':
      sendBadGateway(res);
      return true;
    default:
      if (!hasFault(ctx, 'token-not-json')) return false;
      // A 200 that is not JSON: what a captive portal or a proxy's sign-in page sends. RFC 6749 §5.1
      // says a token answer is application/json, so the client's NOT_JSON check must fire. (A non-200
      // HTML page is the 'html' fault: the client reads that as a refusal, TOKEN_ERROR_RESPONSE.)
      sendHtml(res, 200, '<!doctype html><html><head><title>Sign in to the proxy</title></head><body><h1>Sign in to continue</h1></body></html>\n');
      return true;
  }
}

/** What a proxy in front of a tenant sends when the tenant is down: not JSON at all. */
function sendBadGateway(res: ServerResponse): void {
  sendHtml(res, 502, '<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n');
}
