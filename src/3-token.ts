// Tutorial 3.3 — take the callback and exchange the code for tokens.
//
// The tutorial calls openid-client's client.oauthCallback(). By hand that is three parts, in the
// order docs/3.3-token.md reads them:
//   validateCallback()      — is this callback the answer to *our* request, from *our* tenant?
//   exchangeCode()          — POST the code, the PKCE verifier and the client's credentials to the
//                             token endpoint (requestTokens(), shared with every other grant);
//   processTokenResponse()  — check the tokens that come back.

import { timingSafeEqual } from 'node:crypto';
import { AuthorizationError, CallbackError, TokenError, clip, quote, reportPassed, type CheckCode, type Setting } from './errors.ts';
import { httpRequest, parseErrorBody, parseJsonObject, parseRetryAfter, tenantClockOffset, type HttpOptions, type HttpResult } from './http.ts';
import type { TenantMetadata } from './1-discovery.ts';
import { clientAuthentication, type ClientConfig, type ClientCredentials } from './client.ts';

export interface CallbackExpectations {
  /** The state this browser was sent to the tenant with (kept server-side, per session). */
  expectedState: string;
  /** The tenant's issuer, from discovery. */
  issuer: string;
  /** True when the tenant's metadata promises `iss` (authorization_response_iss_parameter_supported). */
  issRequired: boolean;
}

/** The checks validateCallback() makes, in order. */
export const CALLBACK_CHECKS: readonly CheckCode[] = [
  'CALLBACK_TOO_LARGE',
  'CALLBACK_PARAM_REPEATED',
  'STATE_MISSING',
  'STATE_MISMATCH',
  'ISS_MISMATCH',
  'ISS_MISSING',
  'AUTHORIZATION_ERROR',
  'CODE_MISSING',
];

/**
 * RFC 6749 §4.1.2, RFC 9207 §2.4: checks the redirect back from the tenant and returns the code.
 * The order matters: nothing from the callback is believed, not even an error, before its state
 * proves it answers this browser's request.
 */
export function validateCallback(
  callbackUrl: URL | string,
  expected: CallbackExpectations,
  options: Pick<HttpOptions, 'onCheck'> = {},
): { code: string } {
  const params = new URL(callbackUrl).searchParams;

  // No RFC: a tenant's callback has at most a dozen parameters. Thousands are an attack on the
  // work below, and are refused before any of it.
  if (params.size > MAX_CALLBACK_PARAMS) {
    throw new CallbackError(
      'CALLBACK_TOO_LARGE',
      `The callback carries ${params.size} parameters; a tenant sends at most ${MAX_CALLBACK_PARAMS}.`,
      'Start the sign-in again from the app; do not edit the callback link.',
    );
  }
  // RFC 6749 §3.1: parameters MUST NOT appear twice. Two `state`s or two `code`s mean someone is
  // trying to get one value checked and another one used. One pass over the parameters.
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name)) {
      throw new CallbackError(
        'CALLBACK_PARAM_REPEATED',
        `The callback carries the parameter ${quote(name)} more than once.`,
        'Start the sign-in again from the app; do not edit the callback link.',
      );
    }
    seen.add(name);
  }

  // RFC 6749 §4.1.2: the tenant always returns our state. Without it there is nothing to tie this
  // callback to the sign-in this browser started.
  const state = params.get('state');
  if (state === null || state === '') {
    throw new CallbackError(
      'STATE_MISSING',
      'The callback has no state parameter.',
      'Start the sign-in again from the app. If it keeps happening, the link did not come from the tenant.',
    );
  }
  // RFC 6749 §10.12, RFC 9700 §4.7: a state that is not ours means a forged callback (CSRF) or
  // someone else's sign-in. Compared in constant time so no timing reveals how much matched.
  if (!sameSecret(state, expected.expectedState)) {
    throw new CallbackError(
      'STATE_MISMATCH',
      'The callback state does not match the sign-in this browser started.',
      'Start the sign-in again from the app, in the same browser. Do not reuse or share callback links.',
    );
  }

  // RFC 9207 §2.4: when the tenant names itself, it must be our tenant. A different issuer means
  // the code came from another server (mix-up attack) and must not be sent to our token endpoint.
  // For a client of one tenant this is defence in depth (RFC 9700 §4.4.2): mix-up needs two.
  const iss = params.get('iss');
  if (iss !== null && iss !== expected.issuer) {
    throw new CallbackError(
      'ISS_MISMATCH',
      `The callback names issuer ${quote(iss)}, but this sign-in went to ${JSON.stringify(expected.issuer)}.`,
      'Start the sign-in again. If it repeats, the callback is not from your tenant: check the tenant URL.',
      { settings: ['tenantUrl'] },
    );
  }
  // RFC 9207 §2.4: a tenant that promises iss and omits it may be an impostor in a mix-up.
  if (iss === null && expected.issRequired) {
    throw new CallbackError(
      'ISS_MISSING',
      'The tenant says it always sends iss, but this callback has none.',
      'Start the sign-in again. If it repeats, the callback is not from your tenant.',
    );
  }

  // RFC 6749 §4.1.2.1: the tenant sends the user back with an error (e.g. access_denied).
  // Qlik adds error_code and error_detail to the standard fields.
  const error = params.get('error');
  if (error !== null) {
    throw new AuthorizationError({
      error,
      errorDescription: params.get('error_description') ?? undefined,
      errorUri: params.get('error_uri') ?? undefined,
      qlikErrorCode: params.get('error_code') ?? undefined,
      qlikErrorDetail: params.get('error_detail') ?? undefined,
    });
  }

  // RFC 6749 §4.1.2: a successful answer carries the code.
  const code = params.get('code');
  if (code === null || code === '') {
    throw new CallbackError(
      'CODE_MISSING',
      'The callback has neither a code nor an error.',
      'Start the sign-in again from the app.',
    );
  }

  // For the transcript: the iss checks had nothing to look at when no iss came / none was promised.
  reportPassed(options.onCheck, CALLBACK_CHECKS, {
    ...(iss === null ? { ISS_MISMATCH: 'no iss came with this callback, so there was no issuer to compare' } : {}),
    ...(!expected.issRequired ? { ISS_MISSING: "the tenant's metadata does not promise iss (authorization_response_iss_parameter_supported)" } : {}),
  });
  return { code };
}

