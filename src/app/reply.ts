// What a route handler returns: plain data (status, headers, body), written out by server.ts.
// Keeping replies as data makes each handler easy to read and keeps all headers in one place.

import type { ServerResponse } from 'node:http';
import type { SafeHtml } from './html.ts';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Set-Cookie values: the session cookie, when it is new or changes. */
  cookies: string[];
}

export function pageReply(status: number, page: SafeHtml, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', ...headers }, body: page.text, cookies: [] };
}

export function jsonReply(status: number, value: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(value, null, 2), cookies: [] };
}

export function redirectReply(location: string, cookies: string[] = []): Reply {
  return { status: 302, headers: { location }, body: '', cookies };
}

/**
 * Headers on every response, pages, JSON and redirects alike.
 * - CSP: no script, no plugin, no frame, nothing loaded from elsewhere; forms may only post here or
 *   to the tenant; `frame-ancestors 'none'` stops clickjacking (RFC 9700 §4.16).
 * - no-store: pages show the user's name; a shared cache or the Back button must not replay them.
 * - Referrer-Policy same-origin: other sites never get a Referer from us. Not no-referrer: with
 *   that, browsers send `Origin: null` on our own form posts (Fetch, "append a request Origin
 *   header"), and the sign-out check (same-origin.ts) could not tell them from a forged one.
 *   The callback, whose URL holds the code and state, gets no-referrer (server.ts).
 * - nosniff: a JSON body is never run as a script or shown as HTML.
 */
export function securityHeaders(tenantOrigin: string): Record<string, string> {
  return {
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${tenantOrigin}; frame-ancestors 'none'; base-uri 'none'`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
    'referrer-policy': 'same-origin',
  };
}

/** Writes a reply. On HEAD, Node sends the headers and leaves out the body by itself. */
export function writeReply(res: ServerResponse, reply: Reply, tenantOrigin: string): void {
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries({ ...securityHeaders(tenantOrigin), ...reply.headers })) {
    res.setHeader(name, value);
  }
  if (reply.cookies.length > 0) res.setHeader('set-cookie', reply.cookies);
  res.setHeader('content-length', Buffer.byteLength(reply.body));
  res.end(reply.body);
}
