// The one place that calls fetch. Every request to the tenant goes through httpRequest(), so
// every request gets the same protections: https only (loopback excepted), a timeout, a cap on the
// body size, no redirects followed, and a hook that lets the transcript (src/trace.ts) see the
// exchange. A step copied on its own keeps all of them: they live here, not in the app.

import { HttpError, clip, type CheckObserver, type TenantErrorBody } from './errors.ts';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** One request and what came back, as the transcript records it (before redaction). */
export interface HttpExchange {
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody: string | undefined;
  status: number | undefined;
  responseHeaders: Record<string, string>;
  responseBody: string | undefined;
  durationMs: number;
  /** Set when the exchange failed before a usable response: TIMEOUT, NETWORK_ERROR, … */
  errorCode: string | undefined;
}

/** Options every step accepts and passes down to httpRequest(). */
export interface HttpOptions {
  timeoutMs?: number;
  maxBodyBytes?: number;
  /**
   * The fetch to use; default the global one. Pass your own for a proxy, a custom CA or agent, or
   * canned answers in a test (oauth4webapi's customFetch, Go's context HTTP client).
   */
  fetch?: typeof fetch;
  /** Aborts the request early, e.g. when the whole page's deadline has passed. */
  signal?: AbortSignal;
  /** Called once per exchange, success or failure. The transcript redacts what it is given. */
  onExchange?: (exchange: HttpExchange) => void;
  /** Called for each named check a step makes (src/errors.ts CHECKS). */
  onCheck?: CheckObserver;
}

/** A response that has been read in full: plain data, easy to build in a test. */
export interface HttpResult {
  status: number;
  headers: Headers;
  body: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * The tenant's issuer, when known: plain http to a loopback address is then allowed only when the
   * issuer itself is loopback http (checkSecureUrl).
   */
  issuer?: string;
}

/**
 * The one secure-URL rule (RFC 6749 §3.1, §3.2; RFC 8414 §2; RFC 8252 §8.3): https, or plain http
 * to a loopback address for local use — and that only when the tenant itself is local (an https
 * tenant whose metadata names http://127.0.0.1:8080/token would send the secret, the code and the
 * verifier unencrypted to whatever holds that port). Returns why a URL fails, or undefined.
 */
export function insecureUrlReason(url: URL, issuer?: string): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return `it uses ${url.protocol.replace(':', '')}, not https`;
  if (!isLoopbackHost(url.hostname)) return 'it uses plain http on a host that is not this machine';
  if (issuer !== undefined) {
    const tenant = parseUrl(issuer);
    if (tenant === undefined || tenant.protocol !== 'http:' || !isLoopbackHost(tenant.hostname)) {
      return `it uses plain http, and the tenant ${clip(issuer)} is not a local http one`;
    }
  }
  return undefined;
}

/** An absolute URL, parsed once; undefined when it is not one (URL.parse is Node 22+ only). */
function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/**
 * Sends one request to the tenant and reads the whole response, with the protections above:
 * a timeout, a body cap, and no redirect followed (RFC 9700 §4.12).
 */
