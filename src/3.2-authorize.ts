// Tutorial 3.2 — send the user to the tenant to sign in.
//
// The tutorial calls openid-client's generators and client.authorizationUrl(). By hand that is:
// make a PKCE verifier and its S256 challenge, make a state, and put them in the URL of the
// tenant's authorization endpoint. The verifier and state stay with this client (the app seals
// them in a cookie for this browser); only the challenge and the state travel.

import { createHash, randomBytes } from 'node:crypto';
import { check, defineChecks } from './errors.ts';
import type { TenantMetadata } from './3.1-discovery.ts';
import type { ClientConfig } from './client.ts';

export const AUTHORIZE_CHECKS = defineChecks('3.2', {
  VERIFIER_INVALID: { rule: 'RFC 7636 §4.1', title: 'the code verifier is 43–128 unreserved characters', hint: 'Let createCodeVerifier() make the verifier, or pass one that follows RFC 7636 §4.1.', configuration: true },
  STATE_TOO_SHORT: { rule: 'RFC 6749 §10.10', title: 'the state is long enough to carry 128 bits', hint: 'Use createState() to make the state.', configuration: true },
  SCOPE_INVALID: { rule: 'RFC 6749 §3.3', title: 'the scope is a space-separated list of scope tokens', hint: 'Give space-separated scopes, e.g. "user_default offline_access".', settings: ['scope'], configuration: true },
  PROMPT_INVALID: { rule: 'Qlik: authorize prompt, login_hint, max_age', title: 'prompt, login_hint and max_age, when given, are values Qlik documents', hint: 'Pass prompt "login", "consent" or "none" and max_age as whole seconds, or leave them out.', configuration: true },
});
const C = AUTHORIZE_CHECKS;

// RFC 7636 §4.1: the verifier is 43–128 characters of [A-Z] [a-z] [0-9] - . _ ~
const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;
// RFC 6749 §3.3: scope tokens are printable ASCII without space, quote or backslash, one space apart.
export const SCOPE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;
// RFC 6749 §10.10: a guessable state is no protection; 22 base64url characters carry 132 bits.
const MIN_STATE_LENGTH = 22;

/**
 * RFC 7636 §4.1: a high-entropy code verifier — 32 random bytes, base64url, 43 characters.
 * A verifier passed in (to reproduce a run, say) is checked against §4.1 and returned.
 */
export function createCodeVerifier(given?: string): string {
  if (given === undefined) return randomBytes(32).toString('base64url');
  // RFC 7636 §4.1: a shorter or odd verifier is refused by the tenant, or is guessable.
  check(C.VERIFIER_INVALID, VERIFIER_PATTERN.test(given), () => `The code verifier must be 43–128 characters of A-Z a-z 0-9 - . _ ~; this one is ${given.length} characters${/[^A-Za-z0-9\-._~]/.test(given) ? ' with other characters' : ''}.`);
  return given;
}

/** RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))), method S256. */
export function codeChallengeS256(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier).digest('base64url');
}

/**
 * RFC 6749 §10.12, RFC 9700 §4.7.1: an unguessable state — 32 random bytes (256 bits), base64url —
 * that ties the callback to this browser's sign-in and stops cross-site request forgery.
 */
export function createState(): string {
  return randomBytes(32).toString('base64url');
}

export interface AuthorizationParams {
  /** Space-separated, e.g. "user_default offline_access"; Qlik requires one. Qlik is not OpenID: no "openid". */
  scope: string;
  state: string;
  codeChallenge: string;
  /** Qlik: `login` asks the user to sign in again (another account); `none` asks for no page at all. */
  prompt?: 'none' | 'login' | 'consent' | undefined;
  /** Qlik: pre-fills the sign-in page, e.g. an email address. */
  loginHint?: string | undefined;
  /** Qlik: the longest time in seconds since the user last signed in at the tenant. */
  maxAge?: number | undefined;
}

/**
 * RFC 6749 §4.1.1 with RFC 7636 §4.3: the URL the browser is sent to. A query already on the
 * authorization endpoint is kept (RFC 6749 §3.1).
 */
export function buildAuthorizationUrl(metadata: TenantMetadata, client: ClientConfig, params: AuthorizationParams): URL {
  check(C.STATE_TOO_SHORT, params.state.length >= MIN_STATE_LENGTH, () => `The state is ${params.state.length} characters; at least ${MIN_STATE_LENGTH} base64url characters (128 bits) are needed.`);
  // RFC 6749 §3.3, and Qlik: scope is required at /oauth/authorize.
  check(C.SCOPE_INVALID, SCOPE_PATTERN.test(params.scope), () => `The scope ${JSON.stringify(params.scope.slice(0, 100))} is not a list of scope tokens separated by single spaces${params.scope === '' ? ' (Qlik requires a scope to sign in)' : ''}.`);
  // Qlik's authorize endpoint documents prompt as none, login (and, in one version, consent), max_age as seconds.
  check(C.PROMPT_INVALID, params.prompt === undefined || ['none', 'login', 'consent'].includes(params.prompt), () => `prompt ${JSON.stringify(String(params.prompt).slice(0, 40))} is not "none", "login" or "consent".`);
  check(C.PROMPT_INVALID, params.maxAge === undefined || (Number.isSafeInteger(params.maxAge) && params.maxAge >= 0), () => `max_age ${String(params.maxAge).slice(0, 40)} is not a whole number of seconds.`);
  const url = new URL(metadata.authorizationEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client.clientId);
  url.searchParams.set('redirect_uri', client.redirectUri);
  url.searchParams.set('scope', params.scope);
  url.searchParams.set('state', params.state);
  url.searchParams.set('code_challenge', params.codeChallenge);
  // Qlik accepts only S256; "plain" would send the verifier itself (RFC 7636 §7.2).
  url.searchParams.set('code_challenge_method', 'S256');
  if (params.prompt !== undefined) url.searchParams.set('prompt', params.prompt);
  if (params.loginHint) url.searchParams.set('login_hint', params.loginHint);
  if (params.maxAge !== undefined) url.searchParams.set('max_age', String(params.maxAge));
  return url;
}
