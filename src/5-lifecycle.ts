// Beyond the tutorial — keep calling Qlik after the first token, and end the sign-in cleanly.
//
// The tutorial stops at one call. A real app lives for hours: access tokens expire (Qlik: 6 h),
// the tenant may rotate refresh tokens, it rate-limits (429), lists come in pages, and a user signs
// out. In the order docs/lifecycle.md reads them:
//   refreshTokens() / refreshSession() — a new access token from the refresh token, once for all callers;
//   qlikFetch()                        — any Qlik REST call as the user: refresh, 401 and 429 handled;
//   paginate()                         — every item of a paged list, on the tenant only;
//   revokeToken() / closeSession()     — sign-out: no more refreshes, both tokens revoked.

import { ApiError, HttpError, LifecycleError, QlikOAuthError, TokenError, clip } from './errors.ts';
import { httpRequest, type HttpOptions, type HttpRequest } from './http.ts';
import type { TenantMetadata } from './1-discovery.ts';
import { clientAuthentication, type ClientCredentials } from './client.ts';
import { requestTokens, tokenErrorFrom, type TokenSet } from './3-token.ts';
import { apiErrorFrom, bearerRequest, processApiResponse } from './4-api.ts';

/** The most a token is refreshed ahead of its expiry, so a call never leaves with a token that dies in flight. */
export const EXPIRY_MARGIN_MS = 60_000;
/** How often one call waits out a 429 before giving up. */
export const MAX_RATE_LIMIT_RETRIES = 3;
/** The longest one call waits in all for 429s, in seconds, unless the session says otherwise. */
export const MAX_RATE_LIMIT_WAIT_SECONDS = 10;
/** The most pages paginate() follows, so a loop of `next` links cannot run forever. */
export const MAX_PAGES = 100;
/** The longest link from the tenant we follow: Qlik's `next` links are a few hundred characters. */
export const MAX_URL_LENGTH = 8_192;

/** One signed-in user's (or machine's) connection to the tenant. qlikFetch() replaces `tokens` as it refreshes. */
export interface QlikSession {
  metadata: TenantMetadata;
  client: ClientCredentials;
  tokens: TokenSet;
  /** The refresh under way, shared by every concurrent call of this session (no stampede). */
  refreshing?: Promise<TokenSet> | undefined;
  /** Timeout, body cap, fetch and transcript hooks for every call of this session. */
  options?: HttpOptions;
  /** Told about new tokens, e.g. to store them. */
  onTokens?: (tokens: TokenSet) => void;
  /** Set by closeSession(): from then on no call may use or refresh the tokens. */
  closed?: boolean;
  /** How long one call may wait for 429s, in all, in seconds (default MAX_RATE_LIMIT_WAIT_SECONDS). Beyond it, it fails at once. */
  rateLimitBudgetSeconds?: number;
  /**
   * How to get a new access token when there is no refresh token: machine-to-machine sessions ask
   * for a new client_credentials grant (src/6-machine.ts). Default: none (sign in again).
   */
  renew?: (() => Promise<TokenSet>) | undefined;
}

/**
 * How long before expiry a token counts as expired: EXPIRY_MARGIN_MS, but never more than half its
 * lifetime — a token that lives 3 s would otherwise be "expired" the moment it arrives, and be
 * refreshed on every call until the tenant's limit (100 token requests a minute) answers 429.
 */
export function refreshMarginMs(tokens: TokenSet): number {
  return tokens.lifetimeMs === undefined ? EXPIRY_MARGIN_MS : Math.min(EXPIRY_MARGIN_MS, tokens.lifetimeMs / 2);
}

/** RFC 6749 §5.1: true once the access token is in its refresh margin. Unknown expiry never expires. */
export function isExpired(tokens: TokenSet, now: number): boolean {
  return tokens.expiresAt !== undefined && now >= tokens.expiresAt - refreshMarginMs(tokens);
}

