// The app's routes: the tutorial's web server, one handler per route. Each handler takes the
// request as data and returns a Reply (reply.ts); server.ts does the HTTP plumbing around them.

import type { IncomingHttpHeaders } from 'node:http';
import { QlikOAuthError, clip } from '../errors.ts';
import { CHECKS } from '../checks.ts';
import type { HttpOptions } from '../http.ts';
import type { ClientConfig } from '../client.ts';
import type { TenantMetadata } from '../3.1-discovery.ts';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from '../3.2-authorize.ts';
import { exchangeCode, validateCallback } from '../3.3-token.ts';
import { getCurrentUser } from '../3.4-api.ts';
import { closeSession, paginate, qlikFetch, type QlikSession } from '../lifecycle.ts';
import { escapeControl } from '../redact.ts';
import { Trace, formatTranscript, type TraceEvent } from '../trace.ts';
import { transcriptJson } from '../trace-format.ts';
import { bindingOf, pendingCookie, readPendingCookie, sessionCookie, usedPendingCookie, type PendingSignIn } from './cookies.ts';
import { errorJson, errorReply, retryAfterOf } from './error-page.ts';
import { alreadyUsedPage, homePage, simplePage, type HomePageInput } from './pages.ts';
import { DOCS_FILES, docsReply } from './docs-page.ts';
import { attackOutcomes, canAttack, rememberSpentCallback, tamper } from './tamper.ts';
import { tracePage } from './trace-page.ts';
import { jsonReply, pageReply, redirectReply, type Reply } from './reply.ts';
import type { SealKey } from './seal.ts';
import { checkSameOrigin } from './same-origin.ts';
import {
  ANONYMOUS_TRACE_CHARS,
  aliasedId,
  aliasedSession,
  endSession,
  findSession,
  isStateUsed,
  markStateUsed,
  signInSession,
  signOutSession,
  startSession,
  type Flash,
  type Session,
  type SessionStore,
  type SignedIn,
} from './sessions.ts';

/** Everything the handlers share, fixed at start. */
export interface AppContext {
  metadata: TenantMetadata;
  client: ClientConfig;
  scope: string;
  /** e.g. http://localhost:3000 — compared with the Origin of POSTs. */
  appOrigin: string;
  /** True when the app is served over https: cookies get `Secure` and the `__Host-`/`__Secure-` names. */
  secureCookies: boolean;
  /** Seals pending sign-ins into their cookies (seal.ts). */
  sealKey: SealKey;
  sessions: SessionStore;
  /** Timeout and size cap for calls to the tenant. */
  http: HttpOptions;
  /** The most time one request may spend on the tenant, all calls, refreshes and 429 waits together. */
  deadlineMs: number;
  log: (line: string) => void;
  /** Told each finished sign-in's transcript (already redacted, control characters escaped). */
  onTranscript: ((text: string) => void) | undefined;
  /** Discovery's events at start (3.1, redacted): the start of every sign-in's transcript. */
  startEvents: readonly TraceEvent[];
  /** True on the local sandbox tenant: /trace then offers attacks on your own sign-in (tamper.ts). */
  sandbox: boolean;
}

export interface AppRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  /** The request's cookies (cookies.ts parseCookies). */
  cookies: Map<string, string[]>;
  /** The session id the browser sent, live or not (undefined when none, or two). */
  sessionId: string | undefined;
  /** The browser's session, when its cookie names a live one. */
  session: Session | undefined;
}

export type Handler = (ctx: AppContext, request: AppRequest) => Promise<Reply>;

/** The longest a request of this app waits for the tenant's rate limit before telling the user to wait. */
export const RATE_LIMIT_BUDGET_SECONDS = 2;
/** Default AppOptions.deadlineMs: a page that takes longer is not worth waiting for. */
export const DEFAULT_DEADLINE_MS = 15_000;

