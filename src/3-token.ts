// Tutorial 3.3 — take the callback and exchange the code for tokens.
//
// The tutorial calls openid-client's client.callback(). By hand that is two halves:
//   validateCallback() — is this callback the answer to *our* request, from *our* tenant?
//   exchangeCode()     — POST the code, the PKCE verifier and the client secret to the token
//                        endpoint, and check the tokens that come back.

import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthorizationError, CallbackError, TokenError, quote, reportPassed, type CheckCode } from './errors.ts';
import { httpRequest, parseErrorBody, parseJsonObject, type HttpOptions, type HttpResult } from './http.ts';
import type { TenantMetadata } from './1-discovery.ts';
import type { ClientConfig } from './2-authorize.ts';

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

  // RFC 6749 §3.1: parameters MUST NOT appear twice. Two `state`s or two `code`s mean someone is
  // trying to get one value checked and another one used.
  for (const name of new Set(params.keys())) {
    if (params.getAll(name).length > 1) {
      throw new CallbackError(
        'CALLBACK_PARAM_REPEATED',
        `The callback carries the parameter "${name}" more than once.`,
        'Start the sign-in again from the app; do not edit the callback link.',
      );
    }
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
  const iss = params.get('iss');
  if (iss !== null && iss !== expected.issuer) {
    throw new CallbackError(
      'ISS_MISMATCH',
      `The callback names issuer ${quote(iss)}, but this sign-in went to ${JSON.stringify(expected.issuer)}.`,
      'Start the sign-in again. If it repeats, the callback is not from your tenant: check QLIK_TENANT_URL.',
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

  reportPassed(options.onCheck, CALLBACK_CHECKS);
  return { code };
}

/** Compares two secrets in constant time. Hashing first makes the lengths equal, and hides them. */
function sameSecret(received: string, expected: string): boolean {
  const hash = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(hash(received), hash(expected));
}

/** What the token endpoint gave us, checked. Tokens are opaque on Qlik: never decode them. */
export interface TokenSet {
  accessToken: string;
  tokenType: 'bearer';
  /** Milliseconds since the epoch; undefined when the tenant gave no expiry. */
  expiresAt: number | undefined;
  /** Only when `offline_access` was requested and granted. */
  refreshToken: string | undefined;
  /** The scope granted, which may be narrower than the one requested (RFC 6749 §3.3). */
  scope: string | undefined;
}

/**
 * RFC 6749 §4.1.3 with RFC 7636 §4.5: trades the code for tokens at the token endpoint.
 *
 * The client authenticates with client_secret_post: client_id and client_secret in the form body.
 * RFC 6749 §2.3.1 prefers HTTP Basic and lets servers support the body form too; Qlik's
 * documentation and the tutorial use the body form, so we do. The secret is never put in a URL.
 */
export async function exchangeCode(
  metadata: TenantMetadata,
  client: ClientConfig,
  params: { code: string; codeVerifier: string },
  options: HttpOptions = {},
): Promise<TokenSet> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: params.code,
    // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
    redirect_uri: client.redirectUri,
    // RFC 7636 §4.5: proves we are the client that started this sign-in.
    code_verifier: params.codeVerifier,
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });
  const result = await postForm(metadata.tokenEndpoint, form, options);
  return processTokenResponse(result, Date.now(), options);
}

/**
 * RFC 6749 §6: trades a refresh token for a new access token. When the tenant sends a new
 * refresh token it replaces the old one; when it sends none, the old one stays valid and is kept.
 */
export async function refreshTokens(
  metadata: TenantMetadata,
  client: ClientConfig,
  refreshToken: string,
  options: HttpOptions = {},
): Promise<TokenSet> {
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });
  const result = await postForm(metadata.tokenEndpoint, form, options);
  const tokens = processTokenResponse(result, Date.now(), options, 'refresh the token');
  return { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken };
}

/**
 * RFC 7009 §2.1: asks the tenant to revoke a token (Qlik: POST /oauth/revoke). Per §2.2 the
 * tenant answers 200 even for a token it does not know, so any 200 is success.
 */
export async function revokeToken(
  metadata: TenantMetadata,
  client: ClientConfig,
  token: { token: string; hint: 'refresh_token' | 'access_token' },
  options: HttpOptions = {},
): Promise<void> {
  const endpoint = metadata.revocationEndpoint ?? `${metadata.issuer}/oauth/revoke`;
  const form = new URLSearchParams({
    token: token.token,
    token_type_hint: token.hint,
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });
  const result = await postForm(endpoint, form, options);
  if (result.status !== 200) throw tokenErrorFrom(result, 'revoke the token');
}