/** More parameters than any tenant's callback has (code, state, iss, error and its four companions). */
const MAX_CALLBACK_PARAMS = 32;

/**
 * Compares two secrets in constant time, so no timing tells a forger how much of a state matched.
 * Only the lengths are compared first (timingSafeEqual needs them equal): a length is no secret —
 * every state createState() makes is 43 characters, and it travelled in the authorization URL.
 */
function sameSecret(received: string, expected: string): boolean {
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the token endpoint gave us, checked. Tokens are opaque on Qlik: never decode them. */
export interface TokenSet {
  accessToken: string;
  tokenType: 'bearer';
  /** Milliseconds since the epoch on OUR clock; undefined when the tenant gave no expiry. */
  expiresAt: number | undefined;
  /** How long the access token lives, in ms, as the tenant meant it (clock skew taken out). */
  lifetimeMs: number | undefined;
  /** Only when `offline_access` was requested and granted. */
  refreshToken: string | undefined;
  /** The scope granted, which may be narrower than the one requested (RFC 6749 §3.3). */
  scope: string | undefined;
}

/**
 * RFC 6749 §4.1.3 with RFC 7636 §4.5: trades the code for tokens at the token endpoint.
 *
 * The client authenticates as src/client.ts says: client_secret_post by default (the tutorial's
 * and Qlik's docs'), client_secret_basic (RFC 6749 §2.3.1, the method servers MUST support), or
 * none for a public client. The secret is never put in a URL.
 */
export async function exchangeCode(
  metadata: TenantMetadata,
  client: ClientConfig,
  params: { code: string; codeVerifier: string },
  options: HttpOptions = {},
): Promise<TokenSet> {
  return requestTokens(
    metadata,
    client,
    {
      grant_type: 'authorization_code',
      code: params.code,
      // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
      redirect_uri: client.redirectUri,
      // RFC 7636 §4.5: proves we are the client that started this sign-in.
      code_verifier: params.codeVerifier,
    },
    options,
  );
}

/**
 * RFC 6749 §3.2: one request to the token endpoint, for any grant (a code here; a refresh token in
 * 5-lifecycle.ts; client credentials and impersonation in 6-machine.ts), with the client's
 * authentication added, and its answer checked by processTokenResponse().
 *
 * The body is a form (RFC 6749 §4.1.3, what the tutorial sends) unless `format` is 'json': Qlik
 * accepts JSON too, and documents it for impersonation, whose `user_lookup` is an object that a
 * form cannot carry. A nested object in a form body is a programming error, refused before sending.
 */
export async function requestTokens(
  metadata: TenantMetadata,
  client: ClientCredentials,
  grant: Record<string, string | Record<string, string>>,
  options: HttpOptions = {},
  action = 'exchange the code',
  format: 'form' | 'json' = 'form',
): Promise<TokenSet> {
  const auth = clientAuthentication(client, metadata.tokenEndpointAuthMethods);
  const fields = { ...grant, ...auth.fields };
  let body: string;
  if (format === 'json') {
    body = JSON.stringify(fields);
  } else {
    const nested = Object.keys(fields).find((name) => typeof fields[name] !== 'string');
    if (nested !== undefined) throw new TypeError(`The token request field "${nested}" is an object; send it with format 'json'.`);
    body = new URLSearchParams(fields as Record<string, string>).toString();
  }
  const result = await httpRequest(
    {
      method: 'POST',
      url: metadata.tokenEndpoint,
      issuer: metadata.issuer,
      headers: { 'content-type': format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded', ...auth.headers },
      body,
    },
    options,
  );
  return processTokenResponse(result, Date.now(), options, action);
}

/** The checks processTokenResponse() makes, in order. */
export const TOKEN_CHECKS: readonly CheckCode[] = [
  'TOKEN_ERROR_RESPONSE',
  'TOKEN_UNEXPECTED_STATUS',
  'NOT_JSON',
  'JSON_INVALID',
  'JSON_NOT_OBJECT',
  'ACCESS_TOKEN_MISSING',
  'TOKEN_TYPE_NOT_BEARER',
  'EXPIRY_INVALID',
  'TOKEN_FIELD_INVALID',
];

/**
 * RFC 6749 §5.1, §5.2: checks a token endpoint response. `receivedAt` is when it arrived, in ms on
 * our clock; `action` says what was asked, for the error message.
 */
export function processTokenResponse(
  result: HttpResult,
  receivedAt: number,
  options: Pick<HttpOptions, 'onCheck'> = {},
  action = 'exchange the code',
): TokenSet {
  // RFC 6749 §5.2: an error answer (400, 401, …) carries an error body; Qlik uses its own shape.
  if (result.status >= 400) throw tokenErrorFrom(result, action);
  // RFC 6749 §5.1: success is 200 exactly. A 201 or 204 is not a token response.
  if (result.status !== 200) {
    throw new TokenError(
      'TOKEN_UNEXPECTED_STATUS',
      `The token endpoint answered ${result.status}, expected 200.`,
      'The tenant answered something that is not a token response. Check the tenant URL, then start the sign-in again.',
      { status: result.status, settings: ['tenantUrl'] },
    );
  }
  const body = parseJsonObject(result, 'The token response');

  // RFC 6749 §5.1: access_token is REQUIRED.
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new TokenError(
      'ACCESS_TOKEN_MISSING',
      'The token response has no access_token.',
      'Start the sign-in again. If it repeats, check the OAuth client at the tenant (Administration → OAuth).',
      { status: result.status },
    );
  }
  // RFC 6749 §5.1: the value is case insensitive, and Qlik sends "bearer". §7.1: a client must not
  // use a token type it does not understand (mac, DPoP need another way of sending the token).
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
    throw new TokenError(
      'TOKEN_TYPE_NOT_BEARER',
      `The token response has token_type ${quote(body.token_type)}, expected "bearer".`,
      'This client only uses bearer tokens. Check that the tenant URL is a Qlik Cloud tenant.',
      { status: result.status, settings: ['tenantUrl'] },
    );
  }
  const lifetimeMs = readLifetime(body, result, receivedAt);
  // RFC 6749 §5.1: refresh_token and scope are optional strings.
  for (const name of ['refresh_token', 'scope'] as const) {
    if (body[name] !== undefined && typeof body[name] !== 'string') {
      throw new TokenError(
        'TOKEN_FIELD_INVALID',
        `The token response's ${name} is a ${typeof body[name]}, expected a string.`,
        'The tenant sent a malformed token response. Start the sign-in again; if it repeats, contact Qlik support.',
        { status: result.status },
      );
    }
  }

  // For the transcript: the "when present" checks had nothing to look at when the fields were absent.
  reportPassed(options.onCheck, TOKEN_CHECKS, {
    ...(lifetimeMs === undefined ? { EXPIRY_INVALID: 'the response gives neither expires_in nor expires_at' } : {}),
    ...(body.refresh_token === undefined && body.scope === undefined ? { TOKEN_FIELD_INVALID: 'the response has neither refresh_token nor scope' } : {}),
  });
  return {
    accessToken: body.access_token,
    tokenType: 'bearer',
    expiresAt: lifetimeMs === undefined ? undefined : receivedAt + lifetimeMs,
    lifetimeMs,
    refreshToken: (body.refresh_token as string | undefined) || undefined,
    scope: body.scope as string | undefined,
  };
}