/** GET / — who is signed in, a few of their spaces from the tenant, and the way in or out. */
async function home(ctx: AppContext, { session, method }: AppRequest): Promise<Reply> {
  let flash = session?.flash;
  if (session && method === 'GET') session.flash = undefined; // shown once (a HEAD shows nothing)
  const signedIn = session?.signedIn;
  let spaces: HomePageInput['spaces'];
  if (session && signedIn && method === 'GET') {
    // The first view after sign-in shows the spaces the callback fetched alongside /users/me:
    // no second wait for the tenant. Later views ask the tenant again.
    const prefetched = signedIn.firstSpaces;
    signedIn.firstSpaces = undefined;
    try {
      spaces = { names: await (prefetched ?? firstSpaces(signedIn.qlik, AbortSignal.timeout(ctx.deadlineMs))) };
    } catch (error) {
      const ended = endIfTokensDead(ctx, session, signedIn, error);
      if (ended) flash = { kind: 'warning', text: `You are signed out: ${ended} Log in again to continue.` };
      else if (retryAfterOf(error) !== undefined) spaces = { error: `Qlik asks us to wait ${retryAfterOf(error)} s before asking again.` };
      else spaces = { error: error instanceof QlikOAuthError ? `${error.message} (${error.code})` : 'The tenant could not be asked.' };
    }
  }
  const user = session?.signedIn?.user;
  return pageReply(200, homePage({ tenantUrl: ctx.metadata.issuer, user: user && { name: user.name, email: user.email }, spaces, flash }));
}

/**
 * GET /login — tutorial 3.2: a new state and PKCE verifier, then off to the tenant. They are sealed
 * into a cookie of their own (cookies.ts), bound to this browser's session id: the server keeps
 * nothing for a sign-in under way, so no flood of requests can push it out. A browser without a
 * session gets one (cheap: a session nobody is signed in to holds a few KB at most).
 */
async function login(ctx: AppContext, request: AppRequest): Promise<Reply> {
  // Qlik documents prompt=none|login; only "login" (sign in as someone else) makes sense from a link.
  const prompts = request.url.searchParams.getAll('prompt');
  if (prompts.length > 1 || (prompts.length === 1 && prompts[0] !== 'login')) {
    return pageReply(400, simplePage('Bad sign-in link', '/login takes no prompt, or prompt=login (sign in as someone else).'));
  }
  const cookies: string[] = [];
  let session = request.session;
  if (session === undefined) {
    session = startSession(ctx.sessions);
    cookies.push(sessionCookie(session.id, ctx.secureCookies));
  }
  const state = createState();
  const codeVerifier = createCodeVerifier();
  const pending: PendingSignIn = {
    state,
    codeVerifier,
    createdAt: ctx.sessions.now(),
    binding: bindingOf(session.id),
    ...(prompts.length === 1 ? { prompt: 'login' as const } : {}),
  };
  cookies.push(pendingCookie(ctx.sealKey, pending, ctx.secureCookies));
  const url = authorizationUrl(ctx, pending);
  // A signed-in session signing in again: GET /trace shows the new sign-in from here (its budget is
  // a signed-in one). Anyone else's transcript starts at the callback, rebuilt from the cookie.
  if (session.signedIn) {
    session.trace = new Trace();
    session.trace.note('3.2', `GET /login: a new state and PKCE verifier, sealed in a cookie; the browser goes to ${url.href}`);
  }
  return redirectReply(url.href, cookies);
}

function authorizationUrl(ctx: AppContext, { state, codeVerifier, prompt }: PendingSignIn): URL {
  return buildAuthorizationUrl(ctx.metadata, ctx.client, { scope: ctx.scope, state, codeChallenge: codeChallengeS256(codeVerifier), prompt });
}

/** What the callback's state refers to, for this browser. */
type Lookup =
  | { kind: 'found'; login: PendingSignIn }
  /** A sign-in of this browser that was already finished, or that expired. */
  | { kind: 'used-or-expired' }
  /** Nothing this browser started: forged, tampered, another browser's, or its cookie is gone. */
  | { kind: 'unknown' };