function postForm(url: string, form: URLSearchParams, options: HttpOptions): Promise<HttpResult> {
  return httpRequest(
    {
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    },
    options,
  );
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
 * RFC 6749 §5.1, §5.2: checks a token endpoint response. `now` is in ms, for expires_in; `action`
 * says what was asked, for the error message.
 */
export function processTokenResponse(
  result: HttpResult,
  now: number,
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
      'The tenant answered something that is not a token response. Check QLIK_TENANT_URL, then start the sign-in again.',
      result.status,
    );
  }
  const body = parseJsonObject(result, 'The token response');

  // RFC 6749 §5.1: access_token is REQUIRED.
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new TokenError(
      'ACCESS_TOKEN_MISSING',
      'The token response has no access_token.',
      'Start the sign-in again. If it repeats, check the OAuth client in the Qlik Management Console.',
      result.status,
    );
  }
  // RFC 6749 §5.1: the value is case insensitive, and Qlik sends "bearer". §7.1: a client must not
  // use a token type it does not understand (mac, DPoP need another way of sending the token).
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
    throw new TokenError(
      'TOKEN_TYPE_NOT_BEARER',
      `The token response has token_type ${quote(body.token_type)}, expected "bearer".`,
      'This client only uses bearer tokens. Check that QLIK_TENANT_URL is a Qlik Cloud tenant.',
      result.status,
    );
  }
  const expiresAt = readExpiry(body, now, result.status);
  // RFC 6749 §5.1: refresh_token and scope are optional strings.
  for (const name of ['refresh_token', 'scope'] as const) {
    if (body[name] !== undefined && typeof body[name] !== 'string') {
      throw new TokenError(
        'TOKEN_FIELD_INVALID',
        `The token response's ${name} is a ${typeof body[name]}, expected a string.`,
        'The tenant sent a malformed token response. Start the sign-in again; if it repeats, contact Qlik support.',
        result.status,
      );
    }
  }

  reportPassed(options.onCheck, TOKEN_CHECKS);
  return {
    accessToken: body.access_token,
    tokenType: 'bearer',
    expiresAt,
    refreshToken: (body.refresh_token as string | undefined) || undefined,
    scope: body.scope as string | undefined,
  };
}

/**
 * RFC 6749 §5.1 `expires_in` (seconds; some servers send a numeric string) or Qlik's `expires_at`
 * (an ISO date). Either must give a time in the future; neither means "unknown".
 */
function readExpiry(body: Record<string, unknown>, now: number, status: number): number | undefined {
  const invalid = (what: string) =>
    new TokenError(
      'EXPIRY_INVALID',
      `The token response's ${what}.`,
      'The tenant sent a malformed expiry. Start the sign-in again; if it repeats, contact Qlik support.',
      status,
    );
  let fromExpiresIn: number | undefined;
  let fromExpiresAt: number | undefined;
  if (body.expires_in !== undefined) {
    const raw = body.expires_in;
    const seconds = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw invalid(`expires_in ${quote(raw)} is not a positive number of seconds`);
    }
    fromExpiresIn = now + seconds * 1000;
  }
  if (body.expires_at !== undefined) {
    const at = typeof body.expires_at === 'string' ? Date.parse(body.expires_at) : NaN;
    if (!Number.isFinite(at) || at <= now) {
      throw invalid(`expires_at ${quote(body.expires_at)} is not a date in the future`);
    }
    fromExpiresAt = at;
  }
  // Both may come (the sandbox sends both); expires_in is relative, so no clock skew can bend it.
  return fromExpiresIn ?? fromExpiresAt;
}

/** Builds the error for a failed token endpoint call from either error shape, or from none. */
function tokenErrorFrom(result: HttpResult, doing: string): TokenError {
  const tenantError = parseErrorBody(result);
  const said = tenantError
    ? `${tenantError.code ?? 'error'}${tenantError.message ? `: ${tenantError.message}` : ''}`
    : 'no error details';
  // The tenant answers 401 for a bad secret and for a bad code alike; its words tell them apart.
  // (Not any mention of "client": RFC 6749's invalid_grant text says "issued to another client".)
  const aboutClient =
    tenantError?.code === 'invalid_client' ||
    /client_secret|client_id|client credentials/i.test(tenantError?.message ?? '') ||
    (result.status === 401 && !tenantError);
  const retryAfter = Number(result.headers.get('retry-after'));
  const hint =
    result.status === 429
      ? `The tenant is rate limiting this client (Qlik: 100 token requests a minute). Wait ${Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 60} s, then try again.`
      : aboutClient
        ? 'Check QLIK_CLIENT_ID and QLIK_CLIENT_SECRET against the OAuth client in the Qlik Management Console, then start the sign-in again.'
        : result.status >= 500
          ? 'The tenant had a problem. Try again in a moment.'
          : 'Start the sign-in again. If it repeats, check the OAuth client (redirect URI, scopes) in the Qlik Management Console.';
  return new TokenError(
    'TOKEN_ERROR_RESPONSE',
    `The tenant refused to ${doing} (HTTP ${result.status}, ${said}).`,
    hint,
    result.status,
    tenantError,
  );
}
