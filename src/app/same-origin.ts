// Is this POST from one of our own pages? A cross-site form could otherwise sign the user out
// (logout CSRF). SameSite=Lax already keeps the cookie off cross-site POSTs; this check does not
// depend on the cookie at all, so it also holds for same-site attackers (a sibling subdomain).

import type { IncomingHttpHeaders } from 'node:http';

type OriginVerdict = { ok: true } | { ok: false; reason: string };

/**
 * RFC 6454 §7 / Fetch: browsers send `Origin` on every POST. It must be our origin exactly.
 * Without it (old browsers, some privacy settings): Fetch Metadata `Sec-Fetch-Site` must say
 * same-origin; without that too, the `Referer` must be one of our pages (our pages send it to
 * us only: Referrer-Policy same-origin, see reply.ts). `Origin: null` (a sandboxed frame, or a page
 * with Referrer-Policy no-referrer) says nothing about where the post came from: refused.
 */
export function checkSameOrigin(headers: IncomingHttpHeaders, appOrigin: string): OriginVerdict {
  const origin = headers.origin;
  if (origin !== undefined) {
    return origin === appOrigin ? { ok: true } : { ok: false, reason: `the request came from ${origin}, not ${appOrigin}` };
  }
  const fetchSite = headers['sec-fetch-site'];
  if (fetchSite !== undefined) {
    return fetchSite === 'same-origin' ? { ok: true } : { ok: false, reason: `the browser says it came from a ${fetchSite} page` };
  }
  const referer = headers.referer;
  if (referer !== undefined && URL.canParse(referer) && new URL(referer).origin === appOrigin) return { ok: true };
  return { ok: false, reason: 'the request says neither where it came from (no Origin) nor that it came from this app' };
}
