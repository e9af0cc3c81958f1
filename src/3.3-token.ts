// Tutorial 3.3 — take the callback and exchange the code for tokens (openid-client's
// oauthCallback()), in three parts: validateCallback() — is this callback the answer to *our*
// request, from *our* tenant? — then exchangeCode(), then processTokenResponse().

import { timingSafeEqual } from 'node:crypto';
import { check, clip, defineChecks, quote, skip, type CheckObserver, type ErrorDetails } from './errors.ts';
import { parseJsonObject, type HttpOptions, type HttpResult } from './http.ts';
import { TenantError, parseErrorBody, parseRetryAfter, type TenantErrorBody } from './tenant-error.ts';
import type { TenantMetadata } from './3.1-discovery.ts';
import { clientPost, type ClientConfig } from './client.ts';

const AGAIN = 'Start the sign-in again from the app; do not edit or reuse the callback link.';
const MALFORMED = 'The tenant sent a malformed token response. Start the sign-in again; if it repeats, contact Qlik support.';
export const CALLBACK_CHECKS = defineChecks('3.3', {
  CALLBACK_TOO_LARGE: { rule: 'Robustness: every call is bounded', title: 'the callback has a sane number of parameters', hint: AGAIN },
  CALLBACK_PARAM_REPEATED: { rule: 'RFC 6749 §3.1', title: 'no callback parameter appears twice', hint: AGAIN },
  STATE_MISSING: { rule: 'RFC 6749 §4.1.2', title: 'the callback carries state', hint: `${AGAIN} If it keeps happening, the link did not come from the tenant.` },
  STATE_MISMATCH: { rule: 'RFC 6749 §10.12', title: 'the callback state equals the one this browser was sent with', hint: `${AGAIN} Finish it in the browser that started it.` },
  ISS_MISMATCH: { rule: 'RFC 9207 §2.4', title: 'a callback iss equals the tenant issuer', hint: 'Start the sign-in again. If it repeats, the callback is not from your tenant: check the tenant URL.', settings: ['tenantUrl'] },
  ISS_MISSING: { rule: 'RFC 9207 §2.4', title: 'the callback carries iss when the tenant says it sends it', hint: 'Start the sign-in again. If it repeats, the callback is not from your tenant.' },
  AUTHORIZATION_ERROR: { rule: 'RFC 6749 §4.1.2.1', title: 'the tenant sent a code, not an error', hint: 'Check the OAuth client in the tenant (Administration → OAuth: redirect URI, scopes), then start the sign-in again.', settings: ['clientId', 'redirectUri', 'scope'] },
  CODE_MISSING: { rule: 'RFC 6749 §4.1.2', title: 'the callback carries a code', hint: AGAIN },
});
export const TOKEN_CHECKS = defineChecks('3.3', {
  // Real tenants say only "Unauthorized" (OAUTH-5) for a bad secret, a used code, a wrong redirect URI and a failed PKCE check alike.
  TOKEN_ERROR_RESPONSE: { rule: 'RFC 6749 §5.2', title: 'the token endpoint answers with tokens, not an error', hint: 'Qlik answers this one error for several causes; check them in this order: (1) the client secret and client ID match the OAuth client at the tenant; (2) the redirect URI is registered exactly as this app sends it; (3) the sign-in was not finished twice or left for too long (codes are single-use and short-lived) — start it again; (4) the PKCE verifier matches the challenge (a bug in the app if not).', settings: ['clientSecret', 'clientId', 'redirectUri'] },
  TOKEN_UNEXPECTED_STATUS: { rule: 'RFC 6749 §5.1', title: 'the token endpoint answers 200', hint: 'The tenant answered something that is not a token response. Check the tenant URL, then start the sign-in again.', settings: ['tenantUrl'] },
  ACCESS_TOKEN_MISSING: { rule: 'RFC 6749 §5.1', title: 'access_token is a non-empty string', hint: 'Start the sign-in again. If it repeats, check the OAuth client at the tenant (Administration → OAuth).' },
  TOKEN_TYPE_NOT_BEARER: { rule: 'RFC 6749 §7.1', title: 'token_type is bearer (any letter case)', hint: 'This client only uses bearer tokens. Check that the tenant URL is a Qlik Cloud tenant.', settings: ['tenantUrl'] },
  EXPIRY_INVALID: { rule: 'RFC 6749 §5.1', title: 'expires_in / expires_at, when present, give a time in the future', hint: MALFORMED },
  TOKEN_FIELD_INVALID: { rule: 'RFC 6749 §5.1', title: 'refresh_token and scope, when present, are strings', hint: MALFORMED },
});
const C = { ...CALLBACK_CHECKS, ...TOKEN_CHECKS };

