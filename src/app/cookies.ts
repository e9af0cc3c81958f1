// The session cookie. It holds the session id and nothing else: no token, no user data.

export const SESSION_COOKIE = 'sid';

/** Reads `name=value; name2=value2` (RFC 6265bis §5.6.7). The first cookie of a name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== '' && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** The session id from the request, if it has the shape newSessionId() gives (43 base64url characters). */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  const value = parseCookies(cookieHeader).get(SESSION_COOKIE);
  return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/**
 * The Set-Cookie value for a session id (RFC 6265bis §4.1):
 * - HttpOnly: page scripts cannot read it (there are none, but an injected one could not steal it).
 * - SameSite=Lax: not sent on cross-site POSTs (a CSRF layer, RFC 6265bis §8.8), but sent on the
 *   top-level GET back from the tenant to /login/callback; Strict would drop it there and every
 *   sign-in would fail.
 * - Secure when the app runs on https: never sent over plain http.
 * - Path=/, no Domain: only this host. No Max-Age: the browser forgets it when it closes, and the
 *   server expires idle sessions (sessions.ts).
 */
export function sessionCookie(sessionId: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${sessionId}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** Tells the browser to delete the session cookie. */
export function expiredSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