/**
 * RFC 6749 §6: trades a refresh token for a new access token. When the tenant sends a new refresh
 * token (rotation) it replaces the old one; when it sends none, the old one stays valid and is
 * kept; when it sends no scope, the scope is the one granted before (§5.1).
 */
export async function refreshTokens(
  metadata: TenantMetadata,
  client: ClientCredentials,
  tokens: TokenSet,
  options: HttpOptions = {},
): Promise<TokenSet> {
  if (tokens.refreshToken === undefined) {
    throw new LifecycleError(
      'NO_REFRESH_TOKEN',
      'The access token has expired and there is no refresh token to renew it.',
      'Sign in again. To stay signed in longer, ask for the offline_access scope (and allow it on the OAuth client).',
      { signInAgain: true, settings: ['scope'] },
    );
  }
  const refreshed = await requestTokens(
    metadata,
    client,
    { grant_type: 'refresh_token', refresh_token: tokens.refreshToken },
    options,
    'refresh the token',
  );
  return { ...refreshed, refreshToken: refreshed.refreshToken ?? tokens.refreshToken, scope: refreshed.scope ?? tokens.scope };
}

/**
 * Renews the session's tokens, once for all concurrent callers. `staleAccessToken` is the token the
 * caller found wanting; if another call has already replaced it, no new refresh is made. A refusal
 * becomes a LifecycleError REFRESH_FAILED that says whether the sign-in is over.
 */
export async function refreshSession(session: QlikSession, staleAccessToken: string): Promise<TokenSet> {
  if (session.tokens.accessToken !== staleAccessToken) return session.tokens;
  // A call still in flight at sign-out must not mint a new refresh token that nobody revokes.
  throwIfClosed(session);
  session.refreshing ??= renew(session)
    .then((tokens) => {
      // Signed out while the refresh was under way: closeSession() revokes what it brought.
      session.tokens = tokens;
      session.onTokens?.(tokens);
      return tokens;
    })
    .finally(() => {
      session.refreshing = undefined;
    });
  return session.refreshing;
}

async function renew(session: QlikSession): Promise<TokenSet> {
  // A session that renews itself (machine-to-machine) says what went wrong in its own words:
  // "sign in again" means nothing to a program with no user.
  if (session.tokens.refreshToken === undefined && session.renew) return session.renew();
  try {
    return await refreshTokens(session.metadata, session.client, session.tokens, session.options);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    // RFC 6749 §5.2: 400 invalid_grant or 401 (Qlik) means the grant is dead; 403, the user is
    // disabled. A 429 (Qlik: 100 token requests a minute) or a 5xx is a reason to wait, not to end it.
    const dead = error.status === 400 || error.status === 401 || error.status === 403;
    throw new LifecycleError(
      'REFRESH_FAILED',
      `${error.message}`,
      dead ? 'Sign in again.' : error.hint,
      { signInAgain: dead, retryAfter: error.retryAfter, cause: error },
    );
  }
}

function throwIfClosed(session: QlikSession): void {
  if (session.closed) {
    throw new LifecycleError('SESSION_CLOSED', 'This sign-in has ended: the user signed out.', 'Sign in again.', { signInAgain: true });
  }
}

/** A Qlik REST call: GET by default; a write names its method and gives a JSON body. */
export interface QlikRequest {
  method?: HttpRequest['method'];
  /** Sent as JSON. */
  json?: unknown;
  /** Stops the call (and any wait for a 429) when the caller's own deadline passes. */
  signal?: AbortSignal;
}

/**
 * Calls a Qlik REST endpoint as the signed-in user (RFC 6750 §2.1) and returns its JSON object (an
 * empty one for a 204). Refreshes first when the token is in its margin, and once more on a 401;
 * waits out a 429 as `retry-after` says, within the session's budget, and beyond it fails at once
 * with the wait in the error. A write is sent again only when the tenant cannot have acted on it.
 */
