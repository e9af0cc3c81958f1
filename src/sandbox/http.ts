// Reading requests and writing responses: parameters (query, form or JSON bodies), JSON, Qlik-shaped
// errors, HTML pages and redirects. Every response goes through here, so headers such as
// Cache-Control are decided in one place.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { HTTP, type ErrorCode, type OAuthErrorCode } from './error-codes.ts';
export { escapeHtml } from '../local-server.ts';

type Headers = Record<string, string>;

/** A failure a handler throws, so each check is one line; the router turns it into a Qlik error body. */
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

/** No OAuth request needs more; a cap stops a client from filling the sandbox's memory. */
const MAX_BODY_BYTES = 64 * 1024;

function tooLarge(): QlikFailure {
  // Connection: close, so Node drops the rest of an oversized upload instead of reading it.
  return new QlikFailure(413, HTTP.tooLarge, `The request body is larger than ${MAX_BODY_BYTES} bytes.`, { connection: 'close' });
}

/** Reads the whole body as UTF-8 text, refusing more than MAX_BODY_BYTES. */
export function readBody(req: IncomingMessage): Promise<string> {
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        chunks.length = 0; // keep nothing more; the response below closes the connection
        reject(tooLarge());
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function mediaTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * A POST body as parameters: application/x-www-form-urlencoded (RFC 6749 §4.1.3, RFC 7009 §2.1), or JSON,
 * which Qlik also accepts (@qlik/api sends it). A nested object (impersonation's `user_lookup: { field,
 * value }`) becomes `user_lookup[field]` and `user_lookup[value]`, the names a form body would use.
 */
export async function readBodyParams(req: IncomingMessage): Promise<URLSearchParams> {
  const mediaType = mediaTypeOf(req);
  if (mediaType !== 'application/x-www-form-urlencoded' && mediaType !== 'application/json') {
    throw new QlikFailure(400, HTTP.badRequest, `Send the body as application/x-www-form-urlencoded (or application/json), not "${mediaType.slice(0, 60) || 'nothing'}".`);
  }
  const text = await readBody(req);
  if (mediaType === 'application/x-www-form-urlencoded') return new URLSearchParams(text);
  const parsed = parseJsonObject(text, HTTP.badRequest);
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(parsed)) {
    const nested = isObject(value) ? Object.entries(value).map(([key, inner]) => [`${name}[${key}]`, inner] as const) : [[name, value] as const];
    for (const [key, inner] of nested) {
      if (typeof inner !== 'string') throw new QlikFailure(400, HTTP.badRequest, `The JSON field "${key.slice(0, 60)}" must be a string.`);
      params.append(key, inner);
    }
  }
  return params;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON text that must be an object; anything else is a 400 with `error`'s code. */
export function parseJsonObject(text: string, error: ErrorCode): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new QlikFailure(400, error, 'The body is not valid JSON.');
  }
  if (!isObject(parsed)) throw new QlikFailure(400, error, 'The JSON body must be an object.');
  return parsed;
}

/** RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted." */
export function param(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  return value === null || value === '' ? undefined : value;
}

/** RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once." Unknown ones are ignored. */
export function repeatedParams(params: URLSearchParams, names: readonly string[]): string[] {
  return names.filter((name) => params.getAll(name).length > 1);
}

/** Every answer with a body: never cached (tokens, codes and users are for one caller), never sniffed. */
function send(res: ServerResponse, status: number, contentType: string, text: string, headers: Headers): void {
  const length = String(Buffer.byteLength(text));
  res.writeHead(status, { 'content-type': contentType, 'content-length': length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
  res.end(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  send(res, status, 'application/json', JSON.stringify(body), headers);
}

/** How /oauth/* errors read: 'terse' as a real tenant (the default), 'detailed' to learn from. */
export type ErrorStyle = 'terse' | 'detailed';

/**
 * Qlik's error shape: `{"errors":[{"title","code","status"}],"traceId"}`, always with a traceId (Qlik
 * support asks for it); `status` a string on /oauth/*, a number on the REST APIs, as Qlik's reference.
 * - /oauth/* in 'terse' style: exactly what a real tenant sends, no detail: the client must cope.
 * - /oauth/* in 'detailed' style: the sandbox's own code, title and detail, plus RFC 6749 §5.2's
 *   `error` / `error_description`, so a learner sees which check failed.
 * - Everything else (REST, discovery): Qlik's REST shape, with `detail`.
 */
export function sendQlikError(res: ServerResponse, failure: QlikFailure, options: { oauth: boolean; style: ErrorStyle }): void {
  const { error, detail } = failure;
  const traceId = randomBytes(16).toString('hex');
  if (options.oauth && options.style === 'terse') {
    const real: OAuthErrorCode['real'] = 'real' in error ? error.real : error;
    const status = real.status ?? failure.status;
    sendJson(res, status, { errors: [{ title: real.title, code: real.code, status: String(status) }], traceId }, failure.headers);
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
  body.errors = [{ title: error.title, code: error.code, detail, status: options.oauth ? String(failure.status) : failure.status }];
  body.traceId = traceId;
  sendJson(res, failure.status, body, failure.headers);
}

/** RFC 6749 §4.1.2.1, §5.2: error_description holds only %x20-21 / %x23-5B / %x5D-7E; " becomes ' to stay readable. */
export function rfcText(text: string): string {
  return text.replaceAll('"', "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/** Security headers for every HTML page: no scripts at all, no framing (stops clickjacking of consent). */
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Headers = {}): void {
  send(res, status, 'text/html; charset=utf-8', html, { 'content-security-policy': PAGE_CSP, 'referrer-policy': 'no-referrer', ...headers });
}

export function sendRedirect(res: ServerResponse, location: string): void {
  // no-store: the Location carries a code or an error for one browser only (RFC 6749 §10.3).
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': '0' });
  res.end();
}

/**
 * Adds parameters to a redirect URI, keeping its query byte for byte (RFC 6749 §3.1.2: "MUST retain the
 * query component"). Registered URIs have no fragment (§3.1.2), so appending to the end is safe.
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