/** The state this browser was sent to the tenant with, and the tenant's issuer from discovery. */
export interface CallbackExpectations {
  expectedState: string;
  issuer: string;
  /** True when the tenant's metadata promises `iss` (authorization_response_iss_parameter_supported). */
  issRequired: boolean;
}

const MAX_CALLBACK_PARAMS = 32;

/**
 * RFC 6749 §4.1.2, RFC 9207 §2.4: checks the redirect back from the tenant and returns the code.
 * The order matters: nothing from the callback is believed, not even an error, before its state
 * proves it answers this browser's request.
 */
export function validateCallback(callbackUrl: URL | string, expected: CallbackExpectations, options: Pick<HttpOptions, 'onCheck'> = {}): { code: string } {
  const on = options.onCheck;
  const params = new URL(callbackUrl).searchParams;
  // No RFC: a callback has at most eight (code, state, iss, error and its four companions); thousands are an attack on the work below.
  check(C.CALLBACK_TOO_LARGE, params.size <= MAX_CALLBACK_PARAMS, () => `The callback carries ${params.size} parameters; a tenant sends at most ${MAX_CALLBACK_PARAMS}.`, on);
  // RFC 6749 §3.1: parameters MUST NOT appear twice. Two `state`s or two `code`s mean someone is
  // trying to get one value checked and another one used.
  const names = [...params.keys()];
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  check(C.CALLBACK_PARAM_REPEATED, repeated === undefined, () => `The callback carries the parameter ${quote(repeated)} more than once.`, on);
  // RFC 6749 §4.1.2: the tenant always returns our state; without it nothing ties this callback to
  // the sign-in this browser started.
  const state = params.get('state');
  check(C.STATE_MISSING, state, () => 'The callback has no state parameter.', on);
  // RFC 6749 §10.12, RFC 9700 §4.7: a state that is not ours means a forged callback (CSRF) or
  // someone else's sign-in. Compared in constant time: no timing reveals how much matched.
  check(C.STATE_MISMATCH, sameSecret(state, expected.expectedState), () => 'The callback state does not match the sign-in this browser started.', on);
  // RFC 9207 §2.4: a callback that names its issuer must name ours; another one means the code came
  // from another server (mix-up attack). Defence in depth for a one-tenant client (RFC 9700 §4.4.2).
  const iss = params.get('iss');
  if (iss === null) skip(C.ISS_MISMATCH, 'no iss came with this callback, so there was no issuer to compare', on);
  else check(C.ISS_MISMATCH, iss === expected.issuer, () => `The callback names issuer ${quote(iss)}, but this sign-in went to ${quote(expected.issuer)}.`, on);
  // RFC 9207 §2.4: a tenant that promises iss and omits it may be an impostor in a mix-up.
  if (!expected.issRequired) skip(C.ISS_MISSING, "the tenant's metadata does not promise iss (authorization_response_iss_parameter_supported)", on);
  else check(C.ISS_MISSING, iss !== null, () => 'The tenant says it always sends iss, but this callback has none.', on);
  // RFC 6749 §4.1.2.1: the tenant sent the user back with an error; Qlik adds error_code and error_detail.
  const error = params.get('error');
  if (error !== null) {
    const said = ['error_description', 'error_detail', 'error_code'].map((name) => params.get(name)).filter(Boolean).map((text) => clip(text!, 300)).join(' — ');
    const declined = error === 'access_denied' ? { hint: 'The sign-in was declined at the tenant. Start again and choose Allow to continue.', settings: [] } : {};
    throw new TenantError(C.AUTHORIZATION_ERROR, `The tenant refused the sign-in: ${clip(error)}${said ? ` (${said})` : ''}.`, { code: clip(error), message: said || undefined, traceId: undefined }, declined);
  }
  on?.(C.AUTHORIZATION_ERROR, true);
  // RFC 6749 §4.1.2: a successful answer carries the code.
  const code = params.get('code');
  check(C.CODE_MISSING, code, () => 'The callback has neither a code nor an error.', on);
  return { code };
}

