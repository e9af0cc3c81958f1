// Beyond the tutorial — keep calling Qlik after the first token, and end the sign-in cleanly.
//
// The tutorial stops at one call. A real app lives for hours: access tokens expire (Qlik: 6 h),
// the tenant may rotate refresh tokens, it rate-limits (429), lists come in pages, and a user signs
// out. In the order docs/lifecycle.md reads them:
//   refreshTokens()               — a new access token from the refresh token (RFC 6749 §6);
//   refreshSession()              — renews a session's tokens from its source, once for all callers;
//   qlikFetch()                   — any Qlik REST call as the user: refresh, 401 and 429 handled;
//   paginate()                    — every item of a paged list, on the tenant only;
//   revokeToken() / closeSession() — sign-out: no more refreshes, both tokens revoked.

import { QlikOAuthError, check, clip, defineChecks } from './errors.ts';
import { TenantError } from './tenant-error.ts';
import type { HttpOptions, HttpRequest } from './http.ts';
import type { TenantMetadata } from './3.1-discovery.ts';
import { clientPost, type ClientCredentials } from './client.ts';
import { processTokenResponse, tokenErrorFrom, type TokenSet } from './3.3-token.ts';
import { apiErrorFrom, bearerRequest, processApiResponse } from './3.4-api.ts';

const BOUNDED = 'Robustness: every call is bounded';
export const LIFECYCLE_CHECKS = defineChecks('lifecycle', {
  NO_REFRESH_TOKEN: { rule: 'RFC 6749 §6', title: 'an expired access token comes with a refresh token to renew it', hint: 'Sign in again. To stay signed in longer, ask for the offline_access scope (and allow it on the OAuth client).', settings: ['scope'] },
  SESSION_CLOSED: { rule: 'RFC 7009 §2.1', title: 'no token is used or refreshed after sign-out', hint: 'Sign in again.' },
  REFRESH_FAILED: { rule: 'RFC 6749 §5.2', title: 'the tenant renews the access token', hint: 'Sign in again.' },
  REVOKE_FAILED: { rule: 'RFC 7009 §2.2', title: 'the tenant revokes the token', hint: 'The token stops working when it expires.' },
  WRITE_OUTCOME_UNKNOWN: { rule: 'RFC 9110 §9.2.2', title: 'a write that may have been processed is not sent twice', hint: 'Check the resource at the tenant before you try again; this write was not sent twice.' },
  DEADLINE_EXCEEDED: { rule: BOUNDED, title: 'a request to the app finishes its tenant calls within its deadline', hint: 'Try again in a moment.' },
  FOREIGN_URL: { rule: 'RFC 6750 §5.3', title: 'the bearer token goes to the tenant origin only', hint: 'A link from the tenant pointed elsewhere. Report it to your tenant admin; do not follow it with the token.' },
  URL_TOO_LONG: { rule: BOUNDED, title: 'a link from the tenant is of a sane length', hint: 'A link from the tenant is absurdly long. Report it to your tenant admin.' },
  TOO_MANY_PAGES: { rule: BOUNDED, title: 'a paged list ends within the page limit', hint: 'Ask for fewer items (a filter or a smaller query), or raise the page limit if the list really is that long.' },
});
const C = LIFECYCLE_CHECKS;

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

/** Where a session's new tokens come from, given the ones it has (golang/oauth2's TokenSource). */
export type TokenSource = (current: TokenSet | undefined) => Promise<TokenSet>;

