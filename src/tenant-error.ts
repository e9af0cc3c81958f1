// What a tenant says when it refuses a token or API request: its error body, in either shape it
// uses, and how long it asks us to wait. Steps 3.3 and 3.4 (and what comes after) turn it into a TenantError.

import { QlikOAuthError, clip, type Check, type ErrorDetails } from './errors.ts';
import { isObject, type HttpResult } from './http.ts';

/** The error a tenant put in a response body: RFC 6749 §5.2 `error`, or Qlik's `errors[0]` and `traceId`. */
export interface TenantErrorBody {
  code: string | undefined;
  message: string | undefined;
  traceId: string | undefined;
}

/** The tenant refused: a callback's `error=` (RFC 6749 §4.1.2.1), a token or API error (§5.2, RFC 6750 §3.1, Qlik's REST errors). */
export class TenantError extends QlikOAuthError {
  readonly tenantError: TenantErrorBody | undefined;
  /** RFC 6750 §3 `WWW-Authenticate` parameters, e.g. `{ error: 'insufficient_scope' }`. */
  readonly wwwAuthenticate: Record<string, string>;

  constructor(check: Check, message: string, tenantError: TenantErrorBody | undefined, details: ErrorDetails & { wwwAuthenticate?: Record<string, string> }) {
    super(check, message, { traceId: tenantError?.traceId, ...details });
    this.tenantError = tenantError;
    this.wwwAuthenticate = details.wwwAuthenticate ?? {};
  }
}

/** An error body in either shape a tenant uses: RFC 6749 §5.2 `{error, error_description}` or Qlik's `{errors:[{code,title,detail}], traceId}`. */
export function parseErrorBody(result: HttpResult): TenantErrorBody | undefined {
  // Read whatever its content type says: an error is worth its traceId even when mislabelled.
  let body: unknown;
  try {
    body = JSON.parse(result.body);
  } catch {
    return undefined;
  }
  if (!isObject(body)) return undefined;
  // Cut to 300 characters: these end up in messages, and a tenant's error text has no business being longer.
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? clip(v, 300) : undefined);
  if (typeof body.error === 'string') return { code: clip(body.error), message: text(body.error_description), traceId: text(body.traceId) };
  const first = Array.isArray(body.errors) ? body.errors[0] : undefined;
  if (!isObject(first)) return undefined;
  const message = [text(first.title), text(first.detail)].filter(Boolean).join(': ');
  return { code: text(first.code), message: message || undefined, traceId: text(body.traceId) };
}

/** RFC 9110 §10.2.3: retry-after is delay-seconds or an HTTP date. Returns whole seconds, or undefined. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  if (/^\s*\d{1,9}\s*$/.test(header)) return Number(header);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}
