// Client authentication at /oauth/token and /oauth/revoke: client_secret_post only, as Qlik's web clients use.
import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SandboxContext } from './context.ts';
import type { SandboxClient } from './options.ts';
import { TOKEN } from './error-codes.ts';
import { param } from './params.ts';
import { QlikFailure } from './respond.ts';

/**
 * RFC 6749 §2.3.1: one authentication method per request. Qlik's web clients use client_secret_post,
 * so credentials in an Authorization header (HTTP Basic) are refused rather than silently ignored.
 */
export function rejectAuthorizationHeader(req: IncomingMessage): void {
  if (req.headers.authorization !== undefined) {
    throw new QlikFailure(401, TOKEN.basicAuth, 'Send client_id and client_secret in the form body (client_secret_post), not in an Authorization header.');
  }
}

/**
 * client_secret_post (RFC 6749 §2.3.1): client_id and client_secret in the form body.
 * `clientId` is the body's client_id, or, for a refresh that omits it, the client the token was issued to.
 */
export function authenticateClient(body: URLSearchParams, ctx: SandboxContext, clientId: string | undefined): SandboxClient {
  if (clientId === undefined) {
    throw new QlikFailure(400, TOKEN.badParameter, 'client_id is missing.');
  }
  const client = ctx.clients.get(clientId);
  // RFC 6749 §5.2 invalid_client: the client must be registered.
  if (client === undefined) {
    throw new QlikFailure(401, TOKEN.unknownClient, `No OAuth client "${clientId.slice(0, 100)}" is registered on this tenant. Check the client ID.`);
  }
  const secret = param(body, 'client_secret');
  if (secret === undefined) {
    throw new QlikFailure(401, TOKEN.missingSecret, 'client_secret is missing: confidential clients authenticate with client_id and client_secret in the body.');
  }
  // Qlik OAUTH-22. The secret itself never appears in a message or a log.
  if (!sameSecret(secret, client.clientSecret)) {
    throw new QlikFailure(401, TOKEN.badSecret, `The client_secret is not the one registered for client "${client.clientId}". Copy it again from the OAuth client's settings.`);
  }
  return client;
}

/** Compare in constant time (hashes first so the lengths match), so response timing leaks nothing. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
