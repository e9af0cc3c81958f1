// The one place that calls fetch. Every request to the tenant goes through httpRequest(), so every
// request gets the same protections: https only (loopback excepted), a timeout, a cap on the body
// size, no redirect followed, nothing we sent echoed back, and a hook for the transcript (src/trace.ts).

import { Buffer } from 'node:buffer';
import { QlikOAuthError, check, clip, defineChecks, quote, type CheckObserver } from './errors.ts';

// No RFC asks for these; they keep one stuck, huge or endless answer from hanging or filling the app.
const BOUNDED = 'Robustness: every call is bounded';
export const HTTP_CHECKS = defineChecks('http', {
  INSECURE_URL: { rule: 'RFC 6749 §3.1, RFC 6749 §3.2', title: 'the request goes over https (http only between loopback addresses)', hint: 'Use the https:// address of the tenant; plain http is only for a tenant on this machine (the sandbox).', settings: ['tenantUrl'] },
  TIMEOUT: { rule: BOUNDED, title: 'the tenant answers within the timeout', hint: 'The tenant is slow or unreachable. Try again in a moment; if it persists, check the tenant URL and your network.' },
  NETWORK_ERROR: { rule: 'Qlik: tenant reachable', title: 'the tenant can be reached', hint: 'Check that the tenant URL is right and reachable from this machine.', settings: ['tenantUrl'] },
  REDIRECT_REFUSED: { rule: 'RFC 9110 §15.4', title: 'a tenant endpoint does not redirect (an API GET may, to its own origin)', hint: 'Use the tenant URL exactly as the tenant shows it (https://<tenant>.<region>.qlikcloud.com).', settings: ['tenantUrl'] },
  BODY_TOO_LARGE: { rule: BOUNDED, title: 'the response body fits the size cap', hint: 'A tenant endpoint never sends this much. Check the tenant URL, or raise maxBodyBytes if you know why.', settings: ['tenantUrl'] },
  NOT_JSON: { rule: 'RFC 6749 §5.1, RFC 8414 §3.2; for Qlik REST answers, a project rule', title: 'the response is application/json', hint: 'The URL probably points at a web page, not the tenant API. Check the tenant URL.', settings: ['tenantUrl'] },
  JSON_INVALID: { rule: 'RFC 8259 §2', title: 'the response body parses as JSON', hint: 'The tenant sent a broken response. Try again; if it persists, contact Qlik support with the time of the attempt.' },
  JSON_NOT_OBJECT: { rule: 'RFC 8259 §4', title: 'the JSON body is an object', hint: 'The URL probably points at something other than the tenant. Check the tenant URL.', settings: ['tenantUrl'] },
});
const C = HTTP_CHECKS;

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** One request and what came of it, for the transcript (which redacts it before it keeps anything). */
export interface HttpExchange {
  request: HttpRequest & { headers: Record<string, string> };
  /** The status, also when the body could not be read. */
  status: number | undefined;
  result: HttpResult | undefined;
  error: QlikOAuthError | undefined;
  durationMs: number;
}

export interface HttpOptions {
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** The fetch to use (a proxy, a custom CA, canned answers in a test); default the global one. */
  fetch?: typeof fetch;
  /** Stops the request early, e.g. when the whole page's deadline has passed. */
  signal?: AbortSignal;
  /** Hears each exchange and each check, for the transcript (which redacts what it is given). */
  onExchange?: (exchange: HttpExchange) => void;
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
  /** The tenant's issuer, when known: plain http to loopback is then allowed only for a loopback http tenant. */
  issuer?: string;
  /** Hand a redirect back instead of refusing it: bearerRequest() follows Qlik's users/me 301 itself. */
  allowRedirect?: boolean;
  /** What the body carries that is secret (a client secret, a code, a token), so that no answer can repeat it. */
  secrets?: readonly string[];
}

/**
 * The one secure-URL rule (RFC 6749 §3.1, §3.2; RFC 8252 §8.3), or why a URL breaks it: https, or
 * plain http to a loopback address when the tenant itself is local (an https tenant whose metadata
 * names http://127.0.0.1:8080/token would send the secret unencrypted to whatever holds that port).
 */
export function insecureUrlReason(url: URL, issuer?: string): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return `it uses ${url.protocol.replace(':', '')}, not https`;
  if (!isLoopbackHost(url.hostname)) return 'it uses plain http on a host that is not this machine';
  const tenant = issuer === undefined ? url : URL.canParse(issuer) ? new URL(issuer) : undefined;
  if (tenant?.protocol !== 'http:' || !isLoopbackHost(tenant.hostname)) return `it uses plain http, and the tenant ${clip(issuer ?? '')} is not a local http one`;
  return undefined;
}

