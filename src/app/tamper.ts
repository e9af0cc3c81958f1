// "Try breaking it", on the sandbox tenant only: after a sign-in, /trace offers to attack that
// sign-in — replay its callback, tamper with the state, drop iss — and shows which check stops it.
// Each attack is a forged callback run through the app's own callback handler for this browser's
// session, exactly as if the browser had opened it; nobody else's session is touched.
//
// What is kept for it: the last successful callback's code and state, in memory, per session, both
// dead already (the state was used up, the code exchanged: RFC 6749 §4.1.2). With a real tenant
// nothing is kept, the route answers 404, and /trace shows no attack.

import { createCodeVerifier, createState } from '../3.2-authorize.ts';
import { QlikOAuthError } from '../errors.ts';
import type { CheckCode } from '../checks.ts';
import type { TraceEvent } from '../trace.ts';
import { html, type SafeHtml } from './html.ts';
import { pageReply, redirectReply, type Reply } from './reply.ts';
import { simplePage } from './pages.ts';
import type { AppContext, AppRequest, Handler } from './context.ts';
import { checkSameOrigin } from './same-origin.ts';
import { SANDBOX_FAULTS } from '../sandbox/index.ts';
import { inlineText } from './markdown.ts';
import { bindingOf, pendingCookie } from './cookies.ts';
import type { Session } from './sessions.ts';

export type AttackName = 'replay' | 'tamper-state' | 'drop-iss';

/** The link text, and what the attack is, for the /trace page. */
export const ATTACKS: Record<AttackName, { label: string; what: string }> = {
  replay: {
    label: 'Replay this callback',
    what: 'Opens your last callback URL again — code, state and iss as the tenant sent them. Anyone who finds that URL (history, a log, a Referer) could try this.',
  },
  'tamper-state': {
    label: 'Tamper with the state',
    what: 'Starts a sign-in for you (a new state, sealed in its cookie as at GET /login), then sends a callback whose state differs from it by one character, as a login-CSRF attacker must: the state your browser was sent with is never shown to them.',
  },
  'drop-iss': {
    label: 'Drop iss',
    what: 'Starts a sign-in for you, then sends a callback with the right state but no iss, as a mix-up attacker who relays another server’s answer would.',
  },
};

/** What the transcript notes before an attack's events, so the page can tell them from the sign-in. */
const ATTACK_NOTE = 'Attack (from the /trace page):';

export function isAttackNote(event: TraceEvent): boolean {
  return event.type === 'note' && event.text.startsWith(ATTACK_NOTE);
}

export interface AttackOutcome {
  attack: AttackName;
  /** The check that refused the forged callback; undefined when none did. */
  stoppedBy: CheckCode | undefined;
  /** The transcript's note that starts the attack's events, for a link to them from /trace. */
  note: TraceEvent | undefined;
}

/** The last successful callback of each session: a dead code and a used state. */
const spentCallbacks = new WeakMap<Session, { code: string; state: string; iss: string | null }>();
const outcomes = new WeakMap<Session, AttackOutcome[]>();
/** A session keeps its last few attacks, to show them. */
const MAX_OUTCOMES = 5;

/** True when this session has a sign-in to attack. */
export function canAttack(ctx: AppContext, session: Session | undefined): boolean {
  return ctx.sandbox && session !== undefined && spentCallbacks.has(session);
}

/** This session's attacks, latest last. */
export function attackOutcomes(session: Session | undefined): readonly AttackOutcome[] {
  return (session && outcomes.get(session)) ?? [];
}

/**
 * Wraps the callback handler: on the sandbox, a callback that signed the session in is remembered
 * for the attacks. Nothing is kept with a real tenant, nor from a callback that failed.
 */
export function rememberSpentCallback(handler: Handler): Handler {
  return async (ctx, request) => {
    const reply = await handler(ctx, request);
    const { session, url } = request;
    const code = url.searchParams.get('code');
    const state = url.searchParams.get('state');
    if (ctx.sandbox && session?.signedIn && reply.status === 302 && code && state) {
      spentCallbacks.set(session, { code, state, iss: url.searchParams.get('iss') });
    }
    return reply;
  };
}

