// The app's routes: the tutorial's web server, one handler per route. Each handler takes the
// request as data and returns a Reply (reply.ts); server.ts does the HTTP plumbing around them.

import type { IncomingHttpHeaders } from 'node:http';
import { ApiError, LifecycleError, QlikOAuthError } from '../errors.ts';
import type { HttpOptions } from '../http.ts';
import type { ClientConfig } from '../client.ts';
import type { TenantMetadata } from '../1-discovery.ts';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from '../2-authorize.ts';
import { exchangeCode, validateCallback } from '../3-token.ts';
import { getCurrentUser } from '../4-api.ts';
import { closeSession, paginate, qlikFetch, type QlikSession } from '../5-lifecycle.ts';
import { Trace, formatTranscript, type TraceEvent } from '../trace.ts';
import { transcriptJson } from '../trace-format.ts';
import { sessionCookie } from './cookies.ts';
import { errorJson, retryAfterOf } from './error-page.ts';
import { alreadyUsedPage, homePage, simplePage, type HomePageInput } from './pages.ts';
import { DOCS_FILES, docsReply } from './docs-page.ts';
import { attackOutcomes, canAttack, rememberSpentCallback, tamper } from './tamper.ts';
import { tracePage } from './trace-page.ts';
import { jsonReply, pageReply, redirectReply, type Reply } from './reply.ts';
import { checkSameOrigin } from './same-origin.ts';
import {
  addPendingLogin,
  endSession,
  signInSession,
  signOutSession,
  startSession,
  takePendingLogin,
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
  /** True when the app is served over https: the session cookie gets `Secure`. */
  secureCookies: boolean;
  sessions: SessionStore;
  /** Timeout and size cap for calls to the tenant. */
  http: HttpOptions;
  log: (line: string) => void;
  /** Told each finished sign-in's transcript (already redacted). */
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
  /** The browser's session, when its cookie names a live one. */
  session: Session | undefined;
}

export type Handler = (ctx: AppContext, request: AppRequest) => Promise<Reply>;

/** The longest a request of this app waits for the tenant's rate limit before telling the user to wait. */
export const RATE_LIMIT_BUDGET_SECONDS = 2;

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
      spaces = { names: await (prefetched ?? firstSpaces(signedIn.qlik)) };
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

/** GET /login — tutorial 3.2: new state and PKCE verifier, kept in this session, then off to the tenant. */
async function login(ctx: AppContext, request: AppRequest): Promise<Reply> {
  // Qlik documents prompt=none|login; only "login" (sign in as someone else) makes sense from a link.
  const prompts = request.url.searchParams.getAll('prompt');
  if (prompts.length > 1 || (prompts.length === 1 && prompts[0] !== 'login')) {
    return pageReply(400, simplePage('Bad sign-in link', '/login takes no prompt, or prompt=login (sign in as someone else).'));
  }
  const session = request.session ?? startSession(ctx.sessions);
  // GET /trace shows the last sign-in: a new one starts a new transcript (discovery ran at start).
  session.trace = new Trace();
  const state = createState();
  const codeVerifier = createCodeVerifier();
  addPendingLogin(ctx.sessions, session, { state, codeVerifier });
  const url = buildAuthorizationUrl(ctx.metadata, ctx.client, {
    scope: ctx.scope,
    state,
    codeChallenge: codeChallengeS256(codeVerifier),
    prompt: prompts.length === 1 ? 'login' : undefined,
  });
  session.trace.note('3.2', `GET /login: a new state and PKCE verifier; the browser goes to ${url.href}`);
  return redirectReply(url.href, [sessionCookie(session.id, ctx.secureCookies)]);
}