/**
 * How long the access token lives, in ms: RFC 6749 §5.1 `expires_in` (seconds; some servers send a
 * numeric string), or Qlik's `expires_at` (an ISO date, what the reference documents) read against
 * the TENANT's clock — its `Date` header — so that a local clock minutes fast or slow neither
 * expires tokens early nor keeps using dead ones. Either must be in the future; neither: unknown.
 */
function readLifetime(body: Record<string, unknown>, result: HttpResult, receivedAt: number): number | undefined {
  // expires_in is relative, so no clock skew can bend it: it wins when both come.
  if (body.expires_in !== undefined) {
    const raw = body.expires_in;
    const seconds = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,12}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw expiryInvalid(`expires_in ${quote(raw)} is not a positive number of seconds`, result);
    }
    return seconds * 1000;
  }
  if (body.expires_at !== undefined) {
    const at = typeof body.expires_at === 'string' ? Date.parse(body.expires_at) : NaN;
    // The tenant's clock; a skew under 2 s is the Date header's own rounding, not a skew.
    const offset = tenantClockOffset(result, receivedAt);
    const tenantNow = receivedAt + (Math.abs(offset) < 2_000 ? 0 : offset);
    if (!Number.isFinite(at) || at <= tenantNow) {
      throw expiryInvalid(`expires_at ${quote(body.expires_at)} is not a date in the future (the tenant's clock says ${new Date(tenantNow).toISOString()})`, result);
    }
    return at - tenantNow;
  }
  return undefined;
}

