// Beyond the tutorial — keep calling Qlik after the first token.
//
// The tutorial stops at one call. A real app lives for hours: access tokens expire (Qlik: 6 h),
// the tenant may rotate refresh tokens, it rate-limits (429), and lists come in pages. qlikFetch()
// handles all of that for one signed-in user; paginate() walks a paged list.

import { ApiError } from './errors.ts';
import { httpRequest, type HttpOptions } from './http.ts';
import type { TenantMetadata } from './1-discovery.ts';
import type { ClientConfig } from './2-authorize.ts';
import { refreshTokens, type TokenSet } from './3-token.ts';
import { apiErrorFrom, processApiResponse } from './4-api.ts';

/** A token counts as expired this long before its real expiry, so a call never leaves with a token that dies in flight. */
export const EXPIRY_MARGIN_MS = 60_000;
/** How often one call waits out a 429 before giving up. */
export const MAX_RATE_LIMIT_RETRIES = 3;
/** The longest one call waits in all for 429s, in seconds. */
export const MAX_RATE_LIMIT_WAIT_SECONDS = 10;
/** The most pages paginate() follows, so a loop of `next` links cannot run forever. */
export const MAX_PAGES = 100;

/** One signed-in user's connection to the tenant. qlikFetch() replaces `tokens` as it refreshes. */
export interface QlikSession {
  metadata: TenantMetadata;
  client: ClientConfig;
  tokens: TokenSet;
  /** The refresh under way, shared by every concurrent call of this session (no stampede). */
  refreshing?: Promise<TokenSet> | undefined;
  /** Timeout, body cap and transcript hooks for every call of this session. */
  options?: HttpOptions;
  /** Told about new tokens, e.g. to store them. */
  onTokens?: (tokens: TokenSet) => void;
  /** Set at sign-out, before the tokens are revoked: from then on no refresh may start. */
  closed?: boolean;
}

/** RFC 6749 §5.1 expires_in: true once the access token is (nearly) expired. Unknown expiry never expires. */
export function isExpired(tokens: TokenSet, now: number): boolean {
  return tokens.expiresAt !== undefined && now >= tokens.expiresAt - EXPIRY_MARGIN_MS;
}

/**
 * RFC 6749 §6: refreshes the session's tokens, once for all concurrent callers. `staleAccessToken`
 * is the token the caller found wanting; if another call has already replaced it, no new refresh
 * is made. Throws TokenError when the tenant refuses (e.g. invalid_grant: sign in again).
 */
export async function refreshSession(session: QlikSession, staleAccessToken: string): Promise<TokenSet> {
  if (session.tokens.accessToken !== staleAccessToken) return session.tokens;
  // A call still in flight at sign-out must not mint a new refresh token that nobody revokes.
  if (session.closed) {
    throw new ApiError('API_UNAUTHORIZED', 'This sign-in has ended: the user signed out.', 'Sign in again.', { status: 401 });
  }
  if (!session.refreshing) {
    const refreshToken = session.tokens.refreshToken;
    if (refreshToken === undefined) {
      throw new ApiError(
        'API_UNAUTHORIZED',
        'The access token has expired and there is no refresh token to renew it.',
        'Sign in again. To stay signed in longer, add offline_access to QLIK_SCOPE and to the OAuth client.',
        { status: 401 },
      );
    }
    session.refreshing = refreshTokens(session.metadata, session.client, refreshToken, session.options)
      .then((refreshed) => {
        // RFC 6749 §5.1: a refresh answer without scope means the scope granted before.
        const tokens = { ...refreshed, scope: refreshed.scope ?? session.tokens.scope };
        session.tokens = tokens;
        session.onTokens?.(tokens);
        return tokens;
      })
      .finally(() => {
        session.refreshing = undefined;
      });
  }
  return session.refreshing;
}