export async function qlikFetch(session: QlikSession, path: string, request: QlikRequest = {}): Promise<Record<string, unknown>> {
  const url = sameTenantUrl(session, path);
  const method = request.method ?? 'GET';
  const what = `${method} ${new URL(url).pathname}`;
  const options = request.signal ? { ...session.options, signal: request.signal } : session.options;
  throwIfClosed(session);
  if (isExpired(session.tokens, Date.now())) await refreshSession(session, session.tokens.accessToken);

  const budget = session.rateLimitBudgetSeconds ?? MAX_RATE_LIMIT_WAIT_SECONDS;
  let refreshedOn401 = false;
  let retries = 0;
  let waited = 0;
  for (;;) {
    throwIfClosed(session);
    const accessToken = session.tokens.accessToken;
    let result;
    try {
      result = await bearerRequest(session.metadata, accessToken, { method, url, json: request.json }, options);
    } catch (error) {
      throw method === 'GET' ? error : outcomeUnknown(what, error);
    }

    // RFC 6750 §3.1: invalid_token means expired or revoked. Refresh once and try again — a write
    // too: the tenant did not act on a request it did not authorise. A second 401 is real (revoked
    // grant, disabled user). Any 401 counts: Qlik's 401 bodies are its own shape.
    if (result.status === 401 && !refreshedOn401 && (session.tokens.refreshToken !== undefined || session.renew)) {
      refreshedOn401 = true;
      await refreshSession(session, accessToken);
      continue;
    }
    // Qlik rate limits: a 429 was not processed, so it may be sent again — after the wait the
    // tenant asks for, if that fits the budget. Otherwise fail now, with the wait in the error.
    if (result.status === 429) {
      const error = apiErrorFrom(result, what);
      const wait = error.retryAfter ?? 1; // Qlik always sends retry-after; 1 s if it ever does not
      if (retries < MAX_RATE_LIMIT_RETRIES && waited + wait <= budget) {
        retries++;
        waited += wait;
        await sleep(wait * 1000, request.signal);
        continue;
      }
      throw error;
    }
    // RFC 9110 §9.2.2: a write that failed on the tenant's side may have been applied: never resend it.
    if (result.status >= 500 && method !== 'GET') throw outcomeUnknown(what, apiErrorFrom(result, what));
    return processApiResponse(result, what, { write: method !== 'GET' });
  }
}

/** A write whose fate is unknown: it timed out, the connection broke, or the tenant failed with a 5xx. */
function outcomeUnknown(what: string, error: unknown): unknown {
  if (!(error instanceof HttpError || error instanceof ApiError) || error.code === 'INSECURE_URL') return error;
  return new LifecycleError(
    'WRITE_OUTCOME_UNKNOWN',
    `${what} may or may not have been applied: ${error.message}`,
    'Check the resource at the tenant before you try again; this write was not sent twice.',
    { cause: error },
  );
}

/** Waits, unless the caller's deadline passes first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', stop);
      resolve();
    }
    function stop() {
      clearTimeout(timer);
      reject(new LifecycleError('DEADLINE_EXCEEDED', 'The request ran out of time while waiting for the tenant’s rate limit.', 'Try again in a moment.'));
    }
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/**
 * RFC 6750 §5.3: a bearer token must not reach anyone but the tenant. Paths are resolved against
 * the tenant, and an absolute URL (a `next` link, say) must be on the tenant's own origin.
 */
function sameTenantUrl(session: QlikSession, pathOrUrl: string): string {
  // No RFC: Qlik's links are short; a megabyte "link" is refused before any work on it.
  if (pathOrUrl.length > MAX_URL_LENGTH) {
    throw new LifecycleError(
      'URL_TOO_LONG',
      `Refusing a link of ${pathOrUrl.length} characters (at most ${MAX_URL_LENGTH}): ${clip(pathOrUrl, 60)}.`,
      'A link from the tenant is absurdly long. Report it to your tenant admin.',
    );
  }
  const tenant = new URL(session.metadata.issuer);
  const url = new URL(pathOrUrl, tenant);
  if (url.origin !== tenant.origin) {
    throw new LifecycleError(
      'FOREIGN_URL',
      `Refusing to send the access token to ${clip(url.origin)}: only ${tenant.origin} gets it.`,
      'A link from the tenant pointed elsewhere. Report it to your tenant admin; do not follow it with the token.',
    );
  }
  return url.href;
}

