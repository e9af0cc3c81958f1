// GET /.well-known/oauth-authorization-server (documented), /.well-known/openid-configuration (the
// tutorial's, no longer documented: configurable), and the (empty) JWKS they point to.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from './context.ts';
import { HTTP } from './error-codes.ts';
import { QlikFailure, sendHtml, sendJson, sendRedirect } from './http.ts';
import { hasFault } from './settings.ts';

/** Where the discovery-http-endpoint fault points the token endpoint: plain http, not loopback. */
export const PLAIN_HTTP_TOKEN_ENDPOINT = 'http://tenant.sandbox.invalid/oauth/token';

/**
 * The authorization server metadata (RFC 8414 §2), shaped like Qlik's documented example:
 * - `issuer` is exactly the base URL, no trailing slash (RFC 8414 §3.3: clients compare it byte for byte);
 * - `grant_types_supported` and `response_types_supported` are empty arrays, as in Qlik's example;
 * - no `userinfo_endpoint` (Qlik: use /api/v1/users/me) and no `code_challenge_methods_supported`,
 *   although S256 is required: a client must not treat absent metadata as "unsupported".
 */
export function handleMetadata(_req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): void {
  const doc: Record<string, unknown> = {
    issuer: ctx.url,
    authorization_endpoint: `${ctx.url}/oauth/authorize`,
    // The discovery-http-endpoint fault: a token endpoint that would carry codes and secrets in clear.
    token_endpoint: hasFault(ctx, 'discovery-http-endpoint') ? PLAIN_HTTP_TOKEN_ENDPOINT : `${ctx.url}/oauth/token`,
    revocation_endpoint: `${ctx.url}/oauth/revoke`,
    jwks_uri: `${ctx.url}/.well-known/jwks.json`,
    grant_types_supported: [],
    response_types_supported: [],
  };
  // RFC 9207 §3: only a server that says so promises `iss` on every authorization response. The iss
  // faults advertise it, so that the client's check must fire.
  if (ctx.advertiseIss || hasFault(ctx, 'iss-mismatch') || hasFault(ctx, 'iss-missing')) {
    doc.authorization_response_iss_parameter_supported = true;
  }
  sendJson(res, 200, doc);
}

/** The tutorial's path, no longer in Qlik's reference [?]: metadata, a 404, a redirect to login, or a login page. */
export function handleOpenIdConfiguration(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): void {
  switch (ctx.openidConfiguration) {
    case 'notFound':
      throw new QlikFailure(404, HTTP.notFound, 'No such endpoint on the sandbox tenant (openidConfiguration: notFound).');
    case 'redirect':
      sendRedirect(res, `${ctx.url}/login?returnto=${encodeURIComponent('/.well-known/openid-configuration')}`);
      return;
    case 'html':
      handleLoginPage(req, res);
      return;
    default:
      handleMetadata(req, res, ctx);
  }
}

/** A tenant's sign-in page, as a browser (or a client that follows redirects) would get it. */
export function handleLoginPage(_req: IncomingMessage, res: ServerResponse): void {
  sendHtml(res, 200, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - sandbox tenant</title></head>
<body><h1>Sign in</h1><p>This is the sandbox tenant's login page, not metadata.</p></body></html>
`);
}

/** Tokens here are opaque, nothing is signed, so the key set is empty; it exists so jwks_uri is not a 404. */
export function handleJwks(_req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { keys: [] });
}