/**
 * GETs a Qlik REST endpoint as the signed-in user (RFC 6750 §2.1) and returns its JSON object.
 * Refreshes first when the token is expired, and once more on a 401 invalid_token; waits out a
 * 429 as `retry-after` says, within MAX_RATE_LIMIT_RETRIES and MAX_RATE_LIMIT_WAIT_SECONDS.
 * Reads only: writes (POST, PUT, DELETE and their 201/204 answers) are beyond this lesson.
 */
export async function qlikFetch(session: QlikSession, path: string): Promise<Record<string, unknown>> {
  const url = sameTenantUrl(session, path);
  const what = `GET ${new URL(url).pathname}`;
  if (isExpired(session.tokens, Date.now())) await refreshSession(session, session.tokens.accessToken);

  let refreshedOn401 = false;
  let retries = 0;
  let waited = 0;
  for (;;) {
    const accessToken = session.tokens.accessToken;
    const result = await httpRequest(
      { method: 'GET', url, headers: { authorization: `Bearer ${accessToken}` } },
      session.options,
    );

    // RFC 6750 §3.1: invalid_token means expired or revoked. Refresh once and try again; a second
    // 401 is real (revoked grant, disabled user) and goes to the caller. Any 401 counts: Qlik's
    // 401 bodies are its own shape, and a WWW-Authenticate header is not promised.
    if (result.status === 401 && !refreshedOn401 && session.tokens.refreshToken !== undefined) {
      refreshedOn401 = true;
      await refreshSession(session, accessToken);
      continue;
    }
    // Qlik rate limits: wait as told, but not forever.
    if (result.status === 429) {
      const error = apiErrorFrom(result, what);
      const wait = error.retryAfter ?? 1; // Qlik always sends retry-after; 1 s if it ever does not
      if (retries < MAX_RATE_LIMIT_RETRIES && waited + wait <= MAX_RATE_LIMIT_WAIT_SECONDS) {
        retries++;
        waited += wait;
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        continue;
      }
      throw error;
    }
    return processApiResponse(result, what);
  }
}

/**
 * RFC 6750 §5.3: a bearer token must not reach anyone but the tenant. Paths are resolved against
 * the tenant, and an absolute URL (a `next` link, say) must be on the tenant's own origin.
 */
function sameTenantUrl(session: QlikSession, pathOrUrl: string): string {
  const tenant = new URL(session.metadata.issuer);
  const url = new URL(pathOrUrl, tenant);
  if (url.origin !== tenant.origin) {
    throw new ApiError(
      'FOREIGN_URL',
      `Refusing to send the access token to ${url.origin}: only ${tenant.origin} gets it.`,
      'A link from the tenant pointed elsewhere. Report it to your tenant admin; do not follow it with the token.',
      { status: 0 },
    );
  }
  return url.href;
}

/**
 * Qlik list endpoints: `{ data: [...], links: { next: { href } } }`. Yields every item, page by
 * page, following `links.next.href` — on the tenant's origin only (sameTenantUrl), and at most
 * MAX_PAGES pages.
 */
export async function* paginate(session: QlikSession, path: string): AsyncGenerator<Record<string, unknown>> {
  let next: string | undefined = path;
  for (let page = 0; next !== undefined; page++) {
    if (page === MAX_PAGES) {
      throw new ApiError(
        'TOO_MANY_PAGES',
        `Stopped after ${MAX_PAGES} pages of ${path}; the list may be looping.`,
        'Ask for fewer items (a filter or a smaller query), or raise MAX_PAGES if the list really is that long.',
        { status: 200 },
      );
    }
    const body = await qlikFetch(session, next);
    const items = Array.isArray(body.data) ? body.data : [];
    for (const item of items) if (typeof item === 'object' && item !== null) yield item as Record<string, unknown>;
    next = nextLink(body);
  }
}

function nextLink(body: Record<string, unknown>): string | undefined {
  const links = body.links as { next?: { href?: unknown } } | undefined;
  const href = links?.next?.href;
  return typeof href === 'string' && href !== '' ? href : undefined;
}