/**
 * Finds this browser's pending sign-in for the callback's state, and uses it up. RFC 6749 §10.12,
 * RFC 9700 §4.7.1: the state must be one this browser was sent with — its sealed cookie proves
 * that, and the binding to the session id proves the cookie was not planted from elsewhere (with
 * the id, which behind https no one else can plant: cookies.ts). Single use (RFC 6749 §10.5): the
 * state is marked used before the code is exchanged.
 */
function takePendingSignIn(ctx: AppContext, request: AppRequest, state: string | null): Lookup {
  if (state === null || state === '') return { kind: 'unknown' };
  // A state this app already took a callback for: whoever sends it again had it already.
  if (isStateUsed(ctx.sessions, state)) return { kind: 'used-or-expired' };
  const found = readPendingCookie(ctx.sealKey, request.cookies, state, ctx.secureCookies);
  if (found.kind === 'used') return { kind: 'used-or-expired' };
  if (found.kind === 'none' || request.sessionId === undefined) return { kind: 'unknown' };
  const { login } = found;
  // Bound to the id this browser has, or had before another tab's sign-in renewed it.
  const bound = login.binding === bindingOf(request.sessionId) || aliasedId(ctx.sessions, login.binding) === request.sessionId;
  if (!bound) return { kind: 'unknown' };
  if (ctx.sessions.now() - login.createdAt > ctx.sessions.limits.pendingLifetimeMs) return { kind: 'used-or-expired' };
  if (!markStateUsed(ctx.sessions, login.state, login.createdAt)) return { kind: 'used-or-expired' };
  return { kind: 'found', login };
}

