// GET /login/callback — tutorial 3.3 and 3.4: check the callback, exchange the code, ask who
// signed in, and sign the browser's session in.

import { QlikOAuthError, clip } from '../errors.ts';
import { CHECKS } from '../checks.ts';
import { createState } from '../3.2-authorize.ts';
import { exchangeCode, validateCallback } from '../3.3-token.ts';
import { getCurrentUser } from '../3.4-api.ts';
import { closeSession, type QlikSession } from '../lifecycle.ts';
import { escapeControl, redactValue } from '../redact.ts';
import { Trace, formatTranscript, type TraceEvent } from '../trace.ts';
import type { AppContext, AppRequest } from './context.ts';
import { bindingOf, pendingSignInsOf, readPendingCookie, sessionCookie, usedPendingCookie, type PendingSignIn } from './cookies.ts';
import { errorReply } from './error-page.ts';
import { firstSpaces } from './home.ts';
import { authorizationUrl } from './login.ts';
import { alreadyUsedPage } from './pages.ts';
import { pageReply, redirectReply, type Reply } from './reply.ts';
import { ANONYMOUS_TRACE_CHARS, findSession, isStateUsed, markStateUsed, signInSession, signedInAlias, startSession } from './sessions.ts';

/** A page never sleeps long for a 429: past this many seconds the wait is passed on to the user. */
const RATE_LIMIT_BUDGET_SECONDS = 2;

/** What the callback's state refers to, for this browser; `unknown`: forged, another browser's, or its cookie is gone. */
type Lookup = { kind: 'found'; login: PendingSignIn } | { kind: 'used-or-expired' } | { kind: 'unknown' };

/**
 * Finds this browser's pending sign-in for the callback's state, and uses it up. RFC 6749 §10.12,
 * RFC 9700 §4.7.1: the state must be one this browser was sent with — its sealed cookie proves
 * that, its binding to the session id that it was not planted (cookies.ts). Single use (RFC 6749
 * §10.5): the state is marked used before the code is exchanged.
 */
function takePendingSignIn(ctx: AppContext, request: AppRequest, state: string | null): Lookup {
  if (state === null || state === '') return { kind: 'unknown' };
  // A state this app already took a callback for: whoever sends it again had it already.
  if (isStateUsed(ctx.sessions, state)) return { kind: 'used-or-expired' };
  const found = readPendingCookie(ctx.sealKey, request.cookies, state, ctx.secureCookies);
  if (found.kind === 'used') return { kind: 'used-or-expired' };
  if (found.kind === 'none' || request.sessionId === undefined) return { kind: 'unknown' };
  const { login } = found;
  // Bound to the id this browser has, or had before another tab of this sign-in renewed it.
  const bound = login.binding === bindingOf(request.sessionId) || signedInAlias(ctx.sessions, login.binding)?.id === request.sessionId;
  if (!bound) return { kind: 'unknown' };
  if (ctx.sessions.now() - login.createdAt > ctx.sessions.limits.pendingLifetimeMs) return { kind: 'used-or-expired' };
  if (!markStateUsed(ctx.sessions, login.state, login.createdAt)) return { kind: 'used-or-expired' };
  return { kind: 'found', login };
}

export async function callback(ctx: AppContext, request: AppRequest): Promise<Reply> {
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
      if (error instanceof QlikOAuthError && error.code === 'STATE_MISMATCH') {
        trace?.check('3.3', error.check, false, `${error.message} ${stateMarks(ctx, request, state!)}`);
      } else {
        trace?.failure('3.3', error);
      }
      return { ...errorReply(error, ctx.log, ctx.sandboxFaults), cookies };
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
    const spacesSettled = spacesShown.catch(() => undefined);
    const user = await userAsked.catch((error: unknown) => {
      // Tokens nobody will use: do not leave them valid at the tenant. closeSession() also keeps the
      // spaces call in flight from refreshing them, and revokes what a refresh under way brings.
      closeInBackground(ctx, qlik);
      throw error;
    });

    // Another tab of this sign-in finished first and renewed the session id: join its session rather
    // than renew the id again, which would leave whichever cookie arrives last naming a dead id. Only
    // as the same user, so a sign-in as someone else never joins.
    const joined = signedInAlias(ctx.sessions, pending.binding);
    if (joined?.signedIn?.user.id === user.id) {
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
    return { ...errorReply(error, ctx.log, ctx.sandboxFaults), cookies };
  } finally {
    printTranscript(ctx, trace.events);
  }
}

/**
 * Refuses a callback that answers no sign-in of this browser. Handed a fresh state nobody holds,
 * validateCallback fails at STATE_MISMATCH at the latest, or at an earlier check (no state, a repeated
 * parameter): the page names the most precise reason, and those checks are not written twice.
 */
function refuseUnknownCallback(ctx: AppContext, url: URL, trace: Trace | undefined): never {
  const expected = { issuer: ctx.metadata.issuer, issRequired: ctx.metadata.issParameterSupported, expectedState: createState() };
  validateCallback(url, expected, trace?.hooks('3.3'));
  throw new Error('unreachable: a callback matched a state nobody holds');
}

/**
 * For the STATE_MISMATCH line: the marks of the states this browser's pending sign-ins (its sealed
 * cookies) were sent with, beside the mark of the state the callback brought — equal values get
 * equal marks (src/redact.ts), so a reader sees them differ. No prefix: those sign-ins are live.
 */
function stateMarks(ctx: AppContext, request: AppRequest, received: string): string {
  const binding = request.sessionId === undefined ? undefined : bindingOf(request.sessionId);
  const under = binding === undefined ? [] : pendingSignInsOf(ctx.sealKey, request.cookies, binding, ctx.secureCookies);
  const live = under.filter((login) => ctx.sessions.now() - login.createdAt <= ctx.sessions.limits.pendingLifetimeMs);
  const brought = `the callback brought state ${redactValue(received, false)}`;
  if (live.length === 0) return `This browser has no sign-in under way to compare with; ${brought}.`;
  return `Expected state ${live.map((login) => redactValue(login.state, false)).join(' or ')} (this browser's sign-in under way); ${brought}.`;
}

/** The events this request added, on the console once (formatTranscript escapes control characters). */
function printTranscript(ctx: AppContext, events: readonly TraceEvent[]): void {
  if (ctx.onTranscript !== undefined && events.length > 0) ctx.onTranscript(formatTranscript(events));
}

function closeInBackground(ctx: AppContext, qlik: QlikSession): void {
  closeSession(qlik).then(
    (failures) => failures.forEach((f) => ctx.log(escapeControl(`revoke failed ${f.code}: ${clip(f.message, 600)}`))),
    (error: unknown) => ctx.log(escapeControl(`revoke failed: ${error instanceof Error ? clip(error.message, 600) : typeof error}`)),
  );
}

