// Tutorial 3.4 — call a Qlik API with the access token.
//
// The tutorial calls client.userinfo(). Qlik has no userinfo endpoint; its "who am I" is
// GET /api/v1/users/me with the token in an Authorization: Bearer header (RFC 6750 §2.1).

import { ApiError, clip, reportPassed, type CheckCode } from './errors.ts';
import { httpRequest, parseErrorBody, parseJsonObject, parseRetryAfter, type HttpOptions, type HttpRequest, type HttpResult } from './http.ts';
import type { TenantMetadata } from './1-discovery.ts';

/** The fields of Qlik's user we rely on; the rest of the body is kept in `raw`. */
export interface QlikUser {
  id: string;
  name: string;
  subject: string;
  tenantId: string;
  email: string | undefined;
  raw: Record<string, unknown>;
}

/** Qlik users API: GET /api/v1/users/me, the signed-in user. */
export async function getCurrentUser(
  metadata: TenantMetadata,
  accessToken: string,
  options: HttpOptions = {},
): Promise<QlikUser> {
  const result = await bearerRequest(metadata, accessToken, { method: 'GET', url: metadata.usersMeEndpoint }, options);
  return processUserResponse(result, options);
}

/**
 * RFC 6750 §2.1: one request with the access token in the Authorization header — never in the URL
 * (§2.3 is for clients that cannot set headers, and leaks the token to logs and Referer). A JSON
 * body, when given, is sent as application/json (Qlik's REST APIs take JSON).
 */
export function bearerRequest(
  metadata: TenantMetadata,
  accessToken: string,
  request: { method: HttpRequest['method']; url: string; json?: unknown },
  options: HttpOptions = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { authorization: `Bearer ${accessToken}` };
  if (request.json !== undefined) headers['content-type'] = 'application/json';
  return httpRequest(
    {
      method: request.method,
      url: request.url,
      issuer: metadata.issuer,
      headers,
      ...(request.json === undefined ? {} : { body: JSON.stringify(request.json) }),
    },
    options,
  );
}

/** The checks processUserResponse() makes, in order. */
export const USER_CHECKS: readonly CheckCode[] = [
  'API_UNAUTHORIZED',
  'API_FORBIDDEN',
  'API_RATE_LIMITED',
  'API_ERROR',
  'NOT_JSON',
  'JSON_INVALID',
  'JSON_NOT_OBJECT',
  'USER_INVALID',
];

/** Qlik users API: checks a /users/me response and returns the user. */
export function processUserResponse(result: HttpResult, options: Pick<HttpOptions, 'onCheck'> = {}): QlikUser {
  const body = processApiResponse(result, 'The current user');
  // Qlik users API: every user has these. Without them we cannot say who signed in.
  for (const field of ['id', 'name', 'subject', 'tenantId'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '') {
      throw new ApiError(
        'USER_INVALID',
        `The current user has no ${field}.`,
        'Check that the URL is a Qlik Cloud tenant; its /api/v1/users/me always has this field.',
        { status: result.status },
      );
    }
  }
  reportPassed(options.onCheck, USER_CHECKS);
  return {
    id: body.id as string,
    name: body.name as string,
    subject: body.subject as string,
    tenantId: body.tenantId as string,
    email: typeof body.email === 'string' ? body.email : undefined,
    raw: body,
  };
}

/**
 * Checks any Qlik REST response: 200 (or, for a write, 201) with a JSON object, a write's 204 with
 * no body (an empty object here), or one of Qlik's errors, made into an ApiError the caller can act on
 * (sign in again, ask for a scope, wait and retry).
 */
export function processApiResponse(result: HttpResult, what: string, { write = false } = {}): Record<string, unknown> {
  if (result.status === 200 || (write && result.status === 201)) return parseJsonObject(result, what);
  // RFC 9110 §15.3.5: 204 No Content has no body by definition.
  if (write && result.status === 204) return {};
  throw apiErrorFrom(result, what);
}

/** RFC 6750 §3.1 and Qlik's REST error body: the ApiError for a response that is not a 200. */
export function apiErrorFrom(result: HttpResult, what: string): ApiError {
  const tenantError = parseErrorBody(result);
  const wwwAuthenticate = parseWwwAuthenticate(result.headers.get('www-authenticate'));
  const said = tenantError?.message ?? wwwAuthenticate.error_description ?? wwwAuthenticate.error ?? 'no details';
  const details = { status: result.status, tenantError, wwwAuthenticate };
  // Qlik support asks for the traceId: every message carries it when the tenant sent one.
  const traceId = tenantError?.traceId ? `, traceId ${clip(tenantError.traceId, 80)}` : '';

  // RFC 6750 §3.1: 401 invalid_token — the token is expired, revoked or not for this tenant.
  if (result.status === 401) {
    return new ApiError(
      'API_UNAUTHORIZED',
      `${what}: the tenant did not accept the access token (HTTP 401, ${said}${traceId}).`,
      'Sign in again (or refresh the token).',
      details,
    );
  }
  // RFC 6750 §3.1: 403 insufficient_scope — signed in, but the token lacks the needed scope.
  if (result.status === 403) {
    return new ApiError(
      'API_FORBIDDEN',
      `${what}: the tenant refused access (HTTP 403, ${said}${traceId}).`,
      wwwAuthenticate.error === 'insufficient_scope'
        ? `Add the scope${wwwAuthenticate.scope ? ` ${quoteScope(wwwAuthenticate.scope)}` : ''} to the OAuth client and to the scope this app asks for, then sign in again.`
        : 'Ask a tenant admin for access to this resource.',
      { ...details, settings: wwwAuthenticate.error === 'insufficient_scope' ? ['scope'] : [] },
    );
  }
  // Qlik rate limits (tier 1: 1000/min, tier 2: 100/min): 429 with retry-after in seconds.
  if (result.status === 429) {
    const retryAfter = parseRetryAfter(result.headers.get('retry-after'), Date.now());
    return new ApiError(
      'API_RATE_LIMITED',
      `${what}: the tenant is rate limiting this user (HTTP 429${retryAfter === undefined ? '' : `, retry after ${retryAfter} s`}${traceId}).`,
      `Qlik asks us to wait ${retryAfter ?? 1} s. Try again after that.`,
      { ...details, retryAfter },
    );
  }
  // Qlik REST error body: {errors:[{code,title,detail,status}], traceId} — keep traceId for support.
  return new ApiError(
    'API_ERROR',
    `${what}: the tenant answered HTTP ${result.status} (${tenantError?.code ?? 'no code'}: ${said}${traceId}).`,
    result.status >= 500 ? 'The tenant had a problem. Try again in a moment; if it persists, give Qlik support the traceId.' : 'Check the request; the tenant refused it.',
    details,
  );
}

/**
 * RFC 6750 §3 (RFC 9110 §11.6.1): reads `Bearer realm="qlik", error="invalid_token", …` into
 * `{ realm: 'qlik', error: 'invalid_token' }`. Only the first challenge's parameters are read.
 */
export function parseWwwAuthenticate(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  if (!header) return params;
  const afterScheme = header.replace(/^\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*/, '');
  const pattern = /([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,\s*|$)/gy;
  for (let match = pattern.exec(afterScheme); match; match = pattern.exec(afterScheme)) {
    params[match[1]!.toLowerCase()] = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!;
    if (pattern.lastIndex >= afterScheme.length) break;
  }
  return params;
}

/** A scope from a header, quoted and cut for a hint. */
function quoteScope(scope: string): string {
  return JSON.stringify(clip(scope, 100));
}
