// Tutorial 3.4 — call a Qlik API with the access token.
//
// The tutorial calls client.userinfo(). Qlik has no userinfo endpoint; its "who am I" is
// GET /api/v1/users/me with the token in an Authorization: Bearer header (RFC 6750 §2.1), which
// answers 301 to the user's own resource, /api/v1/users/{id} (bearerRequest() follows it).

import { check, clip, defineChecks, type CheckObserver } from './errors.ts';
import { HTTP_CHECKS, httpRequest, parseJsonObject, type HttpOptions, type HttpRequest, type HttpResult } from './http.ts';
import { TenantError, parseErrorBody, parseRetryAfter } from './tenant-error.ts';
import type { TenantMetadata } from './3.1-discovery.ts';

export const API_CHECKS = defineChecks('3.4', {
  API_UNAUTHORIZED: { rule: 'RFC 6750 §3.1', title: 'the API accepts the access token', hint: 'Sign in again (or refresh the token).' },
  API_FORBIDDEN: { rule: 'RFC 6750 §3.1', title: 'the token has the scope the API needs', hint: 'Ask a tenant admin for access to this resource.' },
  API_RATE_LIMITED: { rule: 'Qlik: rate limits (429, retry-after)', title: 'the API is not rate limiting us', hint: 'Qlik asks us to wait. Try again after the time it gave.' },
  API_ERROR: { rule: 'Qlik: REST error body', title: 'the API answers with success', hint: 'Check the request; the tenant refused it.' },
  USER_INVALID: { rule: 'Qlik: users API', title: 'the user has id, name, subject and tenantId', hint: 'Check that the URL is a Qlik Cloud tenant; its /api/v1/users/me always has these fields.' },
});
const C = API_CHECKS;

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
export async function getCurrentUser(metadata: TenantMetadata, accessToken: string, options: HttpOptions = {}): Promise<QlikUser> {
  const result = await bearerRequest(metadata, accessToken, { method: 'GET', url: metadata.usersMeEndpoint }, options);
  return processUserResponse(result, options);
}

/** Qlik users API: checks a users/me answer (after its redirect) and returns the user. */
export function processUserResponse(result: HttpResult, options: Pick<HttpOptions, 'onCheck'> = {}): QlikUser {
  const body = processApiResponse(result, 'The current user', { onCheck: options.onCheck });
  // Qlik users API: every user has these. Without them we cannot say who signed in.
  const missing = ['id', 'name', 'subject', 'tenantId'].find((field) => typeof body[field] !== 'string' || body[field] === '');
  check(C.USER_INVALID, missing === undefined, () => `The current user has no ${missing}.`, options.onCheck);
  return {
    id: body.id as string,
    name: body.name as string,
    subject: body.subject as string,
    tenantId: body.tenantId as string,
    email: typeof body.email === 'string' ? body.email : undefined,
    raw: body,
  };
}

/** Qlik's users/me answers 301 to the user resource: one hop, and one to spare. */
const MAX_REDIRECTS = 2;

/**
 * RFC 6750 §2.1: one request with the access token in the Authorization header — never in the URL
 * (§2.3 leaks it to logs and Referer). A JSON body, when given, is sent as application/json.
 */
export async function bearerRequest(metadata: TenantMetadata, accessToken: string, request: { method: HttpRequest['method']; url: string; json?: unknown }, options: HttpOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { authorization: `Bearer ${accessToken}` };
  if (request.json !== undefined) headers['content-type'] = 'application/json';
  const body = request.json === undefined ? undefined : JSON.stringify(request.json);
  let url = request.url;
  for (let hop = 0; ; hop++) {
    const result = await httpRequest({ method: request.method, url, issuer: metadata.issuer, headers, body, allowRedirect: request.method === 'GET' }, options);
    if (result.status < 300 || result.status >= 400) return result;
    // RFC 9110 §15.4: following is the client's choice. Qlik's users/me answers 301, so a GET follows
    // a redirect — to the tenant's own origin only, since the token goes along (the Fetch standard
    // drops Authorization on a cross-origin hop for the same reason), and at most twice.
    const location = result.headers.get('location') ?? '';
    const next = URL.canParse(location, url) ? new URL(location, url) : undefined;
    check(HTTP_CHECKS.REDIRECT_REFUSED, next?.origin === new URL(url).origin && hop < MAX_REDIRECTS, () => `GET ${clip(url)} answered ${result.status}, a redirect to ${clip(location || '(no location)')}; only a redirect to the same origin is followed, at most ${MAX_REDIRECTS} times.`, options.onCheck);
    url = next.href;
  }
}