/** Constant-time compare. Lengths are compared first (timingSafeEqual needs them equal): a state's length is no secret. */
function sameSecret(received: string, expected: string): boolean {
  const a = new TextEncoder().encode(received);
  const b = new TextEncoder().encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the token endpoint gave us, checked. Tokens are opaque on Qlik: never decode them. */
export interface TokenSet {
  accessToken: string;
  tokenType: 'bearer';
  /** Milliseconds since the epoch on OUR clock; undefined when the tenant gave no usable expiry. */
  expiresAt: number | undefined;
  /** How long the access token lives, in ms, as the tenant meant it (clock skew taken out). */
  lifetimeMs: number | undefined;
  /** Only when `offline_access` was requested and granted. */
  refreshToken: string | undefined;
  /** The scope granted, which may be narrower than the one requested (RFC 6749 §3.3). */
  scope: string | undefined;
}

/** RFC 6749 §4.1.3 with RFC 7636 §4.5: trades the code for tokens at the token endpoint. */
export async function exchangeCode(metadata: TenantMetadata, client: ClientConfig, params: { code: string; codeVerifier: string }, options: HttpOptions = {}): Promise<TokenSet> {
  const grant = {
    grant_type: 'authorization_code',
    code: params.code,
    // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
    redirect_uri: client.redirectUri,
    // RFC 7636 §4.5: proves we are the client that started this sign-in.
    code_verifier: params.codeVerifier,
  };
  const result = await clientPost(metadata, client, metadata.tokenEndpoint, grant, options);
  return processTokenResponse(result, Date.now(), options);
}

/** RFC 6749 §5.1, §5.2: checks a token endpoint response (for any grant: `action` says which) that arrived at `receivedAt` (ms, our clock). */
export function processTokenResponse(result: HttpResult, receivedAt: number, options: Pick<HttpOptions, 'onCheck'> = {}, action = 'exchange the code'): TokenSet {
  const on = options.onCheck;
  const got = { status: result.status };
  // RFC 6749 §5.2: an error answer (400, 401, …) carries an error body; Qlik uses its own shape.
  if (result.status >= 400) throw tokenErrorFrom(result, action);
  on?.(C.TOKEN_ERROR_RESPONSE, true);
  // RFC 6749 §5.1: success is 200 exactly; a 201 or 204 is not a token response.
  check(C.TOKEN_UNEXPECTED_STATUS, result.status === 200, () => `The token endpoint answered ${result.status}, expected 200.`, on, got);
  const body = parseJsonObject(result, 'The token response', on);
  // RFC 6749 §5.1: access_token is REQUIRED.
  check(C.ACCESS_TOKEN_MISSING, typeof body.access_token === 'string' && body.access_token !== '', () => 'The token response has no access_token.', on, got);
  // RFC 6749 §5.1: case insensitive, and Qlik sends "bearer". §7.1: a client must not use a token
  // type it does not understand (mac, DPoP need another way of sending the token).
  check(C.TOKEN_TYPE_NOT_BEARER, typeof body.token_type === 'string' && body.token_type.toLowerCase() === 'bearer', () => `The token response has token_type ${quote(body.token_type)}, expected "bearer".`, on, got);
  const lifetimeMs = readLifetime(body, result, receivedAt, on);
  // RFC 6749 §5.1: refresh_token and scope are optional strings.
  const odd = ['refresh_token', 'scope'].find((name) => body[name] !== undefined && typeof body[name] !== 'string');
  if (body.refresh_token === undefined && body.scope === undefined) skip(C.TOKEN_FIELD_INVALID, 'the response has neither refresh_token nor scope', on);
  else check(C.TOKEN_FIELD_INVALID, odd === undefined, () => `The token response's ${odd} is a ${typeof body[odd!]}, expected a string.`, on, got);
  return {
    accessToken: body.access_token as string,
    tokenType: 'bearer',
    expiresAt: lifetimeMs === undefined ? undefined : receivedAt + lifetimeMs,
    lifetimeMs,
    refreshToken: (body.refresh_token as string | undefined) || undefined,
    scope: body.scope as string | undefined,
  };
}

/** No expires_in is believed beyond a year: an absurd one (1e308) must not mean "never expires". */
const MAX_LIFETIME_MS = 365 * 24 * 3600 * 1000;

/**
 * How long the access token lives, in ms: RFC 6749 §5.1 `expires_in` (seconds; some servers send a
 * numeric string), or Qlik's documented `expires_at` (an ISO date) read against the TENANT's clock,
 * its `Date` header, so a local clock minutes off neither expires tokens early nor keeps dead ones.
 */
function readLifetime(body: Record<string, unknown>, result: HttpResult, receivedAt: number, on: CheckObserver | undefined): number | undefined {
  const got = { status: result.status };
  // expires_in is relative, so no clock skew can bend it: it wins when both come.
  if (body.expires_in !== undefined) {
    const raw = body.expires_in;
    const seconds = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,12}$/.test(raw) ? Number(raw) : NaN;
    // As golang/oauth2 reads it: 0 says nothing usable, and a 401 will tell.
    if (seconds === 0) {
      skip(C.EXPIRY_INVALID, 'expires_in is 0: no usable lifetime, so a 401 will tell when the token is dead', on);
      return undefined;
    }
    check(C.EXPIRY_INVALID, seconds > 0, () => `The token response's expires_in ${quote(raw)} is not a number of seconds.`, on, got);
    return Math.min(seconds * 1000, MAX_LIFETIME_MS);
  }
  if (body.expires_at === undefined) {
    skip(C.EXPIRY_INVALID, 'the response gives neither expires_in nor expires_at', on);
    return undefined;
  }
  const at = typeof body.expires_at === 'string' ? Date.parse(body.expires_at) : NaN;
  // RFC 9110 §6.6.1: the Date header is the tenant's clock; a skew under 2 s is its own rounding.
  const offset = Date.parse(result.headers.get('date') ?? '') - receivedAt;
  const tenantNow = receivedAt + (Math.abs(offset) >= 2_000 ? offset : 0);
  check(C.EXPIRY_INVALID, at > tenantNow, () => `The token response's expires_at ${quote(body.expires_at)} is not a date in the future (the tenant's clock says ${new Date(tenantNow).toISOString()}).`, on, got);
  return at - tenantNow;
}