export async function httpRequest(request: HttpRequest, options: HttpOptions = {}): Promise<HttpResult> {
  // RFC 6749 §3.1, RFC 6750 §5.3: codes, secrets and tokens travel over TLS only. Checked here, where
  // every request leaves, so that no caller (a copied step fed its own metadata) can skip it.
  const parsed = parseUrl(request.url); // once: URL parsing is a large part of this function's own cost
  const insecure = parsed === undefined ? 'it is not an absolute URL' : insecureUrlReason(parsed, request.issuer);
  if (insecure !== undefined) {
    throw new HttpError(
      'INSECURE_URL',
      `Refusing to send ${request.method} ${clip(request.url)}: ${insecure}.`,
      'Use the https:// address of the tenant; plain http is only for a tenant on this machine (the sandbox).',
      { settings: ['tenantUrl'] },
    );
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const headers = { accept: 'application/json', ...request.headers };
  const started = performance.now();
  const exchange: HttpExchange = {
    method: request.method,
    url: request.url,
    requestHeaders: headers,
    requestBody: request.body,
    status: undefined,
    responseHeaders: {},
    responseBody: undefined,
    durationMs: 0,
    errorCode: undefined,
  };

  // One timer covers connecting, the headers and the whole body: a tenant that sends its body
  // one byte a second is as stuck as one that never answers. The caller's signal stops it too.
  const deadline = startDeadline(timeoutMs, options.signal);
  try {
    const response = await (options.fetch ?? fetch)(request.url, {
      method: request.method,
      headers,
      body: request.body,
      // RFC 9110 §15.4 leaves following a redirect to the client. A tenant endpoint that redirects is
      // misconfigured or compromised; following it could send the code, the secret or the token
      // somewhere else — a 307 re-posts the whole form (RFC 9700 §4.12, by analogy). We never follow.
      redirect: 'manual',
      signal: deadline.controller.signal,
    });
    exchange.status = response.status;
    // Copying the headers is work for the transcript alone: skipped when nobody listens.
    if (options.onExchange) exchange.responseHeaders = Object.fromEntries(response.headers);

    if (response.status >= 300 && response.status < 400) {
      discard(response.body);
      const location = response.headers.get('location') ?? '(no location)';
      throw new HttpError(
        'REDIRECT_REFUSED',
        `${request.method} ${clip(request.url)} answered ${response.status}, a redirect to ${clip(location)}; redirects from the tenant are not followed.`,
        'Use the tenant URL exactly as the tenant shows it (https://<tenant>.<region>.qlikcloud.com).',
        { settings: ['tenantUrl'] },
      );
    }

    const body = await readBody(response, maxBodyBytes, request.url, deadline);
    exchange.responseBody = body;
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    const failure = toHttpError(error, request, timeoutMs, options.signal);
    exchange.errorCode = failure.code;
    throw failure;
  } finally {
    stopDeadline(deadline);
    exchange.durationMs = performance.now() - started;
    options.onExchange?.(exchange);
  }
}

/** A request's deadline: the signal fetch is given, and the body reader to stop when time is up. */
interface Deadline {
  controller: AbortController;
  timer: ReturnType<typeof setTimeout> | undefined;
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** The caller's signal (HttpOptions.signal), and the listener that passes its abort on. */
  callerSignal: AbortSignal | undefined;
  onCallerAbort: (() => void) | undefined;
}

/**
 * Our own timer rather than AbortSignal.timeout() (and one listener on the caller's signal rather
 * than AbortSignal.any()): it is cleared the moment the exchange ends instead of living on for
 * timeoutMs, which made it the largest cost of a call (npm run bench, part 5). Not unref'd: while a
 * request is pending its deadline must fire, even when the fetch given holds nothing else that keeps
 * the process alive; cleared at the end, it never delays an exit.
 */
function startDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined): Deadline {
  const deadline: Deadline = { controller: new AbortController(), timer: undefined, reader: undefined, callerSignal, onCallerAbort: undefined };
  if (callerSignal?.aborted) {
    deadline.controller.abort(callerSignal.reason);
    return deadline;
  }
  deadline.timer = setTimeout(expire, timeoutMs, deadline);
  if (callerSignal) {
    deadline.onCallerAbort = () => stopRequest(deadline, callerSignal.reason);
    callerSignal.addEventListener('abort', deadline.onCallerAbort, { once: true });
  }
  return deadline;
}

function stopDeadline(deadline: Deadline): void {
  clearTimeout(deadline.timer);
  if (deadline.onCallerAbort) deadline.callerSignal?.removeEventListener('abort', deadline.onCallerAbort);
}

function expire(deadline: Deadline): void {
  stopRequest(deadline, new DOMException('The operation timed out.', 'TimeoutError'));
}

/**
 * Aborts the request, and cancels the body being read, which ends a pending read(): not every
 * fetch ties the body stream to the abort signal.
 */
function stopRequest(deadline: Deadline, reason: unknown): void {
  deadline.controller.abort(reason);
  discard(deadline.reader);
}

function bodyTooLarge(url: string, maxBodyBytes: number): HttpError {
  return new HttpError(
    'BODY_TOO_LARGE',
    `The response from ${url} is larger than ${maxBodyBytes} bytes; it was not read.`,
    'A tenant endpoint never sends this much. Check the tenant URL, or raise maxBodyBytes if you know why.',
    { settings: ['tenantUrl'] },
  );
}

/**
 * Reads the body, refusing more than maxBodyBytes, so a huge or endless body cannot fill memory.
 * The deadline covers every read (see stopRequest()).
 */
async function readBody(response: Response, maxBodyBytes: number, url: string, deadline: Deadline): Promise<string> {
  if (Number(response.headers.get('content-length')) > maxBodyBytes) {
    discard(response.body);
    throw bodyTooLarge(url, maxBodyBytes);
  }
  if (!response.body) return '';

  const { signal } = deadline.controller;
  signal.throwIfAborted();
  const reader = response.body.getReader();
  deadline.reader = reader;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      // A read ended by stopRequest() looks like the end of the body: it is a timeout.
      signal.throwIfAborted();
      if (done) break;
      size += value.byteLength;
      if (size > maxBodyBytes) throw bodyTooLarge(url, maxBodyBytes);
      chunks.push(value);
    }
  } catch (error) {
    discard(reader);
    throw error;
  } finally {
    deadline.reader = undefined;
  }
  // One chunk (most tenant answers) is decoded where it lies, without Buffer.concat's copy.
  const only = chunks.length === 1 ? chunks[0]! : undefined;
  return only ? Buffer.from(only.buffer, only.byteOffset, only.byteLength).toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
}