/** GET /login/callback — tutorial 3.3 and 3.4: check the callback, exchange the code, ask who signed in. */
async function callback(ctx: AppContext, request: AppRequest): Promise<Reply> {
  const { url } = request;
  const state = url.searchParams.get('state');
  const lookup = takePendingSignIn(ctx, request, state);
  // A known sign-in's cookie becomes a "used" marker, whatever happens next: it cannot be used twice.
  const cookies = lookup.kind === 'unknown' ? [] : [usedPendingCookie(ctx.sealKey, state!, ctx.secureCookies)];
  const session = request.session;
  if (lookup.kind !== 'found') {
    // Nothing to sign in with. What the checks say goes to this browser's session, if it has one
    // (its transcript is small when nobody is signed in), and to the console, once.
    const trace = session?.trace;
    const before = new Set(trace?.events);
    try {
      if (lookup.kind === 'used-or-expired') {
        trace?.check('3.3', CHECKS.LOGIN_NOT_PENDING, false, 'The callback answers a sign-in that was already finished or has expired.');
        return { ...pageReply(400, alreadyUsedPage()), cookies };
      }
      trace?.note('3.3', `The browser is back from the tenant: GET ${url.href}`); // note() redacts code and state
      refuseUnknownCallback(ctx, url, trace);
    } catch (error) {
      trace?.failure('3.3', error);
      return { ...errorReply(error, ctx.log), cookies };
    } finally {
      if (trace) printTranscript(ctx, trace.events.filter((event) => !before.has(event)));
    }
  }

  // A sign-in of this browser. A signed-in session goes on with its transcript (GET /login started
  // it anew). Otherwise the sign-in gets a transcript of its own, from GET /login on, rebuilt from
  // the sealed state and verifier (the server kept nothing): a small anonymous one would not hold it.
  const { login: pending } = lookup;
  const signedInBefore = session?.signedIn !== undefined;
  const trace = signedInBefore ? session!.trace : new Trace();
  if (!signedInBefore) {
    trace.note('3.2', `GET /login at ${new Date(pending.createdAt).toISOString()}: a new state and PKCE verifier, sealed in a cookie; the browser went to ${authorizationUrl(ctx, pending).href}`);
  }
  trace.note('3.3', `The browser is back from the tenant: GET ${url.href}`);
  const { metadata, client } = ctx;
  const signal = AbortSignal.timeout(ctx.deadlineMs);
  let section: '3.3' | '3.4' = '3.3';
  try {
    const options = { ...ctx.http, signal, ...trace.hooks('3.3') };
    const expected = { issuer: metadata.issuer, issRequired: metadata.issParameterSupported, expectedState: pending.state };
    const { code } = validateCallback(url, expected, options);
    const tokens = await exchangeCode(metadata, client, { code, codeVerifier: pending.codeVerifier }, options);
    section = '3.4';
    // What src/lifecycle.ts needs to call Qlik for this user later, refreshing as it goes.
    // A page never sleeps long for a 429: past RATE_LIMIT_BUDGET_SECONDS the wait is passed on to the user.
    const qlik: QlikSession = {
      metadata,
      client,
      tokens,
      options: { ...ctx.http, ...trace.hooks('lifecycle') },
      rateLimitBudgetSeconds: RATE_LIMIT_BUDGET_SECONDS,
    };
    // Fewest round trips: everything the first page needs leaves at once, /users/me and the first
    // spaces page side by side, so the landing page waits for no tenant call of its own. A spaces
    // failure is the home page's to show (home), not a failed sign-in. Both within the route's deadline.
    const userAsked = getCurrentUser(metadata, tokens.accessToken, { ...ctx.http, signal, ...trace.hooks('3.4') });
    const spacesShown = firstSpaces(qlik, signal);
    const spacesSettled = spacesShown.then(
      () => {},
      () => {},
    );
    const user = await userAsked.catch((error: unknown) => {
      // Tokens nobody will use: do not leave them valid at the tenant. closeSession() also keeps the
      // spaces call in flight from refreshing them, and revokes what a refresh under way brings.
      closeInBackground(ctx, qlik);
      throw error;
    });

    // Another tab of this browser finished the same sign-in first and renewed the session id: join
    // its session rather than renew the id again, which would leave whichever cookie arrives last
    // naming a dead id. Only for the same user, so a sign-in as someone else never joins.
    const joined = aliasedSession(ctx.sessions, pending.binding, user);
    if (joined) {
      closeInBackground(ctx, qlik); // the session keeps the tokens it has (this also stops the spaces call's refreshes)
      joined.trace.note('3.4', `Another tab signed in as ${user.name} too; it joined this session, and its tokens were revoked.`);
      return redirectReply('/', [...cookies, sessionCookie(joined.id, ctx.secureCookies)]);
    }
    // The browser's session, unless another request renewed or ended it while this one waited on
    // the tenant (another tab's sign-in as someone else): then a session of its own.
    const live = session !== undefined && session.id === request.sessionId && findSession(ctx.sessions, session.id) === session;
    const target = live ? session : startSession(ctx.sessions);
    const replaced = target.signedIn?.qlik;
    if (replaced) closeInBackground(ctx, replaced); // signed in again, maybe as someone else
    target.trace = trace;
    // Session fixation (RFC 6265bis §8.6): the signed-in session gets an id the browser never had
    // before, and a place among the signed-in sessions, which no flood of anonymous ones can take.
    signInSession(ctx.sessions, target, { user, qlik, signedInAt: Date.now(), firstSpaces: spacesShown }, pending.binding);
    trace.note('3.4', `Signed in as ${user.name}; the session id was renewed.`);
    await spacesSettled; // the landing page then has all it shows
    return redirectReply('/', [...cookies, sessionCookie(target.id, ctx.secureCookies)]);
  } catch (error) {
    trace.failure(section, error);
    // The failed sign-in's transcript is this browser's to read at GET /trace. When the browser's
    // session is gone (idle, or pushed out) a new one takes it; kept small unless someone is signed in.
    const keeper = session ?? startSession(ctx.sessions);
    if (keeper.signedIn === undefined) trace.limitTo(ANONYMOUS_TRACE_CHARS);
    keeper.trace = trace;
    if (keeper !== session) cookies.push(sessionCookie(keeper.id, ctx.secureCookies));
    return { ...errorReply(error, ctx.log), cookies };
  } finally {
    printTranscript(ctx, trace.events);
  }
}

