// GET /.well-known/openid-configuration and /.well-known/oauth-authorization-server,
// and the (empty) JWKS they point to.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from './context.ts';
import { sendJson } from './respond.ts';

/**
 * The authorization server metadata (RFC 8414 §2), shaped like Qlik's documented example:
 * - `issuer` is exactly the base URL, no trailing slash (RFC 8414 §3.3: clients compare it byte for byte);
 * - `grant_types_supported` and `response_types_supported` are empty arrays, as in Qlik's example;
 * - no `userinfo_endpoint` (Qlik: use /api/v1/users/me) and no `code_challenge_methods_supported`,
 *   although S256 is required: a client must not treat absent metadata as "unsupported".
 */
export function metadata(ctx: SandboxContext): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    issuer: ctx.url,
    authorization_endpoint: `${ctx.url}/oauth/authorize`,
    token_endpoint: `${ctx.url}/oauth/token`,
    revocation_endpoint: `${ctx.url}/oauth/revoke`,
    jwks_uri: `${ctx.url}/.well-known/jwks.json`,
    grant_types_supported: [],
    response_types_supported: [],
  };
  // RFC 9207 §3: only a server that says so promises `iss` on every authorization response.
  if (ctx.advertiseIss) doc.authorization_response_iss_parameter_supported = true;
  return doc;
}

export function handleMetadata(_req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): void {
  sendJson(res, 200, metadata(ctx));
}

/** Tokens here are opaque, nothing is signed, so the key set is empty; it exists so jwks_uri is not a 404. */
export function handleJwks(_req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { keys: [] });
}