/** Stops a body we will not read, without waiting for the tenant to agree. */
function discard(body: { cancel(): Promise<void> } | null | undefined): void {
  body?.cancel().catch(() => {});
}

/** Turns whatever fetch threw into one of our errors, with a message that says what to do. */
function toHttpError(error: unknown, request: HttpRequest, timeoutMs: number, callerSignal: AbortSignal | undefined): HttpError {
  if (error instanceof HttpError) return error;
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new HttpError(
      'TIMEOUT',
      callerSignal?.aborted
        ? `${request.method} ${clip(request.url)} was stopped: the request it served ran out of time.`
        : `${request.method} ${clip(request.url)} did not finish within ${timeoutMs} ms.`,
      'The tenant is slow or unreachable. Try again in a moment; if it persists, check the tenant URL and your network.',
      { cause: error },
    );
  }
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return new HttpError(
    'NETWORK_ERROR',
    `${request.method} ${clip(request.url)} failed${cause}.`,
    'Check that the tenant URL is right and reachable from this machine.',
    { cause: error, settings: ['tenantUrl'] },
  );
}

/**
 * Parses a JSON object body. The content type must say JSON (RFC 8259 §11): an HTML error page
 * from a proxy must not be mistaken for data. Arrays and other values are refused too.
 */
export function parseJsonObject(result: HttpResult, what: string): Record<string, unknown> {
  const type = result.headers.get('content-type') ?? '(none)';
  if (!isJsonContentType(type)) {
    throw new HttpError(
      'NOT_JSON',
      `${what} came as ${clip(type)}, not application/json.`,
      'The URL probably points at a web page, not the tenant API. Check the tenant URL.',
      { settings: ['tenantUrl'] },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(result.body);
  } catch {
    throw new HttpError(
      'JSON_INVALID',
      `${what} is not valid JSON (${result.body.length} characters).`,
      'The tenant sent a broken response. Try again; if it persists, contact Qlik support with the time of the attempt.',
    );
  }
  if (!isObject(value)) {
    throw new HttpError(
      'JSON_NOT_OBJECT',
      `${what} is JSON but not an object (it is ${Array.isArray(value) ? 'an array' : typeof value}).`,
      'The URL probably points at something other than the tenant. Check the tenant URL.',
      { settings: ['tenantUrl'] },
    );
  }
  return value;
}

/** RFC 9110 §10.2.3: retry-after is delay-seconds or an HTTP date. Returns whole seconds, or undefined. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  if (/^\s*\d{1,9}\s*$/.test(header)) return Number(header);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}

/**
 * RFC 9110 §6.6.1: the `Date` header is the tenant's clock when it answered. Returns the tenant's
 * clock minus ours, in ms (0 when there is no usable Date), so that an absolute time the tenant
 * sends (Qlik's expires_at) can be read against the tenant's clock, whatever ours says.
 */
export function tenantClockOffset(result: HttpResult, receivedAt: number): number {
  const date = Date.parse(result.headers.get('date') ?? '');
  return Number.isFinite(date) ? date - receivedAt : 0;
}

/** RFC 8259 §11: application/json; RFC 6838 §4.2.8: any application/…+json is JSON too. Parameters such as charset are ignored. */
export function isJsonContentType(contentType: string): boolean {
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

/** RFC 8259 §4: a JSON object — not an array, not null. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads an error body in either shape a tenant uses, leniently (it may be HTML, or empty):
 * RFC 6749 §5.2 `{error, error_description}` or Qlik's `{errors:[{code,title,detail}], traceId}`.
 */
export function parseErrorBody(result: HttpResult): TenantErrorBody | undefined {
  let value: unknown;
  try {
    value = JSON.parse(result.body);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  // Cut to 300 characters: these end up in messages, and a tenant's error text has no business being longer.
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? clip(v, 300) : undefined);
  const traceId = text(value.traceId);
  if (typeof value.error === 'string') {
    return { code: clip(value.error, 100), message: text(value.error_description), traceId };
  }
  const first = Array.isArray(value.errors) ? value.errors[0] : undefined;
  if (isObject(first)) {
    const message = [text(first.title), text(first.detail)].filter(Boolean).join(': ');
    return { code: text(first.code), message: message || undefined, traceId };
  }
  return undefined;
}

/**
 * Tells a loopback address from any other (RFC 6761 §6.3 localhost, RFC 8252 §8.3 loopback): the
 * one place plain http is allowed, for local use such as the sandbox tenant.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