/**
 * A callback that answers no sign-in of this browser is refused. validateCallback runs its checks
 * in order and throws at the first that fails; handed a state that nobody holds (a fresh random
 * one), it fails at STATE_MISMATCH at the latest, and earlier when an earlier check fails (too many
 * parameters, a repeated one, no state) — so the page names the most precise reason, and those
 * checks are not written twice.
 */
function refuseUnknownCallback(ctx: AppContext, url: URL, trace: Trace | undefined): never {
  const expected = { issuer: ctx.metadata.issuer, issRequired: ctx.metadata.issParameterSupported, expectedState: createState() };
  validateCallback(url, expected, trace?.hooks('3.3'));
  throw new Error('unreachable: a callback matched a state nobody holds');
}

/**
 * A sign-in's transcript on the console, once (the events this request added). Every value from a
 * request or the tenant is escaped first — a newline inside a message too — so none can move the
 * cursor, retitle the terminal, or start a line that looks like the app's own ("· Signed in as admin").
 */
function printTranscript(ctx: AppContext, events: readonly TraceEvent[]): void {
  if (ctx.onTranscript === undefined || events.length === 0) return;
  const escaped = events.map((event): TraceEvent => {
    if (event.type === 'note') return { ...event, text: escapeControl(event.text) };
    if (event.type === 'check') return { ...event, message: event.message === undefined ? undefined : escapeControl(event.message) };
    return { ...event, url: escapeControl(event.url) };
  });
  ctx.onTranscript(escapeControl(formatTranscript(escaped), true));
}

/** GET /api/me — the tenant's /api/v1/users/me for this session, as JSON, refreshing the token when due. */
async function apiMe(ctx: AppContext, { session }: AppRequest): Promise<Reply> {
  const signedIn = session?.signedIn;
  if (session === undefined || signedIn === undefined) {
    return jsonReply(401, { error: 'not_signed_in', message: 'Not signed in. Open /login to sign in.' });
  }
  try {
    return jsonReply(200, await qlikFetch(signedIn.qlik, '/api/v1/users/me', { signal: AbortSignal.timeout(ctx.deadlineMs) }));
  } catch (error) {
    const ended = endIfTokensDead(ctx, session, signedIn, error);
    if (ended) return jsonReply(401, { error: 'not_signed_in', message: `${ended} Open /login to sign in again.` });
    return errorJson(error, ctx.log);
  }
}

/**
 * After a failed call to the tenant: when the tokens are dead — RFC 6750 §3.1 invalid_token even
 * after a refresh, or a refresh the tenant refused (RFC 6749 §5.2, e.g. invalid_grant) — this
 * session is no longer signed in. Returns what to tell the user then, or undefined.
 */
function endIfTokensDead(ctx: AppContext, session: Session, signedIn: SignedIn, error: unknown): string | undefined {
  session.trace.failure('lifecycle', error);
  // Only a refusal of the grant itself ends it (5-lifecycle.ts decides: signInAgain); a 429 from
  // the token endpoint (Qlik: 100 requests a minute) is a reason to wait, not to drop a valid grant.
  const tokensDead =
    error instanceof QlikOAuthError && (error.code === 'API_UNAUTHORIZED' || error.signInAgain);
  if (!tokensDead) return undefined;
  if (session.signedIn === signedIn) signOutSession(ctx.sessions, session);
  return `The tenant no longer accepts this sign-in (${error.code}: ${error.message}).`;
}

/** How many spaces the home page lists: enough to show paging, not a catalogue. */
const SPACES_SHOWN = 5;
/** Pages asked for them: a tenant that sends fewer per page than asked (or empty pages) is not followed far. */
const SPACES_MAX_PAGES = 3;

/**
 * The first few spaces the user can see (GET /api/v1/spaces, paged: src/lifecycle.ts paginate),
 * as a sign that the token works for more than /users/me.
 */
async function firstSpaces(session: QlikSession, signal: AbortSignal): Promise<string[]> {
  const names: string[] = [];
  for await (const space of paginate(session, `/api/v1/spaces?limit=${SPACES_SHOWN}`, { maxPages: SPACES_MAX_PAGES, signal })) {
    names.push(typeof space.name === 'string' ? space.name : String(space.id));
    if (names.length === SPACES_SHOWN) break; // stop paging: a break ends the generator
  }
  return names;
}