/**
 * Qlik list endpoints: `{ data: [...], links: { next: { href } } }`. Yields every item, page by
 * page, following `links.next.href` — on the tenant's origin only (sameTenantUrl), and at most
 * `maxPages` pages (default MAX_PAGES).
 */
export async function* paginate(
  session: QlikSession,
  path: string,
  { maxPages = MAX_PAGES, signal }: { maxPages?: number; signal?: AbortSignal } = {},
): AsyncGenerator<Record<string, unknown>> {
  let next: string | undefined = path;
  for (let page = 0; next !== undefined; page++) {
    if (page === maxPages) {
      throw new LifecycleError(
        'TOO_MANY_PAGES',
        `Stopped after ${maxPages} pages of ${clip(path)}; the list may be looping.`,
        'Ask for fewer items (a filter or a smaller query), or raise the page limit if the list really is that long.',
      );
    }
    const body = await qlikFetch(session, next, signal ? { signal } : {});
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

/**
 * RFC 7009 §2.1: asks the tenant to revoke a token (Qlik: POST /oauth/revoke). The documented body
 * has no client credentials; RFC 7009 §2.1 lets a confidential client send them, and we do. Per
 * §2.2 the tenant answers 200 even for a token it does not know, so any 200 is success.
 */
export async function revokeToken(
  metadata: TenantMetadata,
  client: ClientCredentials,
  token: { token: string; hint: 'refresh_token' | 'access_token' },
  options: HttpOptions = {},
): Promise<void> {
  const endpoint = metadata.revocationEndpoint ?? `${metadata.issuer}/oauth/revoke`;
  const auth = clientAuthentication(client, metadata.tokenEndpointAuthMethods);
  const result = await httpRequest(
    {
      method: 'POST',
      url: endpoint,
      issuer: metadata.issuer,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth.headers },
      body: new URLSearchParams({ token: token.token, token_type_hint: token.hint, ...auth.fields }).toString(),
    },
    options,
  );
  if (result.status !== 200) {
    const refused = tokenErrorFrom(result, 'revoke the token');
    throw new LifecycleError('REVOKE_FAILED', refused.message, 'The token stops working when it expires.', { cause: refused, retryAfter: refused.retryAfter });
  }
}

/**
 * Signs the session out at the tenant: no call may use or refresh its tokens from now on, a refresh
 * under way is waited for (so that what it brings is revoked too), then the refresh token is revoked
 * (the tenant then may drop the access tokens of the same grant too) and the access token. Both are
 * tried even when one fails. Returns the failures, so that the caller can say the sign-out worked
 * here but the tenant may still honour a token until it expires.
 */
export async function closeSession(session: QlikSession): Promise<QlikOAuthError[]> {
  session.closed = true;
  await session.refreshing?.catch(() => {});
  const failures: QlikOAuthError[] = [];
  const revoke = async (token: string, hint: 'refresh_token' | 'access_token') => {
    try {
      await revokeToken(session.metadata, session.client, { token, hint }, session.options);
    } catch (error) {
      if (!(error instanceof QlikOAuthError)) throw error;
      failures.push(error);
    }
  };
  if (session.tokens.refreshToken !== undefined) await revoke(session.tokens.refreshToken, 'refresh_token');
  // A machine session that never fetched a token holds an empty one: nothing to revoke.
  if (session.tokens.accessToken !== '') await revoke(session.tokens.accessToken, 'access_token');
  return failures;
}