/** One signed-in user's (or machine's) connection to the tenant. refreshSession() replaces `tokens`. */
export interface QlikSession {
  metadata: TenantMetadata;
  client: ClientCredentials;
  /** Undefined until a machine session has fetched its first token. */
  tokens: TokenSet | undefined;
  /** Default: the user's refresh token (refreshFromToken). Machine sessions ask for a new grant (src/machine.ts). */
  source?: TokenSource;
  /** The renewal under way, shared by every concurrent call of this session (no stampede). */
  refreshing?: Promise<TokenSet> | undefined;
  /** Timeout, body cap, fetch and transcript hooks for every call of this session. */
  options?: HttpOptions;
  /** Told about new tokens, e.g. to store them. */
  onTokens?: (tokens: TokenSet) => void;
  /** Set by closeSession(): from then on no call may use or refresh the tokens. */
  closed?: boolean;
  /** How long one call may wait for 429s, in all, in seconds (default MAX_RATE_LIMIT_WAIT_SECONDS). */
  rateLimitBudgetSeconds?: number;
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
 * RFC 6749 §6: trades a refresh token for a new access token. A new refresh token (rotation)
 * replaces the old one; none keeps the old one; no scope means the scope granted before (§5.1).
 */
export async function refreshTokens(metadata: TenantMetadata, client: ClientCredentials, tokens: TokenSet, options: HttpOptions = {}): Promise<TokenSet> {
  check(C.NO_REFRESH_TOKEN, tokens.refreshToken !== undefined, () => 'The access token has expired and there is no refresh token to renew it.', undefined, { signInAgain: true });
  const grant = { grant_type: 'refresh_token', refresh_token: tokens.refreshToken };
  const result = await clientPost(metadata, client, metadata.tokenEndpoint, grant, options);
  const refreshed = processTokenResponse(result, Date.now(), options, 'refresh the token');
  return { ...refreshed, refreshToken: refreshed.refreshToken ?? tokens.refreshToken, scope: refreshed.scope ?? tokens.scope };
}

/**
 * A session's default source: its refresh token. A refusal becomes REFRESH_FAILED, which says
 * whether the sign-in is over: RFC 6749 §5.2's 400 invalid_grant or Qlik's 401 mean the grant is
 * dead, a 403 that the user is disabled; a 429 or a 5xx is a reason to wait, not to end it.
 */
function refreshFromToken(session: QlikSession): TokenSource {
  return async (current) => {
    check(C.NO_REFRESH_TOKEN, current?.refreshToken !== undefined, () => 'The access token has expired and there is no refresh token to renew it.', undefined, { signInAgain: true });
    try {
      return await refreshTokens(session.metadata, session.client, current, session.options);
    } catch (error) {
      if (!(error instanceof TenantError)) throw error;
      const dead = error.status === 400 || error.status === 401 || error.status === 403;
      throw new QlikOAuthError(C.REFRESH_FAILED, error.message, { hint: dead ? undefined : error.hint, signInAgain: dead, retryAfter: error.retryAfter, cause: error });
    }
  };
}

/**
 * Renews the session's tokens from its source, once for all concurrent callers (golang/oauth2's
 * ReuseTokenSource). `staleAccessToken` is the token the caller found wanting; if another call
 * has already replaced it, no new request is made.
 */
export async function refreshSession(session: QlikSession, staleAccessToken: string | undefined): Promise<TokenSet> {
  if (session.tokens !== undefined && session.tokens.accessToken !== staleAccessToken) return session.tokens;
  // A call still in flight at sign-out must not mint a new refresh token that nobody revokes.
  throwIfClosed(session);
  const source = session.source ?? refreshFromToken(session);
  session.refreshing ??= source(session.tokens)
    .then((tokens) => {
      // Signed out while the renewal was under way: closeSession() revokes what it brought.
      session.tokens = tokens;
      session.onTokens?.(tokens);
      return tokens;
    })
    .finally(() => {
      session.refreshing = undefined;
    });
  return session.refreshing;
}

/** The session's access token, fetched or renewed first when it is missing or in its margin. */
export async function sessionAccessToken(session: QlikSession): Promise<string> {
  throwIfClosed(session);
  const tokens = session.tokens;
  if (tokens === undefined || isExpired(tokens, Date.now())) return (await refreshSession(session, tokens?.accessToken)).accessToken;
  return tokens.accessToken;
}

function throwIfClosed(session: QlikSession): void {
  check(C.SESSION_CLOSED, !session.closed, () => 'This sign-in has ended: the user signed out.', undefined, { signInAgain: true });
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
 * Calls a Qlik REST endpoint as the session's user (RFC 6750 §2.1) and returns its JSON object (an
 * empty one for a 204). Renews first when the token is in its margin, and once more on a 401;
 * waits out a 429 as `retry-after` says, within the session's budget, and beyond it fails at once
 * with the wait in the error. A write is sent again only when the tenant cannot have acted on it.
 */
export async function qlikFetch(session: QlikSession, path: string, request: QlikRequest = {}): Promise<Record<string, unknown>> {
  const url = sameTenantUrl(session, path);
  const method = request.method ?? 'GET';
  const what = `${method} ${new URL(url).pathname}`;
  const options = request.signal ? { ...session.options, signal: request.signal } : session.options;
  const budget = session.rateLimitBudgetSeconds ?? MAX_RATE_LIMIT_WAIT_SECONDS;
  let renewedOn401 = false;
  let retries = 0;
  let waited = 0;
  for (;;) {
    const accessToken = await sessionAccessToken(session);
    let result;
    try {
      result = await bearerRequest(session.metadata, accessToken, { method, url, json: request.json }, options);
    } catch (error) {
      throw method === 'GET' ? error : outcomeUnknown(what, error);
    }
    // RFC 6750 §3.1: invalid_token means expired or revoked. Renew once and try again — a write too:
    // the tenant did not act on a request it did not authorise. A second 401 is real.
    if (result.status === 401 && !renewedOn401 && (session.tokens?.refreshToken !== undefined || session.source)) {
      renewedOn401 = true;
      await refreshSession(session, accessToken);
      continue;
    }
    // Qlik rate limits: a 429 was not processed, so it may be sent again — after the wait the
    // tenant asks for, if that fits the budget. Otherwise fail now, with the wait in the error.
    if (result.status === 429) {
      const error = apiErrorFrom(result, what);
      const wait = error.retryAfter ?? 1; // Qlik always sends retry-after; 1 s if it ever does not
      if (retries === MAX_RATE_LIMIT_RETRIES || waited + wait > budget) throw error;
      retries++;
      waited += wait;
      await sleep(wait * 1000, request.signal);
      continue;
    }
    // RFC 9110 §9.2.2: a write that failed on the tenant's side may have been applied: never resend it.
    if (result.status >= 500 && method !== 'GET') throw outcomeUnknown(what, apiErrorFrom(result, what));
    return processApiResponse(result, what, { write: method !== 'GET' });
  }
}

/** A write whose fate is unknown: it timed out, the connection broke, or the tenant failed with a 5xx. */
function outcomeUnknown(what: string, error: unknown): unknown {
  const unknown = error instanceof QlikOAuthError && (error.step === 'http' || error instanceof TenantError) && error.code !== 'INSECURE_URL';
  return unknown ? new QlikOAuthError(C.WRITE_OUTCOME_UNKNOWN, `${what} may or may not have been applied: ${error.message}`, { cause: error }) : error;
}

/** Waits, unless the caller's deadline passes first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => reject(new QlikOAuthError(C.DEADLINE_EXCEEDED, 'The request ran out of time while waiting for the tenant’s rate limit.'));
    if (signal?.aborted) return stop();
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      stop();
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/**
 * RFC 6750 §5.3: a bearer token must not reach anyone but the tenant. Paths are resolved against
 * the tenant, and an absolute URL (a `next` link, say) must be on the tenant's own origin.
 */
function sameTenantUrl(session: QlikSession, pathOrUrl: string): string {
  // No RFC: Qlik's links are short; a megabyte "link" is refused before any work on it.
  check(C.URL_TOO_LONG, pathOrUrl.length <= MAX_URL_LENGTH, () => `Refusing a link of ${pathOrUrl.length} characters (at most ${MAX_URL_LENGTH}): ${clip(pathOrUrl, 60)}.`);
  const tenant = new URL(session.metadata.issuer);
  const url = new URL(pathOrUrl, tenant);
  check(C.FOREIGN_URL, url.origin === tenant.origin, () => `Refusing to send the access token to ${clip(url.origin)}: only ${tenant.origin} gets it.`);
  return url.href;
}

/**
 * Qlik list endpoints: `{ data: [...], links: { next: { href } } }`. Yields every item, page by
 * page, following `links.next.href` — on the tenant's origin only (sameTenantUrl), and at most
 * `maxPages` pages (default MAX_PAGES).
 */
export async function* paginate(session: QlikSession, path: string, { maxPages = MAX_PAGES, signal }: { maxPages?: number; signal?: AbortSignal } = {}): AsyncGenerator<Record<string, unknown>> {
  let next: string | undefined = path;
  for (let page = 0; next !== undefined; page++) {
    check(C.TOO_MANY_PAGES, page < maxPages, () => `Stopped after ${maxPages} pages of ${clip(path)}; the list may be looping.`);
    const body = await qlikFetch(session, next, signal ? { signal } : {});
    const items = Array.isArray(body.data) ? body.data : [];
    for (const item of items) if (typeof item === 'object' && item !== null) yield item as Record<string, unknown>;
    const href = (body.links as { next?: { href?: unknown } } | undefined)?.next?.href;
    next = typeof href === 'string' && href !== '' ? href : undefined;
  }
}

/**
 * RFC 7009 §2.1: asks the tenant to revoke a token (Qlik: POST /oauth/revoke). Qlik documents no
 * client credentials there; RFC 7009 §2.1 has a confidential client send them, and we do — the
 * endpoint comes from the same checked metadata as the token endpoint, and passes the same https
 * rule, so it is trusted as much. Per §2.2 any 200 is success, even for a token it did not know.
 */
export async function revokeToken(metadata: TenantMetadata, client: ClientCredentials, token: { token: string; hint: 'refresh_token' | 'access_token' }, options: HttpOptions = {}): Promise<void> {
  const endpoint = metadata.revocationEndpoint ?? `${new URL(metadata.issuer).origin}/oauth/revoke`;
  const result = await clientPost(metadata, client, endpoint, { token: token.token, token_type_hint: token.hint }, options);
  if (result.status === 200) return;
  const refused = tokenErrorFrom(result, 'revoke the token');
  throw new QlikOAuthError(C.REVOKE_FAILED, refused.message, { cause: refused, retryAfter: refused.retryAfter });
}

/**
 * Signs the session out at the tenant: no call may use or renew its tokens from now on, a renewal
 * under way is waited for (so that what it brings is revoked too), then the refresh token is revoked
 * (the tenant may then drop the access tokens of the grant too) and the access token. Both are tried
 * even when one fails. Returns the failures: the sign-out worked here, but the tenant may still
 * honour a token until it expires.
 */
export async function closeSession(session: QlikSession): Promise<QlikOAuthError[]> {
  session.closed = true;
  await session.refreshing?.catch(() => {});
  const failures: QlikOAuthError[] = [];
  const revoke = async (token: string | undefined, hint: 'refresh_token' | 'access_token') => {
    if (token === undefined) return;
    await revokeToken(session.metadata, session.client, { token, hint }, session.options).catch((error: unknown) => {
      if (!(error instanceof QlikOAuthError)) throw error;
      failures.push(error);
    });
  };
  await revoke(session.tokens?.refreshToken, 'refresh_token');
  await revoke(session.tokens?.accessToken, 'access_token');
  return failures;
}
