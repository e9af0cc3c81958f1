// Helpers that write responses: JSON, Qlik-shaped errors, HTML pages and redirects.
// Every response goes through here, so headers such as Cache-Control are decided in one place.
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { ErrorCode, OAuthErrorCode } from './error-codes.ts';

type Headers = Record<string, string>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/**
 * A failure a handler throws; the router turns it into a Qlik error body.
 * Throwing keeps each check to one line: `if (bad) throw new QlikFailure(...)`.
 */
export class QlikFailure extends Error {
  readonly status: number;
  readonly error: ErrorCode | OAuthErrorCode;
  readonly detail: string;
  readonly headers: Headers;

  constructor(status: number, error: ErrorCode | OAuthErrorCode, detail: string, headers: Headers = {}) {
    super(`${error.code} ${error.title}: ${detail}`);
    this.status = status;
    this.error = error;
    this.detail = detail;
    this.headers = headers;
  }
}

/** How /oauth/* errors read: 'terse' as a real tenant (the default), 'detailed' to learn from. */
export type ErrorStyle = 'terse' | 'detailed';

/** Qlik support asks for the traceId of a failed request, so every error body carries one. */
export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Qlik's error shape: `{"errors":[{"title","code","status"}],"traceId"}`, status as a string.
 * - /oauth/* in 'terse' style: exactly what a real tenant sends (OAUTH-5 "Unauthorized" for every
 *   client-auth or grant failure), no detail: the client must cope with that.
 * - /oauth/* in 'detailed' style: the sandbox's own code, title and detail, plus RFC 6749 §5.2's
 *   `error` / `error_description`, so a learner sees which check failed.
 * - Everything else (REST, discovery): Qlik's REST shape, with `detail`.
 */
export function sendQlikError(res: ServerResponse, failure: QlikFailure, options: { oauth: boolean; style: ErrorStyle }): void {
  const { error, detail } = failure;
  if (options.oauth && options.style === 'terse') {
    const real: OAuthErrorCode['real'] = 'real' in error ? error.real : error;
    const status = real.status ?? failure.status;
    sendJson(res, status, { errors: [{ title: real.title, code: real.code, status: String(status) }], traceId: newTraceId() }, failure.headers);
    return;
  }
  const body: Record<string, unknown> = {};
  if (options.oauth) {
    const rfc = 'rfc' in error ? error.rfc : failure.status === 400 || failure.status === 413 ? 'invalid_request' : undefined;
    if (rfc !== undefined) {
      body.error = rfc;
      body.error_description = rfcText(detail);
    }
  }
  body.errors = [{ title: error.title, code: error.code, detail, status: String(failure.status) }];
  body.traceId = newTraceId();
  sendJson(res, failure.status, body, failure.headers);
}

/**
 * RFC 6749 §4.1.2.1, §5.2: error_description may hold only %x20-21 / %x23-5B / %x5D-7E: no " or \,
 * nothing outside printable ASCII. Quotes become ' so the text still reads well.
 */
export function rfcText(text: string): string {
  return text.replaceAll('"', "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/** Security headers for every HTML page: no scripts at all, no framing (stops clickjacking of consent). */
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Headers = {}): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(html)),
    'cache-control': 'no-store',
    'content-security-policy': PAGE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...headers,
  });
  res.end(html);
}

export function sendRedirect(res: ServerResponse, location: string): void {
  // no-store: the Location carries a code or an error for one browser only (RFC 6749 §10.3).
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': '0' });
  res.end();
}

/**
 * Adds parameters to a redirect URI and keeps any query it already has, byte for byte
 * (RFC 6749 §3.1.2: "MUST retain the query component when adding additional parameters").
 * Registered URIs have no fragment (§3.1.2), so appending to the end is safe.
 */
export function withQuery(uri: string, params: Record<string, string | undefined>): string {
  const added = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) added.append(name, value);
  }
  let separator = '&';
  if (!uri.includes('?')) separator = '?';
  else if (uri.endsWith('?') || uri.endsWith('&')) separator = '';
  return uri + separator + added.toString();
}

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
