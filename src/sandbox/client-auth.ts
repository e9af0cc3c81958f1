// Client authentication at /oauth/token (RFC 6749 §2.3): HTTP Basic (client_secret_basic), the secret
// in the body (client_secret_post, the tutorial's), a private key JWT (RFC 7523 §2.2, Qlik's
// private_key_jwt), or, for public clients (native, single-page app), client_id alone (RFC 6749 §2.1:
// PKCE does the rest).
import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual, verify } from 'node:crypto';
import type { RegisteredClient, SandboxContext } from './context.ts';
import { TOKEN, type OAuthErrorCode } from './error-codes.ts';
import { param, QlikFailure } from './http.ts';

export interface ClientCredentials {
  clientId: string | undefined;
  secret: string | undefined;
  /** The client_assertion JWT, for method 'jwt'. */
  assertion: string | undefined;
  /** How they came: the Authorization header, a secret in the body, an assertion, or nothing at all. */
  method: 'basic' | 'post' | 'jwt' | 'none';
}

/** RFC 7523 §2.2: the client_assertion_type of a JWT client assertion. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The client's credentials, from the Authorization header or the body (RFC 6749 §2.3: never two methods at once). */
export function readClientCredentials(req: IncomingMessage, body: URLSearchParams): ClientCredentials {
  const clientId = param(body, 'client_id');
  const secret = param(body, 'client_secret');
  const assertion = param(body, 'client_assertion');
  const assertionType = param(body, 'client_assertion_type');
  const header = req.headers.authorization;

  if (header !== undefined) {
    const basic = decodeBasic(header);
    if (secret !== undefined || assertion !== undefined || assertionType !== undefined) {
      throw new QlikFailure(400, TOKEN.twoAuthMethods, 'Send the client credentials once: in the Authorization header or in the body, not both.');
    }
    // RFC 6749 §2.3.1 lets client_id appear in the body too; it must then name the same client.
    if (clientId !== undefined && clientId !== basic.clientId) {
      throw new QlikFailure(400, TOKEN.twoAuthMethods, 'The body\'s client_id differs from the one in the Authorization header.');
    }
    return { clientId: basic.clientId, secret: basic.secret === '' ? undefined : basic.secret, assertion: undefined, method: 'basic' };
  }
  if (assertion !== undefined || assertionType !== undefined) {
    if (secret !== undefined) throw new QlikFailure(400, TOKEN.twoAuthMethods, 'Send either client_secret or client_assertion, not both.');
    // RFC 7521 §4.2: client_assertion_type names the assertion's format; RFC 7523 §2.2 gives the JWT's.
    if (assertionType !== JWT_BEARER || assertion === undefined) {
      throw new QlikFailure(401, TOKEN.badAssertion, `Send client_assertion with client_assertion_type=${JWT_BEARER}.`);
    }
    return { clientId, secret: undefined, assertion, method: 'jwt' };
  }
  return { clientId, secret, assertion: undefined, method: clientId === undefined && secret === undefined ? 'none' : 'post' };
}

/** RFC 6749 §2.3.1: `Basic base64(urlencode(client_id) ":" urlencode(client_secret))`: decode each part after the split. */
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

interface AuthenticateOptions {
  /** The client a refresh token was issued to, for a request that names none (Qlik's refresh schema has no client_id). */
  tokenClientId?: string | undefined;
  /** [?] A web client may leave its secret out (the webCodeWithoutSecret switch, code exchange only). */
  secretOptional?: boolean;
}

