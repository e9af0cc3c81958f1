// The app's cookies. The session cookie holds the session id and nothing else: no token, no user
// data. A pending sign-in's cookie holds its state and PKCE verifier, sealed (seal.ts), so that a
// sign-in under way costs the server nothing and no flood of requests can push it out.

import { createHash } from 'node:crypto';
import { seal, unseal, type SealKey } from './seal.ts';

/**
 * The session cookie's name. Behind https it is `__Host-sid` (RFC 6265bis §4.1.3.2): a browser
 * keeps such a cookie only when it is Secure, has Path=/ and no Domain, and set by this very host
 * over https — so a sibling subdomain or a plain-http answer for this host cannot plant one
 * ("first cookie wins" would otherwise let a planted id shadow ours: login CSRF). Plain http is
 * for localhost only, where no prefix is possible.
 */
function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-sid' : 'sid';
}

/** Reads `name=value; name2=value2` (RFC 6265bis §5.6.7). Every value of a name, in the order sent. */
export function parseCookies(header: string | undefined): Map<string, string[]> {
  const cookies = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name === '') continue;
    const values = cookies.get(name) ?? [];
    values.push(part.slice(eq + 1).trim());
    cookies.set(name, values);
  }
  return cookies;
}

/**
 * The session id from the request, if it has the shape newSessionId() gives (43 base64url
 * characters). Two session cookies are treated as none: one of them was planted (a sibling
 * subdomain's, or an older path's), and a browser's cookie order cannot tell which is ours.
 */
export function sessionIdFrom(cookies: Map<string, string[]>, secure: boolean): string | undefined {
  const values = cookies.get(sessionCookieName(secure));
  if (values === undefined || values.length !== 1) return undefined;
  return /^[A-Za-z0-9_-]{43}$/.test(values[0]!) ? values[0] : undefined;
}

/**
 * The Set-Cookie value for a session id (RFC 6265bis §4.1):
 * - HttpOnly: page scripts cannot read it (there are none, but an injected one could not steal it).
 * - SameSite=Lax: not sent on cross-site POSTs (a CSRF layer, RFC 6265bis §8.8), but sent on the
 *   top-level GET back from the tenant to /login/callback; Strict would drop it there and every
 *   sign-in would fail.
 * - Secure, and the `__Host-` name, when the app runs on https: never sent over plain http, and
 *   not plantable (sessionCookieName).
 * - Path=/, no Domain: only this host. No Max-Age: the browser forgets it when it closes, and the
 *   server expires idle sessions (sessions.ts).
 */