/** The error for a refused token request (RFC 6749 §5.2, or Qlik's shape), with its traceId in the message: Qlik support asks for it. */
export function tokenErrorFrom(result: HttpResult, doing: string): TenantError {
  const tenantError = parseErrorBody(result);
  const said = tenantError ? `${tenantError.code ?? 'error'}${tenantError.message ? `: ${tenantError.message}` : ''}` : 'no error details';
  const traceId = tenantError?.traceId ? `, traceId ${tenantError.traceId}` : '';
  const retryAfter = result.status === 429 ? (parseRetryAfter(result.headers.get('retry-after'), Date.now()) ?? 60) : undefined;
  const message = `The tenant refused to ${doing} (HTTP ${result.status}, ${clip(said, 300)}${traceId}).`;
  return new TenantError(C.TOKEN_ERROR_RESPONSE, message, tenantError, { status: result.status, retryAfter, ...whatToDo(result.status, tenantError, retryAfter) });
}

/** What a refusal means at Qlik when the tenant says more than "Unauthorized" (the catalogue's hint). */
function whatToDo(status: number, said: TenantErrorBody | undefined, retryAfter: number | undefined): ErrorDetails {
  if (status === 429) return { hint: `Qlik asks us to wait ${retryAfter} s (its limit: 100 token requests a minute per user). Try again after that.`, settings: [] };
  // RFC 6749 §5.2 invalid_client, or a tenant that names the secret: only the client is in doubt.
  if (said?.code === 'invalid_client' || /client_secret|client credentials/i.test(`${said?.code} ${said?.message}`)) {
    return { hint: 'Check the client ID and client secret against the OAuth client at the tenant (or its private key), then start the sign-in again.', settings: ['clientId', 'clientSecret'] };
  }
  // RFC 6749 §5.2 invalid_grant: the code (or refresh token) itself, not the client.
  if (said?.code === 'invalid_grant') return { hint: 'The tenant refused the code or refresh token: used already, expired, or issued for another redirect URI. Start the sign-in again.', settings: ['redirectUri'] };
  // RFC 6749 §5.2 invalid_scope: the scope asked for, not the client or the code.
  if (said?.code === 'invalid_scope') return { hint: 'The tenant refused the scope asked for. Check it against the scopes of the OAuth client at the tenant.', settings: ['scope'] };
  if (status === 403) return { hint: 'The tenant refused this user or client: the user may be disabled, or the token limit for this user or client is reached. Ask a tenant admin.', settings: [] };
  if (status >= 500) return { hint: 'The tenant had a problem. Try again in a moment; if it persists, give Qlik support the traceId.', settings: [] };
  // Qlik's terse 401 gets the catalogue's hint; any other refusal (unsupported_grant_type, a 404) the general one.
  return status === 401 ? {} : { hint: 'Start the sign-in again. If it repeats, check the OAuth client (redirect URI, scopes) at the tenant.', settings: ['redirectUri', 'scope'] };
}