/** A confidential (web) client proves its secret or signs an assertion; a public one (native, spa) sends neither. */
export function authenticateClient(creds: ClientCredentials, ctx: SandboxContext, options: AuthenticateOptions = {}): RegisteredClient {
  const fail = (error: OAuthErrorCode, detail: string) => (creds.method === 'basic' ? basicFailure(error, detail) : new QlikFailure(401, error, detail));
  const jwt = creds.assertion === undefined ? undefined : parseJwt(creds.assertion);
  if (creds.assertion !== undefined && jwt === undefined) throw fail(TOKEN.badAssertion, 'client_assertion is not a JWT: three base64url parts (header, claims, signature) joined by dots.');
  // RFC 7521 §4.2: client_id may be left out when the assertion names the client (its sub).
  const subject = typeof jwt?.claims.sub === 'string' ? jwt.claims.sub : undefined;
  const clientId = creds.clientId ?? subject ?? options.tokenClientId;
  // RFC 6749 §5.2 invalid_client: "no client authentication included" or an unknown client.
  if (clientId === undefined) throw fail(TOKEN.unknownClient, 'client_id is missing.');
  const client = ctx.clients.get(clientId);
  if (client === undefined) throw fail(TOKEN.unknownClient, `No OAuth client "${clientId.slice(0, 100)}" is registered on this tenant. Check the client ID.`);
  if (client.type !== 'web') {
    // RFC 6749 §2.1: a public client cannot keep a secret, so one sent here is a configuration mistake.
    if (creds.secret !== undefined || jwt !== undefined) {
      throw fail(TOKEN.publicWithSecret, `"${client.clientId}" is a public (${client.type}) client: send client_id only, no client_secret or assertion.`);
    }
    return client;
  }
  if (jwt !== undefined) {
    checkAssertion(jwt, client, ctx);
    return client;
  }
  if (creds.secret === undefined) {
    if (options.secretOptional) return client;
    throw fail(TOKEN.missingSecret, 'client_secret is missing: a web client authenticates with its secret (in the body or an Authorization: Basic header) or a client assertion.');
  }
  if (client.clientSecret === undefined) {
    throw fail(TOKEN.badClientAuth, `Client "${client.clientId}" is registered by public key: send a client_assertion (private key JWT), not a secret.`);
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

interface Jwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** BASE64URL(header) "." BASE64URL(claims): what the signature covers (RFC 7515 §5.2). */
  signingInput: string;
  signature: Buffer;
}

/** A JWS in compact form (RFC 7515 §7.1); undefined for anything else. Nothing is trusted yet. */
function parseJwt(text: string): Jwt | undefined {
  const parts = text.split('.');
  if (parts.length !== 3 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) return undefined;
  const json = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  try {
    const header = json(parts[0]!);
    const claims = json(parts[1]!);
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) return undefined;
    return { header: header as Record<string, unknown>, claims: claims as Record<string, unknown>, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
  } catch {
    return undefined;
  }
}

/** How far exp and nbf may be off: clocks differ a little (RFC 7519 §4.1.4, §4.1.5: "some small leeway"). */
const LEEWAY_SECONDS = 60;

/** RFC 7523 §3: the checks of a JWT client assertion, each its own 401 (invalid_client, RFC 7521 §4.2.1). */
function checkAssertion(jwt: Jwt, client: RegisteredClient, ctx: SandboxContext): void {
  const bad = (detail: string) => new QlikFailure(401, TOKEN.badAssertion, detail);
  const key = client.publicKey;
  if (key === undefined) throw bad(`Client "${client.clientId}" has no registered public key: authenticate with its client secret.`);
  // Qlik accepts RS256, RS512 and ES384 (its private key JWT reference). RFC 7518 §3.1: the key
  // decides which of them may be used, never the header alone: letting the token pick ("none", or
  // HS256 keyed with the public key) is the classic JWT attack.
  const algs = key.asymmetricKeyType === 'ec' ? ['ES384'] : ['RS256', 'RS512'];
  const alg = String(jwt.header.alg);
  if (!algs.includes(alg)) throw bad(`The assertion's alg must be ${algs.join(' or ')} for this client's key, not ${JSON.stringify(jwt.header.alg)?.slice(0, 20)}.`);
  // RFC 7518 §3.4: an ECDSA signature is R ‖ S, not DER.
  const verifyKey = alg === 'ES384' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  if (!verify(alg === 'RS512' ? 'sha512' : alg === 'ES384' ? 'sha384' : 'sha256', Buffer.from(jwt.signingInput), verifyKey, jwt.signature)) {
    throw bad(`The assertion's signature does not verify with the public key registered for "${client.clientId}". Sign it with the private key that goes with it.`);
  }
  const { iss, sub, aud, exp, nbf, jti } = jwt.claims;
  // RFC 7523 §3 items 1, 2: iss and sub are both the client_id.
  if (iss !== client.clientId || sub !== client.clientId) throw bad(`iss and sub must both be the client_id "${client.clientId}".`);
  // RFC 7523 §3 item 3: aud names this server: the token endpoint URL, or (also allowed) the issuer.
  const tokenEndpoint = `${ctx.url}/oauth/token`;
  if (![aud].flat().some((value) => value === tokenEndpoint || value === ctx.url)) {
    throw bad(`aud must be the token endpoint ${tokenEndpoint} (or the issuer ${ctx.url}), not ${JSON.stringify(aud)?.slice(0, 200)}.`);
  }
  const now = ctx.now() / 1000;
  // RFC 7523 §3 item 4: exp is required, and a JWT past it is refused.
  if (typeof exp !== 'number' || exp + LEEWAY_SECONDS <= now) throw bad('exp is missing or has passed: sign a fresh assertion for each request, valid for a minute or so.');
  // RFC 7523 §3 item 5: nbf, when present, must have come.
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf - LEEWAY_SECONDS > now)) throw bad('nbf is in the future: check this machine\'s clock.');
  // RFC 7523 §3 item 7: a jti seen before is a replay; each assertion is used once.
  if (typeof jti !== 'string' || jti === '') throw bad('jti is missing: give each assertion a unique random jti.');
  const seen = `${client.clientId} ${jti}`;
  if (ctx.store.assertions.get(seen) !== undefined) throw bad('This assertion was used before (same jti): sign a new one for each request.');
  ctx.store.assertions.set(seen, { keepUntil: (exp + LEEWAY_SECONDS) * 1000 });
}
