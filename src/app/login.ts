// GET /login — tutorial 3.2: a new state and PKCE verifier, then off to the tenant.

import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from '../3.2-authorize.ts';
import { Trace } from '../trace.ts';
import type { AppContext, AppRequest } from './context.ts';
import { bindingOf, expireOldSignInCookies, pendingCookie, sessionCookie, type PendingSignIn } from './cookies.ts';
import { simplePage } from './pages.ts';
import { pageReply, redirectReply, type Reply } from './reply.ts';
import { startSession } from './sessions.ts';

/**
 * The state and verifier are sealed into a cookie of their own (cookies.ts), bound to this browser's
 * session id (a browser without one gets one): the server keeps nothing for a sign-in under way.
 */
export async function login(ctx: AppContext, request: AppRequest): Promise<Reply> {
  // Qlik documents prompt=none|login; only "login" (sign in as someone else) makes sense from a link.
  const prompts = request.url.searchParams.getAll('prompt');
  if (prompts.length > 1 || (prompts.length === 1 && prompts[0] !== 'login')) {
    return pageReply(400, simplePage('Bad sign-in link', '/login takes no prompt, or prompt=login (sign in as someone else).'));
  }
  const cookies = expireOldSignInCookies(ctx.sealKey, request.cookies, ctx.secureCookies);
  let session = request.session;
  if (session === undefined) {
    session = startSession(ctx.sessions);
    cookies.push(sessionCookie(session.id, ctx.secureCookies));
  }
  const pending: PendingSignIn = {
    state: createState(),
    codeVerifier: createCodeVerifier(),
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

/** The authorization request of a pending sign-in (RFC 6749 §4.1.1, RFC 7636 §4.3). */
export function authorizationUrl(ctx: AppContext, { state, codeVerifier, prompt }: PendingSignIn): URL {
  return buildAuthorizationUrl(ctx.metadata, ctx.client, { scope: ctx.scope, state, codeChallenge: codeChallengeS256(codeVerifier), prompt });
}