/** POST /logout — only from our own pages; revoke at the tenant, forget the session, back home. */
async function logout(ctx: AppContext, { headers, session }: AppRequest): Promise<Reply> {
  const verdict = checkSameOrigin(headers, ctx.appOrigin);
  if (!verdict.ok) {
    return pageReply(
      403,
      simplePage('Sign-out refused', `This sign-out request did not come from this app: ${verdict.reason}. Use the Log out button on the home page.`),
    );
  }
  let flash: Flash = { kind: 'info', text: 'You are signed out.' };
  const signedIn = session?.signedIn;
  if (session) endSession(ctx.sessions, session); // from here on, no request can use the tokens
  // A fresh session carries the one-time message to the home page. Its transcript starts empty:
  // the next person at this browser must find none of the user's data at GET /trace, only the
  // sign-out's own revocations (redacted, no user data).
  const next = startSession(ctx.sessions);
  if (signedIn) {
    signedIn.qlik.options = { ...signedIn.qlik.options, signal: AbortSignal.timeout(ctx.deadlineMs), ...next.trace.hooks('lifecycle') };
    // No new refresh from a request still in flight; a refresh under way is revoked too (5-lifecycle.ts).
    const failures = await closeSession(signedIn.qlik);
    flash =
      failures.length === 0
        ? { kind: 'info', text: "You are signed out, and the tenant revoked this app's tokens." }
        : {
            kind: 'warning',
            text: `You are signed out of this app, but the tenant could not revoke its tokens (${failures[0]!.code}: ${failures[0]!.message}). They stop working when they expire.`,
          };
  }
  next.flash = flash;
  return redirectReply('/', [sessionCookie(next.id, ctx.secureCookies)]);
}

/**
 * GET /trace — this browser's last sign-in after discovery at start, as a sequence diagram or
 * (?format=json) as versioned events; redacted by src/trace.ts when recorded.
 */
async function trace(ctx: AppContext, { session, url }: AppRequest): Promise<Reply> {
  const events = session?.trace.events ?? [];
  if (url.searchParams.get('format') === 'json') return jsonReply(200, transcriptJson([...ctx.startEvents, ...events]));
  return pageReply(
    200,
    tracePage({
      startEvents: ctx.startEvents,
      events,
      authorizationEndpoint: ctx.metadata.authorizationEndpoint,
      callbackUrl: ctx.client.redirectUri,
      attacks: ctx.sandbox
        ? { available: canAttack(ctx, session), outcomes: attackOutcomes(session), issPromised: ctx.metadata.issParameterSupported }
        : undefined,
    }),
  );
}

function closeInBackground(ctx: AppContext, qlik: QlikSession): void {
  closeSession(qlik).then(
    (failures) => failures.forEach((f) => ctx.log(escapeControl(`revoke failed ${f.code}: ${clip(f.message, 600)}`))),
    (error: unknown) => ctx.log(escapeControl(`revoke failed: ${error instanceof Error ? clip(error.message, 600) : typeof error}`)),
  );
}

/** Path → method → handler. HEAD is served like GET for the home page (RFC 9110 §9.3.2). */
export const ROUTES: Record<string, Record<string, Handler>> = {
  '/': { GET: home, HEAD: home },
  '/login': { GET: login },
  // On the sandbox, the last good callback is kept for the attacks on /trace (tamper.ts).
  '/login/callback': { GET: rememberSpentCallback(callback) },
  '/api/me': { GET: apiMe },
  '/logout': { POST: logout },
  '/trace': { GET: trace },
  '/trace/tamper': { POST: (ctx, request) => tamper(ctx, request, callback) },
  // The docs, so that each check's link in the transcript works offline.
  ...Object.fromEntries(DOCS_FILES.map((file) => [`/docs/${file}`, { GET: () => docsReply(file) }])),
};