/**
 * Checks any Qlik REST response: 200 (or, for a write, 201) with a JSON object, a write's 204 with
 * no body (an empty object here), or one of Qlik's errors, made into an error the caller can act on
 * (sign in again, ask for a scope, wait and retry).
 */
export function processApiResponse(result: HttpResult, what: string, { write = false, onCheck }: { write?: boolean; onCheck?: CheckObserver } = {}): Record<string, unknown> {
  const success = result.status === 200 || (write && (result.status === 201 || result.status === 204));
  if (!success) throw apiErrorFrom(result, what);
  onCheck?.(C.API_ERROR, true);
  // RFC 9110 §15.3.5: 204 No Content has no body by definition.
  return result.status === 204 ? {} : parseJsonObject(result, what, onCheck);
}

/** RFC 6750 §3.1 and Qlik's REST error body: the error for a response that is not a success. */
export function apiErrorFrom(result: HttpResult, what: string): TenantError {
  const tenantError = parseErrorBody(result);
  const challenge = parseWwwAuthenticate(result.headers.get('www-authenticate'));
  const said = clip(tenantError?.message ?? challenge.error_description ?? challenge.error ?? 'no details', 300);
  // Qlik support asks for the traceId: every message carries it when the tenant sent one.
  const traceId = tenantError?.traceId ? `, traceId ${clip(tenantError.traceId, 80)}` : '';
  const details = { status: result.status, wwwAuthenticate: challenge };
  // RFC 6750 §3.1: 401 invalid_token — the token is expired, revoked or not for this tenant.
  if (result.status === 401) return new TenantError(C.API_UNAUTHORIZED, `${what}: the tenant did not accept the access token (HTTP 401, ${said}${traceId}).`, tenantError, details);
  // RFC 6750 §3.1: 403 insufficient_scope — signed in, but the token lacks the scope it needs.
  if (result.status === 403) {
    const scope = challenge.error === 'insufficient_scope';
    const hint = scope ? `Add the scope${challenge.scope ? ` ${JSON.stringify(clip(challenge.scope))}` : ''} to the OAuth client and to the scope this app asks for, then sign in again.` : undefined;
    return new TenantError(C.API_FORBIDDEN, `${what}: the tenant refused access (HTTP 403, ${said}${traceId}).`, tenantError, { ...details, hint, settings: scope ? ['scope'] : [] });
  }
  // Qlik rate limits (tier 1: 1000/min, tier 2: 100/min): 429 with retry-after in seconds.
  if (result.status === 429) {
    const retryAfter = parseRetryAfter(result.headers.get('retry-after'), Date.now());
    const wait = retryAfter === undefined ? '' : `, retry after ${retryAfter} s`;
    return new TenantError(C.API_RATE_LIMITED, `${what}: the tenant is rate limiting this user (HTTP 429${wait}${traceId}).`, tenantError, { ...details, retryAfter, hint: `Qlik asks us to wait ${retryAfter ?? 1} s. Try again after that.` });
  }
  // Qlik REST error body: {errors:[{code,title,detail,status}], traceId}.
  const hint = result.status >= 500 ? 'The tenant had a problem. Try again in a moment; if it persists, give Qlik support the traceId.' : undefined;
  return new TenantError(C.API_ERROR, `${what}: the tenant answered HTTP ${result.status} (${tenantError?.code ?? 'no code'}: ${said}${traceId}).`, tenantError, { ...details, hint });
}

/**
 * RFC 6750 §3, RFC 9110 §11.3 `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`: reads
 * `Bearer realm="qlik", error="invalid_token"` into `{ realm: 'qlik', error: 'invalid_token' }`.
 * Only the first challenge is read; empty list elements are skipped (§5.6.1.2); a token68
 * (`Basic dGVzdA==`) has no parameters (§11.2); a repeated parameter keeps its first value.
 */
export function parseWwwAuthenticate(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  const scheme = /^[\s,]*[\w!#$%&'*+.^`|~-]+(?: +|$)/.exec(header ?? '');
  if (scheme === null) return params;
  const rest = header!.slice(scheme[0].length);
  if (/^[\w.~+/-]+=*\s*(,|$)/.test(rest)) return params;
  const param = /[\s,]*([\w!#$%&'*+.^`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([\w!#$%&'*+.^`|~-]+))\s*(?=,|$)/y;
  for (let match = param.exec(rest); match; match = param.exec(rest)) {
    params[match[1]!.toLowerCase()] ??= match[2]?.replace(/\\(.)/g, '$1') ?? match[3]!;
  }
  return params;
}
