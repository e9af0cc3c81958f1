// Tutorial 3.2 — send the user to the tenant to sign in.
//
// The tutorial calls openid-client's generators and client.authorizationUrl(). By hand that is:
// make a PKCE verifier and its S256 challenge, make a state, and put them in the URL of the
// tenant's authorization endpoint. The verifier and state stay on the server, tied to this
// browser; only the challenge and the state travel.

import { hash, randomFillSync } from 'node:crypto';
import { ConfigurationError } from './errors.ts';
import type { TenantMetadata } from './1-discovery.ts';
import type { ClientConfig } from './client.ts';

// RFC 7636 §4.1: the verifier is 43–128 characters of [A-Z] [a-z] [0-9] - . _ ~
const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * RFC 7636 §4.1: a high-entropy code verifier — 32 random bytes, base64url, 43 characters.
 * A verifier passed in (to reproduce a run, say) is checked against §4.1 and returned.
 */
export function createCodeVerifier(given?: string): string {
  if (given === undefined) return random32();
  // RFC 7636 §4.1: a shorter or odd verifier is refused by the tenant, or is guessable.
  if (!VERIFIER_PATTERN.test(given)) {
    throw new ConfigurationError(
      'VERIFIER_INVALID',
      `The code verifier must be 43–128 characters of A-Z a-z 0-9 - . _ ~; this one is ${given.length} characters${/[^A-Za-z0-9\-._~]/.test(given) ? ' with other characters' : ''}.`,
      'Let createCodeVerifier() make the verifier, or pass one that follows RFC 7636 §4.1.',
    );
  }
  return given;
}

/** RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))), method S256. */
export function codeChallengeS256(codeVerifier: string): string {
  // A verifier is ASCII only (§4.1), so its UTF-8 bytes, which hash() takes, are its ASCII bytes.
  return hash('sha256', codeVerifier, 'base64url');
}

/**
 * RFC 6749 §10.12, RFC 9700 §4.7.1: an unguessable state — 32 random bytes (256 bits), base64url —
 * that ties the callback to this browser's sign-in and stops cross-site request forgery.
 */
export function createState(): string {
  return random32();
}

// The random pool of random32(): 128 values' worth, handed out 32 bytes at a time.
const randomPool = Buffer.alloc(4096);
let poolUsed = randomPool.length; // empty: the first call fills it

/**
 * 32 bytes from the system's CSPRNG (node:crypto), base64url: 256 bits in 43 characters.
 *
 * Why a pool: each call to the random source costs ~5 µs whatever its size, about as much as
 * building the whole authorization URL (npm run bench). So the bytes are drawn 4 KiB at a time, each
 * byte is handed out once and then wiped, and the pool is drawn afresh — as Node's own randomUUID()
 * keeps a cache. Plain
 * `randomBytes(32).toString('base64url')` is just as correct, if you copy this file somewhere that
 * makes few sign-ins.
 */
function random32(): string {
  if (poolUsed + 32 > randomPool.length) {
    randomFillSync(randomPool);
    poolUsed = 0;
  }
  const value = randomPool.toString('base64url', poolUsed, poolUsed + 32);
  // Wiped once handed out: the pool keeps no copy of a state or verifier in use.
  randomPool.fill(0, poolUsed, poolUsed + 32);
  poolUsed += 32;
  return value;
}

// RFC 6749 §10.10: a guessable state is no protection; 128 bits is the floor we accept.
const MIN_STATE_LENGTH = 22; // 22 base64url characters carry 132 bits

// RFC 6749 §3.3: scope tokens are printable ASCII without space, quote or backslash.
export const SCOPE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

export interface AuthorizationParams {
  /**
   * Space-separated, e.g. "user_default offline_access". Qlik is not OpenID: no "openid". Empty:
   * no scope parameter, and Qlik grants the client's configured allow-list.
   */
  scope: string;
  state: string;
  codeChallenge: string;
  /** Qlik: `login` asks the user to sign in again (another account); `none` asks for no page at all. */
  prompt?: 'none' | 'login' | undefined;
  /** Qlik: pre-fills the sign-in page, e.g. an email address. */
  loginHint?: string | undefined;
  /** Qlik: the longest time in seconds since the user last signed in at the tenant. */
  maxAge?: number | undefined;
}

/**
 * RFC 6749 §4.1.1 with RFC 7636 §4.3: the URL the browser is sent to. A query already on the
 * authorization endpoint is kept (RFC 6749 §3.1).
 */
export function buildAuthorizationUrl(
  metadata: TenantMetadata,
  client: ClientConfig,
  params: AuthorizationParams,
): URL {
  if (params.state.length < MIN_STATE_LENGTH) {
    throw new ConfigurationError(
      'STATE_TOO_SHORT',
      `The state is ${params.state.length} characters; at least ${MIN_STATE_LENGTH} base64url characters (128 bits) are needed.`,
      'Use createState() to make the state.',
    );
  }
  // RFC 6749 §3.3: an empty scope is allowed (Qlik then grants the client's allow-list).
  if (params.scope !== '' && !SCOPE_PATTERN.test(params.scope)) {
    throw new ConfigurationError(
      'SCOPE_INVALID',
      `The scope ${JSON.stringify(params.scope.slice(0, 100))} is not a list of scope tokens separated by single spaces.`,
      'Give space-separated scopes, e.g. "user_default offline_access".',
      { settings: ['scope'] },
    );
  }
  // Qlik's authorize endpoint documents prompt as none or login, max_age as seconds.
  if (params.prompt !== undefined && params.prompt !== 'none' && params.prompt !== 'login') {
    throw new ConfigurationError('PROMPT_INVALID', `prompt ${JSON.stringify(String(params.prompt).slice(0, 40))} is not "none" or "login".`, 'Pass prompt "login" (sign in again) or "none", or leave it out.');
  }
  if (params.maxAge !== undefined && !(Number.isSafeInteger(params.maxAge) && params.maxAge >= 0)) {
    throw new ConfigurationError('PROMPT_INVALID', `max_age ${String(params.maxAge).slice(0, 40)} is not a whole number of seconds.`, 'Pass max_age as whole seconds, or leave it out.');
  }
  const url = new URL(metadata.authorizationEndpoint);
  // Built in one go: URLSearchParams.set() re-serialises the whole query at every call.
  const query = new URLSearchParams(url.search);
  query.set('response_type', 'code');
  query.set('client_id', client.clientId);
  query.set('redirect_uri', client.redirectUri);
  if (params.scope !== '') query.set('scope', params.scope);
  query.set('state', params.state);
  query.set('code_challenge', params.codeChallenge);
  // Qlik accepts only S256; "plain" would send the verifier itself (RFC 7636 §7.2).
  query.set('code_challenge_method', 'S256');
  if (params.prompt !== undefined) query.set('prompt', params.prompt);
  if (params.loginHint !== undefined && params.loginHint !== '') query.set('login_hint', params.loginHint);
  if (params.maxAge !== undefined) query.set('max_age', String(params.maxAge));
  url.search = query.toString();
  return url;
}