/** GET /login/callback — tutorial 3.3 and 3.4: check the callback, exchange the code, ask who signed in. */
async function callback(ctx: AppContext, request: AppRequest): Promise<Reply> {
  const { session, url } = request;
  const { metadata, client } = ctx;
  // Taken out of the store before anything else happens: a second callback with this state finds nothing.
  const lookup = takePendingLogin(ctx.sessions, session, url.searchParams.get('state'));
  if (lookup.kind === 'used-or-expired') {
    session?.trace.check('3.3', 'LOGIN_NOT_PENDING', false, 'The callback answers a sign-in that was already finished or has expired.');
    return pageReply(400, alreadyUsedPage());
  }

  const trace = session?.trace;
  trace?.note('3.3', `The browser is back from the tenant: GET ${url.href}`); // note() redacts code and state
  const expected = { issuer: metadata.issuer, issRequired: metadata.issParameterSupported };
  let section: '3.3' | '3.4' = '3.3';
  try {
    if (lookup.kind === 'unknown' || session === undefined) {
      // RFC 6749 §10.12, RFC 9700 §4.7.1: no sign-in of this browser has this state. A forged or
      // tampered callback, another browser's, or a lost session. Checked against a fresh state that
      // nobody holds, validateCallback fails and names why: STATE_MISSING, STATE_MISMATCH, …
      validateCallback(url, { ...expected, expectedState: createState() }, trace?.hooks('3.3'));
      throw new Error('unreachable: a callback matched a state nobody holds');
    }
    const options = { ...ctx.http, ...session.trace.hooks('3.3') };
    const { code } = validateCallback(url, { ...expected, expectedState: lookup.login.state }, options);
    const tokens = await exchangeCode(metadata, client, { code, codeVerifier: lookup.login.codeVerifier }, options);
    section = '3.4';
    // What src/5-lifecycle.ts needs to call Qlik for this user later, refreshing as it goes.
    // A page never sleeps long for a 429: past RATE_LIMIT_BUDGET_SECONDS the wait is passed on to the user.
    const qlik: QlikSession = {
      metadata,
      client,
      tokens,
      options: { ...ctx.http, ...session.trace.hooks('lifecycle') },
      rateLimitBudgetSeconds: RATE_LIMIT_BUDGET_SECONDS,
    };
    // Fewest round trips: everything the first page needs leaves at once, /users/me and the first
    // spaces page side by side, so the landing page waits for no tenant call of its own. A spaces
    // failure is the home page's to show (home), not a failed sign-in.
    const userAsked = getCurrentUser(metadata, tokens.accessToken, { ...ctx.http, ...session.trace.hooks('3.4') });
    const spacesShown = firstSpaces(qlik);
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

    const replaced = session.signedIn?.qlik;
    if (replaced) closeInBackground(ctx, replaced); // signed in again, maybe as someone else
    // Session fixation (RFC 6265bis §8.6): the signed-in session gets an id the browser never had
    // before, and a place among the signed-in sessions, which no flood of anonymous ones can take.
    signInSession(ctx.sessions, session, { user, qlik, signedInAt: Date.now(), firstSpaces: spacesShown });
    session.trace.note('3.4', `Signed in as ${user.name}; the session id was renewed.`);
    await spacesSettled; // the landing page then has all it shows
    return redirectReply('/', [sessionCookie(session.id, ctx.secureCookies)]);
  } catch (error) {
    trace?.failure(section, error);
    throw error; // server.ts turns it into the error page
  } finally {
    if (trace) ctx.onTranscript?.(formatTranscript(trace.events));
  }
}

/** GET /api/me — the tenant's /api/v1/users/me for this session, as JSON, refreshing the token when due. */
async function apiMe(ctx: AppContext, { session }: AppRequest): Promise<Reply> {
  const signedIn = session?.signedIn;
  if (session === undefined || signedIn === undefined) {
    return jsonReply(401, { error: 'not_signed_in', message: 'Not signed in. Open /login to sign in.' });
  }
  try {
    return jsonReply(200, await qlikFetch(signedIn.qlik, '/api/v1/users/me'));
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
    (error instanceof ApiError && error.code === 'API_UNAUTHORIZED') || (error instanceof LifecycleError && error.signInAgain);
  if (!tokensDead) return undefined;
  if (session.signedIn === signedIn) signOutSession(ctx.sessions, session);
  return `The tenant no longer accepts this sign-in (${error.code}: ${error.message}).`;
}

/** How many spaces the home page lists: enough to show paging, not a catalogue. */
const SPACES_SHOWN = 5;

/**
 * The first few spaces the user can see (GET /api/v1/spaces, paged: src/5-lifecycle.ts paginate),
 * as a sign that the token works for more than /users/me.
 */
async function firstSpaces(session: QlikSession): Promise<string[]> {
  const names: string[] = [];
  for await (const space of paginate(session, `/api/v1/spaces?limit=${SPACES_SHOWN}`)) {
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
  if (signedIn) {
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
  // A fresh session carries the one-time message (and the transcript) to the home page.
  const next = startSession(ctx.sessions);
  next.flash = flash;
  if (session) next.trace = session.trace;
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
    (failures) => failures.forEach((f) => ctx.log(`revoke failed ${f.code}: ${f.message}`)),
    (error: unknown) => ctx.log(`revoke failed: ${error instanceof Error ? error.message : typeof error}`),
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
