// The routes of a signed-in user: the home page, their user as JSON, and sign-out.

import { QlikOAuthError } from '../errors.ts';
import { closeSession, paginate, qlikFetch, type QlikSession } from '../lifecycle.ts';
import type { AppContext, AppRequest } from './context.ts';
import { sessionCookie } from './cookies.ts';
import { errorJson, retryAfterOf } from './error-page.ts';
import { homePage, simplePage, type HomePageInput } from './pages.ts';
import { jsonReply, pageReply, redirectReply, type Reply } from './reply.ts';
import { checkSameOrigin } from './same-origin.ts';
import { endSession, signOutSession, startSession, type Flash, type Session, type SignedIn } from './sessions.ts';

/** GET / — who is signed in, a few of their spaces from the tenant, and the way in or out. */
export async function home(ctx: AppContext, { session, method }: AppRequest): Promise<Reply> {
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

/** GET /api/me — the tenant's /api/v1/users/me for this session, as JSON, refreshing the token when due. */
export async function apiMe(ctx: AppContext, { session }: AppRequest): Promise<Reply> {
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
 * After a failed call to the tenant: when the tokens are dead (RFC 6750 §3.1 invalid_token even after
 * a refresh, or RFC 6749 §5.2 a refused refresh), signs the session out and says why; else undefined.
 */
function endIfTokensDead(ctx: AppContext, session: Session, signedIn: SignedIn, error: unknown): string | undefined {
  session.trace.failure('lifecycle', error);
  // Only a refusal of the grant itself ends it (lifecycle.ts decides: signInAgain); a 429 from
  // the token endpoint (Qlik: 100 requests a minute) is a reason to wait, not to drop a valid grant.
  const tokensDead = error instanceof QlikOAuthError && (error.code === 'API_UNAUTHORIZED' || error.signInAgain);
  if (!tokensDead) return undefined;
  if (session.signedIn === signedIn) signOutSession(ctx.sessions, session);
  return session.trace.secrets.scrub(`The tenant no longer accepts this sign-in (${error.code}: ${error.message}).`);
}

/** POST /logout — only from our own pages; revoke at the tenant, forget the session, back home. */
export async function logout(ctx: AppContext, { headers, session }: AppRequest): Promise<Reply> {
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
    // No new refresh from a request still in flight; a refresh under way is revoked too (lifecycle.ts).
    const failures = await closeSession(signedIn.qlik);
    // The code, not the message: a message quotes the tenant, cut short, and a tenant may repeat the
    // token it was sent — cut short, no scrub recognises it. /trace shows the answers, scrubbed whole.
    const failed = failures[0];
    flash = failed
      ? { kind: 'warning', text: `You are signed out of this app, but the tenant could not revoke its tokens (${failed.code}; the transcript shows its answers). They stop working when they expire.` }
      : { kind: 'info', text: "You are signed out, and the tenant revoked this app's tokens." };
  }
  next.flash = flash;
  return redirectReply('/', [sessionCookie(next.id, ctx.secureCookies)]);
}

/** How many spaces the home page lists: enough to show paging, not a catalogue. */
const SPACES_SHOWN = 5;
/** Pages asked for them: a tenant that sends fewer per page than asked (or empty pages) is not followed far. */
const SPACES_MAX_PAGES = 3;

/**
 * The first few spaces the user can see (GET /api/v1/spaces, paged: src/lifecycle.ts paginate),
 * as a sign that the token works for more than /users/me.
 */
export async function firstSpaces(session: QlikSession, signal: AbortSignal): Promise<string[]> {
  const names: string[] = [];
  for await (const space of paginate(session, `/api/v1/spaces?limit=${SPACES_SHOWN}`, { maxPages: SPACES_MAX_PAGES, signal })) {
    names.push(typeof space.name === 'string' ? space.name : String(space.id));
    if (names.length === SPACES_SHOWN) break; // stop paging: a break ends the generator
  }
  return names;
}