export function sessionCookie(sessionId: string, secure: boolean): string {
  return `${sessionCookieName(secure)}=${sessionId}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** A sign-in started at GET /login, as sealed into its cookie. */
export interface PendingSignIn {
  state: string;
  codeVerifier: string;
  /** Our clock, ms. */
  createdAt: number;
  /** bindingOf() the session id the browser had at GET /login: the callback must come from that browser. */
  binding: string;
  /** prompt=login asked for at GET /login (sign in as someone else). */
  prompt?: 'login';
}

/** What a callback's state finds among the browser's sign-in cookies; `used`: the marker of a finished one. */
type PendingCookie = { kind: 'pending'; login: PendingSignIn } | { kind: 'used' } | { kind: 'none' };

/**
 * How long the browser keeps a pending sign-in's cookie: longer than the sign-in may take (10
 * minutes, sessions.ts), so that a late callback is told "expired" rather than "not yours".
 */
const PENDING_COOKIE_SECONDS = 15 * 60;

/**
 * One cookie per sign-in, so that tabs signing in at once never overwrite each other's. Named by
 * the state's first characters (the state is in the callback URL anyway), so the callback opens
 * one cookie, not all of them. `__Secure-` behind https: only an https answer can set it.
 */
function pendingCookieName(state: string, secure: boolean): string {
  return `${secure ? '__Secure-' : ''}signin-${state.slice(0, 8).replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** A short hash of a session id: what a pending sign-in is bound to (a leaked cookie key must not reveal ids). */
export function bindingOf(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url').slice(0, 22);
}

/**
 * The Set-Cookie value of a pending sign-in (RFC 6265bis §4.1): sealed; Path=/login, so it is sent
 * to /login (which counts them: expireOldSignInCookies) and to the callback, and nowhere else;
 * HttpOnly; SameSite=Lax, because the callback is a top-level GET from the tenant's site; Max-Age,
 * so the browser drops it on its own.
 */
export function pendingCookie(key: SealKey, login: PendingSignIn, secure: boolean): string {
  return signInCookie(key, login.state, login, secure);
}

/**
 * Replaces a finished (or expired) sign-in's cookie with a marker that says so, kept as long as the
 * sign-in's own cookie would have been: a reload or the Back button then gets "already used", from
 * the browser's own cookie, however many other sign-ins the server has seen since.
 */
export function usedPendingCookie(key: SealKey, state: string, secure: boolean): string {
  return signInCookie(key, state, { used: state }, secure);
}

function signInCookie(key: SealKey, state: string, value: object, secure: boolean): string {
  const name = pendingCookieName(state, secure);
  return `${name}=${seal(key, name, value)}; ${pendingAttributes(PENDING_COOKIE_SECONDS, secure)}`;
}

function pendingAttributes(maxAgeSeconds: number, secure: boolean): string {
  return `Path=/login; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** Sign-in cookies a browser keeps, pending or used: a few tabs signing in at once, no more. */
export const MAX_SIGN_IN_COOKIES = 5;

/**
 * For GET /login, which adds one: Set-Cookie values that expire (Max-Age=0) the browser's oldest
 * sign-in cookies beyond MAX_SIGN_IN_COOKIES - 1. Each is ~300 bytes and lasts 15 minutes: without
 * a cap, a page that sent the browser to /login 60 times made its Cookie header too large for the
 * callback (431), and locked it out of sign-in until they expired. Used markers, and cookies that
 * do not open, go first: they start no sign-in.
 */
export function expireOldSignInCookies(key: SealKey, cookies: Map<string, string[]>, secure: boolean): string[] {
  const prefix = pendingCookieName('', secure); // what every sign-in cookie's name starts with
  const signIns = [...cookies]
    .filter(([name]) => name.startsWith(prefix))
    .map(([name, values]) => {
      const { createdAt } = opened(key, name, values);
      return { name, createdAt: typeof createdAt === 'number' ? createdAt : 0 };
    })
    .sort((a, b) => b.createdAt - a.createdAt); // newest first
  return signIns.slice(MAX_SIGN_IN_COOKIES - 1).map(({ name }) => `${name}=; ${pendingAttributes(0, secure)}`);
}

/** The fields sealed in a sign-in cookie; none for a tampered, foreign or duplicated one. */
function opened(key: SealKey, name: string, values: readonly string[] | undefined): Record<string, unknown> {
  const value = values?.length === 1 ? unseal(key, name, values[0]!) : undefined;
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** The pending sign-in (or marker) the browser holds for this state. Tampered, foreign or duplicated cookies count as none. */
export function readPendingCookie(key: SealKey, cookies: Map<string, string[]>, state: string, secure: boolean): PendingCookie {
  const name = pendingCookieName(state, secure);
  const fields = opened(key, name, cookies.get(name));
  if (fields.used === state) return { kind: 'used' };
  const { codeVerifier, createdAt, binding } = fields;
  // Sealed by us, so well formed; the state must still be the callback's (the name holds only 8 characters of it).
  if (fields.state !== state || typeof codeVerifier !== 'string' || typeof createdAt !== 'number' || typeof binding !== 'string') {
    return { kind: 'none' };
  }
  // The sealed copy of the state, not the callback's: a value read from a URL can be a slice that
  // keeps the whole URL (16 KB of an attacker's parameters) alive for as long as it is remembered.
  return { kind: 'pending', login: { state: fields.state, codeVerifier, createdAt, binding, ...(fields.prompt === 'login' ? { prompt: 'login' } : {}) } };
}

/**
 * The sign-ins under way for the session `binding` names, from this browser's sealed cookies: what a
 * callback's state should have been. At most MAX_SIGN_IN_COOKIES are opened, however many come.
 */
export function pendingSignInsOf(key: SealKey, cookies: Map<string, string[]>, binding: string, secure: boolean): { state: string; createdAt: number }[] {
  const prefix = pendingCookieName('', secure);
  const named = [...cookies].filter(([name, values]) => name.startsWith(prefix) && values.length === 1).slice(0, MAX_SIGN_IN_COOKIES);
  const found: { state: string; createdAt: number }[] = [];
  for (const [name, values] of named) {
    const fields = opened(key, name, values);
    if (typeof fields.state === 'string' && typeof fields.createdAt === 'number' && fields.binding === binding) {
      found.push({ state: fields.state, createdAt: fields.createdAt });
    }
  }
  return found;
}
