// The attacks on /trace (src/app/tamper.ts), as units: what each forged callback carries, that the
// pending sign-in made for an attack does not outlive it, and that nothing is kept or done when the
// app does not run on the sandbox. The callback handler is a stand-in that records what it got.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QlikOAuthError } from '../src/errors.ts';
import { CHECKS } from '../src/checks.ts';
import { redirectReply, type Reply } from '../src/app/reply.ts';
import type { AppContext, AppRequest, Handler } from '../src/app/context.ts';
import { attackOutcomes, canAttack, rememberSpentCallback, tamper } from '../src/app/tamper.ts';
import { createSessionStore, startSession, type Session, type SignedIn } from '../src/app/sessions.ts';
import { bindingOf } from '../src/app/cookies.ts';
import { sealKeyFrom, unseal } from '../src/app/seal.ts';

const APP = 'http://127.0.0.1:3000';
const SPENT = { code: 'sbx_spent-code-0123456789', state: 'state-used-0123456789abcdefghijklmnopqrstuvwx', iss: 'http://127.0.0.1:9' };

function setup(sandbox: boolean) {
  const sessions = createSessionStore();
  const session = startSession(sessions);
  const ctx = {
    sandbox,
    sessions,
    appOrigin: APP,
    client: { clientId: 'c', redirectUri: `${APP}/login/callback` },
    sealKey: sealKeyFrom(undefined),
    secureCookies: false,
  } as unknown as AppContext;
  return { ctx, sessions, session };
}

function request(session: Session, url: string, headers: Record<string, string> = { origin: APP }): AppRequest {
  return { method: 'POST', url: new URL(url), headers, cookies: new Map(), sessionId: session.id, session };
}

/** The pending sign-ins the forged callback carries in its cookies, opened as the callback would. */
function pendingIn(ctx: AppContext, req: AppRequest): { state: string; binding: string }[] {
  return [...req.cookies].flatMap(([name, [value]]) =>
    name.startsWith('signin-') ? [unseal(ctx.sealKey, name, value!) as { state: string; binding: string }] : [],
  );
}

/** A sign-in that worked: the stand-in callback signs the session in and answers 302. */
async function signedIn(ctx: AppContext, session: Session): Promise<void> {
  const handler: Handler = async (_ctx, req) => {
    req.session!.signedIn = {} as SignedIn;
    return redirectReply('/');
  };
  const url = `${APP}/login/callback?code=${SPENT.code}&state=${SPENT.state}&iss=${encodeURIComponent(SPENT.iss)}`;
  await rememberSpentCallback(handler)(ctx, { method: 'GET', url: new URL(url), headers: {}, cookies: new Map(), sessionId: session.id, session });
}

/** A callback stand-in that records the forged URL and refuses it as the real one would. */
function refusing(seen: URL[]): Handler {
  return async (_ctx, req): Promise<Reply> => {
    seen.push(req.url);
    throw new QlikOAuthError(CHECKS.STATE_MISMATCH, 'refused', { hint: 'start again' });
  };
}

test('replay sends the spent callback as it came: same code, state and iss', async () => {
  const { ctx, session } = setup(true);
  await signedIn(ctx, session);
  assert.equal(canAttack(ctx, session), true);
  const seen: URL[] = [];
  const reply = await tamper(ctx, request(session, `${APP}/trace/tamper?attack=replay`), refusing(seen));
  assert.equal(reply.status, 303);
  assert.equal(seen[0]!.origin + seen[0]!.pathname, `${APP}/login/callback`);
  assert.deepEqual(Object.fromEntries(seen[0]!.searchParams), SPENT);
  assert.deepEqual(attackOutcomes(session).map((o) => `${o.attack} ${o.stoppedBy}`), ['replay STATE_MISMATCH']);
});

test('tamper-state: a pending sign-in whose state differs from the callback by one character; it goes with the forged callback only', async () => {
  const { ctx, session } = setup(true);
  await signedIn(ctx, session);
  let pendingDuring: { state: string; binding: string }[] = [];
  const seen: URL[] = [];
  const reply = await tamper(ctx, request(session, `${APP}/trace/tamper?attack=tamper-state`), async (c, req) => {
    pendingDuring = pendingIn(c, req);
    return refusing(seen)(c, req);
  });
  assert.equal(pendingDuring.length, 1);
  assert.equal(pendingDuring[0]!.binding, bindingOf(session.id), 'bound to this browser, as at GET /login');
  const sent = seen[0]!.searchParams.get('state')!;
  assert.notEqual(sent, pendingDuring[0]!.state);
  assert.equal(sent.slice(0, -1), pendingDuring[0]!.state.slice(0, -1), 'one character changed');
  assert.equal(seen[0]!.searchParams.get('iss'), SPENT.iss);
  assert.deepEqual(reply.cookies, [], 'the sign-in made for the attack never reaches the browser: it ends with the attack');
});

test('drop-iss: the pending state exactly, the spent code, and no iss', async () => {
  const { ctx, session } = setup(true);
  await signedIn(ctx, session);
  let pendingDuring: { state: string }[] = [];
  const seen: URL[] = [];
  await tamper(ctx, request(session, `${APP}/trace/tamper?attack=drop-iss`), async (c, req) => {
    pendingDuring = pendingIn(c, req);
    return refusing(seen)(c, req);
  });
  assert.deepEqual([...seen[0]!.searchParams.keys()].sort(), ['code', 'state']);
  assert.equal(seen[0]!.searchParams.get('state'), pendingDuring[0]!.state);
  assert.equal(seen[0]!.searchParams.get('code'), SPENT.code);
});

test('without the sandbox flag: nothing is kept from a sign-in, and an attack is a 404 that calls nothing', async () => {
  const { ctx, session } = setup(false);
  await signedIn(ctx, session);
  assert.equal(canAttack(ctx, session), false);
  const seen: URL[] = [];
  const reply = await tamper(ctx, request(session, `${APP}/trace/tamper?attack=replay`), refusing(seen));
  assert.equal(reply.status, 404);
  assert.deepEqual(seen, []);
});

test('a failed callback is not kept: only a sign-in that worked can be attacked', async () => {
  const { ctx, session } = setup(true);
  const failing: Handler = async () => {
    throw new QlikOAuthError(CHECKS.STATE_MISMATCH, 'refused', { hint: 'start again' });
  };
  await assert.rejects(
    rememberSpentCallback(failing)(ctx, { method: 'GET', url: new URL(`${APP}/login/callback?code=x1234567&state=y1234567`), headers: {}, cookies: new Map(), sessionId: session.id, session }),
  );
  assert.equal(canAttack(ctx, session), false);
});

test('an attack from another origin is refused before anything happens', async () => {
  const { ctx, session } = setup(true);
  await signedIn(ctx, session);
  const seen: URL[] = [];
  const reply = await tamper(ctx, request(session, `${APP}/trace/tamper?attack=drop-iss`, { origin: 'https://evil.example' }), refusing(seen));
  assert.equal(reply.status, 403);
  assert.deepEqual(seen, []);
});