/** POST /trace/tamper?attack=… — runs one attack against this browser's own last sign-in, then back to /trace. */
export async function tamper(ctx: AppContext, request: AppRequest, callback: Handler): Promise<Reply> {
  if (!ctx.sandbox) return pageReply(404, simplePage('Page not found', 'Attacks are offered on the local sandbox tenant only.'));
  // Like sign-out: only from our own /trace page, so another site cannot fill your transcript.
  const verdict = checkSameOrigin(request.headers, ctx.appOrigin);
  if (!verdict.ok) return pageReply(403, simplePage('Attack refused', `This request did not come from this app: ${verdict.reason}.`));
  const attack = request.url.searchParams.get('attack');
  if (attack !== 'replay' && attack !== 'tamper-state' && attack !== 'drop-iss') {
    return pageReply(400, simplePage('Unknown attack', 'Use one of the buttons on the transcript page.'));
  }
  const { session } = request;
  const spent = session && spentCallbacks.get(session);
  if (session === undefined || spent === undefined) {
    return pageReply(409, simplePage('Nothing to attack yet', 'Sign in first: the attacks use the callback of your last sign-in.'));
  }

  session.trace.note('3.3', `${ATTACK_NOTE} ${ATTACKS[attack].label.toLowerCase()}.`);
  const note = session.trace.events.at(-1);
  // The forged callback carries this browser's cookies, as the browser would send them.
  const cookies = new Map(request.cookies);
  let state = spent.state;
  if (attack !== 'replay') {
    // A sign-in this browser really has pending, as at GET /login: its sealed cookie, bound to this
    // session, goes with the forged callback only (it is never sent to the browser, so it ends with
    // the attack); its verifier is never used.
    const fresh = { state: createState(), codeVerifier: createCodeVerifier(), createdAt: ctx.sessions.now(), binding: bindingOf(session.id) };
    const [pair] = pendingCookie(ctx.sealKey, fresh, ctx.secureCookies).split(';');
    const eq = pair!.indexOf('=');
    cookies.set(pair!.slice(0, eq), [pair!.slice(eq + 1)]);
    state = attack === 'tamper-state' ? oneCharacterChanged(fresh.state) : fresh.state;
  }
  const forged = new URL(ctx.client.redirectUri);
  const params = new URLSearchParams({ code: spent.code, state });
  if (attack !== 'drop-iss' && spent.iss !== null) params.set('iss', spent.iss);
  forged.search = params.toString();

  let stoppedBy: CheckCode | undefined;
  try {
    const reply = await callback(ctx, { method: 'GET', url: forged, headers: request.headers, cookies, sessionId: session.id, session });
    // A refusal that is a page, not an error (LOGIN_NOT_PENDING, or the error page): its check is the last one noted.
    if (reply.status >= 400) stoppedBy = lastFailedCheck(session);
  } catch (error) {
    stoppedBy = error instanceof QlikOAuthError ? (error.code as CheckCode) : lastFailedCheck(session);
  }
  const list = outcomes.get(session) ?? [];
  list.push({ attack, stoppedBy, note });
  if (list.length > MAX_OUTCOMES) list.shift();
  outcomes.set(session, list);
  return { ...redirectReply('/trace#attacks'), status: 303 };
}

/** The same state with its last character replaced: as close to the real one as a guess can be. */
function oneCharacterChanged(state: string): string {
  return state.slice(0, -1) + (state.endsWith('A') ? 'B' : 'A');
}

function lastFailedCheck(session: Session): CheckCode | undefined {
  for (let i = session.trace.events.length - 1; i >= 0; i--) {
    const event = session.trace.events[i]!;
    if (isAttackNote(event)) return undefined;
    if (event.type === 'check' && !event.passed) return event.code as CheckCode;
  }
  return undefined;
}

/** The sandbox fault that makes a sign-in meet ISS_MISSING: the tenant promises iss, then leaves it out. */
const ISS_FAULT = SANDBOX_FAULTS.find((fault) => fault.expectedCheck === 'ISS_MISSING')!;

/** Said before the Drop iss button is pressed: RFC 9207 §2.4 asks for iss only when the tenant promised it. */
export function dropIssForecast(issPromised: boolean): SafeHtml {
  if (issPromised) return html`This tenant promises iss, so ISS_MISSING should refuse it before the code goes anywhere.`;
  return html`<strong>On this tenant it cannot reach an iss check, and it signs you out.</strong> The tenant never
promised iss, so ISS_MISSING does not apply and the forged callback passes the app's checks; the tenant
then refuses the spent code (TOKEN_ERROR_RESPONSE) and, as a tenant should when a code comes twice,
revokes the tokens issued from it. To watch ISS_MISSING fire, stop the app, start it with
<code>SANDBOX_FAULT=${ISS_FAULT.name} npm start</code> and sign in: ${inlineText(ISS_FAULT.description)}`;
}

/** What stopped each attack, in a reader's words, given what this tenant promised. */
export function explainOutcome(outcome: AttackOutcome, issPromised: boolean): SafeHtml {
  const code = outcome.stoppedBy;
  switch (code) {
    case 'LOGIN_NOT_PENDING':
      return html`The app had already used up this state when the callback first came: a state answers one sign-in, once. The replay was refused before anything went to the tenant — and the code in it was spent anyway (a tenant takes a code once, RFC 6749 §4.1.2).`;
    case 'STATE_MISMATCH':
      return html`The state in the callback is not the one this browser was sent with, so the callback is not the answer to a sign-in this browser started: refused before the code was looked at (RFC 6749 §10.12).`;
    case 'ISS_MISSING':
      return html`This tenant promises iss in every callback (authorization_response_iss_parameter_supported), so a callback without it may come from another server: refused before the code went anywhere (RFC 9207 §2.4).`;
    case 'ISS_MISMATCH':
      return html`The callback names another issuer than this tenant: refused before the code went anywhere (RFC 9207 §2.4).`;
    case 'TOKEN_ERROR_RESPONSE':
      return outcome.attack === 'drop-iss' && !issPromised
        ? html`This tenant never promised iss, so its absence proves nothing: ISS_MISSING did not apply (n/a in the transcript) and the callback passed the app's checks. What stopped it is the tenant: the code was spent, and a tenant takes a code once (RFC 6749 §4.1.2). It may also revoke the tokens issued from that code — then you are signed out, which is what a tenant should do when a code shows up twice.`
        : html`The tenant refused the code: it was spent, and a tenant takes a code once (RFC 6749 §4.1.2).`;
    case undefined:
      return html`No check refused it. That is a bug: please report it.`;
    default:
      return html`Its line in the transcript below says why.`;
  }
}
