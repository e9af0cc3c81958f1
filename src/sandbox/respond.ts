// Helpers that write responses: JSON, Qlik-shaped errors, HTML pages and redirects.
// Every response goes through here, so headers such as Cache-Control are decided in one place.
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { ErrorCode } from './error-codes.ts';

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
  readonly error: ErrorCode;
  readonly detail: string;
  readonly headers: Headers;

  constructor(status: number, error: ErrorCode, detail: string, headers: Headers = {}) {
    super(`${error.code} ${error.title}: ${detail}`);
    this.status = status;
    this.error = error;
    this.detail = detail;
    this.headers = headers;
  }
}

/**
 * Qlik's error shape: `{"errors":[{"code","title","detail","status"}]}`, status as a string.
 * Qlik: the OAuth endpoints send only `errors`; the REST APIs (/api/v1/*) add a `traceId`.
 * There is deliberately no RFC 6749 `error` key: a client must read Qlik's shape too.
 */
export function sendQlikError(
  res: ServerResponse,
  failure: QlikFailure,
  options: { traceId: boolean },
): void {
  const { status, error, detail } = failure;
  const body: { errors: object[]; traceId?: string } = {
    errors: [{ code: error.code, title: error.title, detail, status: String(status) }],
  };
  if (options.traceId) body.traceId = randomBytes(16).toString('hex');
  sendJson(res, status, body, failure.headers);
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