/** RFC 6749 §5.1: the error for an expiry that cannot be used. */
function expiryInvalid(what: string, result: HttpResult): TokenError {
  return new TokenError(
    'EXPIRY_INVALID',
    `The token response's ${what}.`,
    'The tenant sent a malformed expiry. Start the sign-in again; if it repeats, contact Qlik support.',
    { status: result.status },
  );
}

/**
 * Builds the error for a failed token endpoint call from either error shape, or from none, with a
 * hint for what the status means at Qlik. Real tenants say only "Unauthorized" (OAUTH-5) for a bad
 * secret, a used code, a wrong redirect URI and a failed PKCE check alike, so the 401 hint lists
 * those in the order to check them. `traceId` goes in the message: Qlik support asks for it.
 */
export function tokenErrorFrom(result: HttpResult, doing: string): TokenError {
  const tenantError = parseErrorBody(result);
  const said = tenantError
    ? `${tenantError.code ?? 'error'}${tenantError.message ? `: ${tenantError.message}` : ''}`
    : 'no error details';
  const traceId = tenantError?.traceId ? `, traceId ${tenantError.traceId}` : '';
  const retryAfter = result.status === 429 ? (parseRetryAfter(result.headers.get('retry-after'), Date.now()) ?? 60) : undefined;
  const words = `${tenantError?.code ?? ''} ${tenantError?.message ?? ''}`;
  let hint: string;
  let settings: Setting[] = [];
  if (result.status === 429) {
    hint = `Qlik asks us to wait ${retryAfter} s (its limit: 100 token requests a minute per user). Try again after that.`;
  } else if (tenantError?.code === 'invalid_client' || /client_secret|client credentials/i.test(words)) {
    // RFC 6749 §5.2 invalid_client, or a tenant that names the secret: only the client is in doubt.
    hint = 'Check the client ID and client secret against the OAuth client at the tenant, then start the sign-in again.';
    settings = ['clientId', 'clientSecret'];
  } else if (tenantError?.code === 'invalid_grant') {
    // RFC 6749 §5.2 invalid_grant: the code (or refresh token) itself, not the client.
    hint = 'The tenant refused the code or refresh token: used already, expired, or issued for another redirect URI. Start the sign-in again.';
    settings = ['redirectUri'];
  } else if (result.status === 401) {
    hint =
      'Qlik answers this one error for several causes; check them in this order: (1) the client secret and client ID match the OAuth client at the tenant; ' +
      '(2) the redirect URI is registered exactly as this app sends it; (3) the sign-in was not finished twice or left for too long (codes are single-use and short-lived) — start it again; ' +
      '(4) the PKCE verifier matches the challenge (a bug in the app if not).';
    settings = ['clientSecret', 'clientId', 'redirectUri'];
  } else if (result.status === 403) {
    hint = 'The tenant refused this user or client: the user may be disabled, or the token limit for this user or client is reached. Ask a tenant admin.';
  } else if (result.status >= 500) {
    hint = 'The tenant had a problem. Try again in a moment; if it persists, give Qlik support the traceId.';
  } else {
    hint = 'Start the sign-in again. If it repeats, check the OAuth client (redirect URI, scopes) at the tenant.';
    settings = ['redirectUri', 'scope'];
  }
  return new TokenError(
    'TOKEN_ERROR_RESPONSE',
    `The tenant refused to ${doing} (HTTP ${result.status}, ${clip(said, 300)}${traceId}).`,
    hint,
    { status: result.status, tenantError, retryAfter, settings },
  );
}
