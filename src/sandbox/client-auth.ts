// Client authentication at /oauth/token and /oauth/revoke (RFC 6749 §2.3):
// HTTP Basic (client_secret_basic), the secret in the body (client_secret_post, the tutorial's), or,
// for public clients (native, single-page app), client_id alone (RFC 6749 §2.1, PKCE does the rest).
import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RegisteredClient, SandboxContext } from './context.ts';
import { TOKEN, type OAuthErrorCode } from './error-codes.ts';
import { param } from './params.ts';
import { QlikFailure } from './respond.ts';

export interface ClientCredentials {
  clientId: string | undefined;
  secret: string | undefined;
  /** How they came: the Authorization header, the body, or nothing at all. */
  method: 'basic' | 'post' | 'none';
}

/**
 * Reads the client's credentials from the Authorization header or the body, refusing a request
 * that uses two methods at once (RFC 6749 §2.3: "MUST NOT use more than one authentication method").
 */
export function readClientCredentials(req: IncomingMessage, body: URLSearchParams): ClientCredentials {
  const bodyId = param(body, 'client_id');
  const bodySecret = param(body, 'client_secret');
  const assertion = param(body, 'client_assertion') ?? param(body, 'client_assertion_type');
  const header = req.headers.authorization;

  if (header !== undefined) {
    const basic = decodeBasic(header);
    if (bodySecret !== undefined || assertion !== undefined) {
      throw new QlikFailure(400, TOKEN.twoAuthMethods, 'Send the client credentials once: in the Authorization header or in the body, not both.');
    }
    // RFC 6749 §2.3.1 lets client_id appear in the body too; it must then name the same client.
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new QlikFailure(400, TOKEN.twoAuthMethods, 'The body\'s client_id differs from the one in the Authorization header.');
    }
    return { clientId: basic.clientId, secret: basic.secret === '' ? undefined : basic.secret, method: 'basic' };
  }
  // Qlik: private key JWT (client_assertion) exists for web clients; the sandbox does not do it.
  if (assertion !== undefined) {
    if (bodySecret !== undefined) {
      throw new QlikFailure(400, TOKEN.twoAuthMethods, 'Send either client_secret or client_assertion, not both.');
    }
    throw new QlikFailure(401, TOKEN.badClientAuth, 'The sandbox does not support private key JWT (client_assertion). Use the client secret.');
  }
  if (bodyId === undefined && bodySecret === undefined) return { clientId: undefined, secret: undefined, method: 'none' };
  return { clientId: bodyId, secret: bodySecret, method: 'post' };
}

/**
 * RFC 6749 §2.3.1: `Basic base64(urlencode(client_id) ":" urlencode(client_secret))`, each part
 * form-urlencoded (Appendix B) before base64, so both are decoded after the split.
 */
function decodeBasic(header: string): { clientId: string; secret: string } {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const clientId = colon > 0 ? formDecode(decoded.slice(0, colon)) : undefined;
  const secret = colon > 0 ? formDecode(decoded.slice(colon + 1)) : undefined;
  if (clientId === undefined || secret === undefined) {
    throw basicFailure(TOKEN.badClientAuth, 'The Authorization header must be "Basic " + base64(client_id ":" client_secret), each form-urlencoded first.');
  }
  return { clientId, secret };
}

function formDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/** RFC 6749 §5.2: a failed Basic authentication is a 401 with a WWW-Authenticate challenge. */
function basicFailure(error: OAuthErrorCode, detail: string): QlikFailure {
  return new QlikFailure(401, error, detail, { 'www-authenticate': 'Basic realm="qlik"' });
}

/**
 * Checks the credentials: a confidential (web) client must prove its secret; a public client
 * (native, spa) has none and must not send one. `fallbackClientId` is the client a refresh or
 * revoked token was issued to, for requests that name no client (Qlik's refresh schema has no client_id).
 */
export function authenticateClient(creds: ClientCredentials, ctx: SandboxContext, fallbackClientId?: string): RegisteredClient {
  const fail = (error: OAuthErrorCode, detail: string) =>
    creds.method === 'basic' ? basicFailure(error, detail) : new QlikFailure(401, error, detail);
  const clientId = creds.clientId ?? fallbackClientId;
  // RFC 6749 §5.2 invalid_client: "no client authentication included" or an unknown client.
  if (clientId === undefined) throw fail(TOKEN.unknownClient, 'client_id is missing.');
  const client = ctx.clients.get(clientId);
  if (client === undefined) {
    throw fail(TOKEN.unknownClient, `No OAuth client "${clientId.slice(0, 100)}" is registered on this tenant. Check the client ID.`);
  }
  if (client.clientSecret === undefined) {
    // RFC 6749 §2.1: a public client cannot keep a secret, so one sent here is a configuration mistake.
    if (creds.secret !== undefined) {
      throw fail(TOKEN.publicWithSecret, `"${client.clientId}" is a public (${client.type}) client: send client_id only, no client_secret.`);
    }
    return client;
  }
  if (creds.secret === undefined) {
    throw fail(TOKEN.missingSecret, 'client_secret is missing: a web client authenticates with its secret (in the body or an Authorization: Basic header).');
  }
  // The secret itself never appears in a message or a log.
  if (!sameSecret(creds.secret, client.clientSecret)) {
    throw fail(TOKEN.badSecret, `The client_secret is not the one registered for client "${client.clientId}". Copy it again from the OAuth client's settings.`);
  }
  return client;
}

/** Compare in constant time (hashes first so the lengths match), so response timing leaks nothing. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