/** RFC 6761 §6.3 localhost, RFC 8252 §8.3 loopback: the one place plain http is allowed. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

export async function httpRequest(request: HttpRequest, options: HttpOptions = {}): Promise<HttpResult> {
  // RFC 6749 §3.1, §3.2, RFC 6750 §5.3: codes, secrets and tokens travel over TLS only. Checked where every
  // request leaves, so that no caller (a copied step fed its own metadata) can skip it.
  const url = URL.canParse(request.url) ? new URL(request.url) : undefined;
  const insecure = url === undefined ? 'it is not an absolute URL' : insecureUrlReason(url, request.issuer);
  check(C.INSECURE_URL, insecure === undefined, () => `Refusing to send ${request.method} ${quote(request.url)}: ${insecure}.`);
  const headers = { accept: 'application/json', ...request.headers };
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // One deadline covers connecting, the headers and the whole body: a tenant that sends its body one
  // byte a second is as stuck as one that never answers. The caller's signal stops it too. Our own
  // timer, not AbortSignal.timeout(), which would not keep the program alive while it waits.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DOMException(`No answer within ${timeoutMs} ms.`, 'TimeoutError')), timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline.signal, options.signal]) : deadline.signal;
  let response: Response | undefined;
  let result: HttpResult | undefined;
  let failure: QlikOAuthError | undefined;
  try {
    response = await (options.fetch ?? fetch)(request.url, { method: request.method, headers, body: request.body, redirect: 'manual', signal });
    const body = await readBody(response, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, request.url, signal);
    // A tenant that repeats what we sent (a secret in an error_description, the bearer token in a
    // challenge) must not get it into a message, a page or a log: an answer that is not a success
    // loses every secret of its request here, before anyone reads it.
    // The credentials of an Authorization header are always secret; the caller names those of the body.
    const credentials = Object.entries(headers).flatMap(([name, value]) => (name.toLowerCase() === 'authorization' ? [value.replace(/^\S+\s+/, '')] : []));
    const secrets = response.status >= 300 ? echoesOf([...credentials, ...(request.secrets ?? [])]) : [];
    const scrub = (text: string) => secrets.reduce((scrubbed, secret) => scrubbed.replaceAll(secret, '[redacted]'), text);
    result = { status: response.status, headers: new Headers([...response.headers].map(([name, value]) => [name, scrub(value)])), body: scrub(body) };
    // RFC 9110 §15.4 leaves following to the client. A token, revocation or discovery endpoint that
    // redirects could take the code or the secret elsewhere (a 307 re-posts the form, RFC 9700 §4.12).
    const redirect = response.status >= 300 && response.status < 400;
    check(C.REDIRECT_REFUSED, !redirect || request.allowRedirect, () => `${request.method} ${clip(request.url)} answered ${response!.status}, a redirect to ${clip(result!.headers.get('location') ?? '(no location)')}; redirects from this endpoint are not followed.`);
    return result;
  } catch (error) {
    failure = toHttpError(error, request, timeoutMs, signal, options.signal);
    throw failure;
  } finally {
    clearTimeout(timer);
    options.onExchange?.({ request: { ...request, headers }, status: response?.status, result, error: failure, durationMs: performance.now() - started });
  }
}

/** Reads the body, refusing more than maxBodyBytes, so a huge or endless body cannot fill memory. */
async function readBody(response: Response, maxBodyBytes: number, url: string, signal: AbortSignal): Promise<string> {
  const tooLarge = () => `The response from ${clip(url)} is larger than ${maxBodyBytes} bytes; it was not read.`;
  if (!response.body) return '';
  const reader = response.body.getReader();
  // Not every fetch ends a pending read when its signal aborts: cancelling the reader does.
  const stop = () => reader.cancel().catch(() => {});
  signal.addEventListener('abort', stop, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    signal.throwIfAborted();
    check(C.BODY_TOO_LARGE, !(Number(response.headers.get('content-length')) > maxBodyBytes), tooLarge);
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      size += read.value.byteLength;
      check(C.BODY_TOO_LARGE, size <= maxBodyBytes, tooLarge);
      chunks.push(read.value);
    }
    // A read ended by the abort looks like the end of the body: it is a timeout.
    signal.throwIfAborted();
  } catch (error) {
    stop();
    throw error;
  } finally {
    signal.removeEventListener('abort', stop);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function toHttpError(error: unknown, request: HttpRequest, timeoutMs: number, signal: AbortSignal, callerSignal: AbortSignal | undefined): QlikOAuthError {
  if (error instanceof QlikOAuthError) return error;
  const what = `${request.method} ${clip(request.url)}`;
  if (signal.aborted) {
    const message = callerSignal?.aborted ? `${what} was stopped: the request it served ran out of time.` : `${what} did not finish within ${timeoutMs} ms.`;
    return new QlikOAuthError(C.TIMEOUT, message, { cause: error });
  }
  // Node puts the reason in `cause` (ECONNREFUSED…); Bun, Deno and workerd in the message itself.
  const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : '';
  return new QlikOAuthError(C.NETWORK_ERROR, `${what} failed${reason ? `: ${clip(reason.replace(/[.?!]+$/, ''), 200)}` : ''}.`, { cause: error });
}

/**
 * Each secret as a tenant may repeat it: as sent, form-encoded, or escaped inside a JSON string.
 * One under 8 characters is no secret, and replacing it would garble the tenant's text.
 */
function echoesOf(secrets: readonly string[]): string[] {
  return secrets.filter((secret) => secret.length >= 8).flatMap((secret) => [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
}

/** Parses a JSON object body; its content type must say JSON (RFC 6838 §4.2.8 counts +json): a proxy's HTML error page is not data. */
export function parseJsonObject(result: HttpResult, what: string, onCheck?: CheckObserver): Record<string, unknown> {
  const type = result.headers.get('content-type') ?? '(none)';
  const mediaType = type.split(';', 1)[0]!.trim().toLowerCase();
  check(C.NOT_JSON, mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType), () => `${what} came as ${clip(type)}, not application/json.`, onCheck);
  let value: unknown;
  try {
    value = JSON.parse(result.body);
  } catch {
    check(C.JSON_INVALID, false, () => `${what} is not valid JSON (${result.body.length} characters).`);
  }
  onCheck?.(C.JSON_INVALID, true);
  check(C.JSON_NOT_OBJECT, isObject(value), () => `${what} is JSON but not an object (it is ${Array.isArray(value) ? 'an array' : typeof value}).`, onCheck);
  return value;
}

/** RFC 8259 §4: a JSON object — not an array, not null. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
