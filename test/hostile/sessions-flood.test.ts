// A flood of anonymous sign-ins (GET /login without a cookie: a new session and a pending sign-in
// each) must neither fill the memory nor sign anybody out. Signed-in sessions are kept apart from
// the others with a cap of their own (src/app/sessions.ts), so only the not-signed-in sessions are
// pushed out, oldest first. scripts/load.ts does the same with 100,000 requests and the heap measured.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addPendingLogin,
  createSessionStore,
  findSession,
  signInSession,
  signOutSession,
  startSession,
  takePendingLogin,
  type SignedIn,
} from '../../src/app/sessions.ts';
import { Browser, signIn, startStack } from '../helpers/browser.ts';
import { CLIENT, METADATA } from '../helpers/tenant.ts';

function signedInAs(name: string): SignedIn {
  return {
    user: { id: `id-${name}`, name, subject: `sub|${name}`, tenantId: 't', email: undefined, raw: {} },
    qlik: { metadata: METADATA, client: CLIENT, tokens: { accessToken: `at-${name}`, tokenType: 'bearer', expiresAt: undefined, lifetimeMs: undefined, refreshToken: undefined, scope: undefined } },
    signedInAt: 0,
  };
}

let n = 0;
const pending = () => ({ state: `state-${++n}`, codeVerifier: `verifier-${n}` });

describe('sessions under a flood of anonymous sign-ins', () => {
  it('never pushes out a signed-in session, however many anonymous ones arrive', () => {
    const store = createSessionStore({ maxSessions: 100, maxPendingLogins: 100 });
    const users = ['ada', 'grace', 'linus'].map((name) => {
      const session = startSession(store);
      signInSession(store, session, signedInAs(name));
      return session;
    });
    for (let i = 0; i < 10_000; i += 1) addPendingLogin(store, startSession(store), pending());
    for (const session of users) {
      const found = findSession(store, session.id);
      assert.equal(found, session, 'still there');
      assert.ok(found?.signedIn, 'still signed in');
    }
    assert.equal(store.signedInSessions.size, 3);
    assert.equal(store.sessions.size, 100, 'the anonymous ones are capped');
    assert.equal(store.pendingLogins.size, 100, 'so are the pending sign-ins');
  });

  it('pushes out the longest idle session that is not signed in, even when a signed-in one is older', () => {
    const store = createSessionStore({ maxSessions: 2 });
    const signedIn = startSession(store);
    signInSession(store, signedIn, signedInAs('ada'));
    const first = startSession(store);
    const second = startSession(store);
    const third = startSession(store); // over the cap of 2: `first` goes, not the older signed-in one
    assert.equal(findSession(store, first.id), undefined);
    assert.equal(findSession(store, second.id), second);
    assert.equal(findSession(store, third.id), third);
    assert.equal(findSession(store, signedIn.id), signedIn);
  });

  it('drops the pending sign-ins of a pushed-out session: its callback then finds nothing', () => {
    const store = createSessionStore({ maxSessions: 1 });
    const victim = startSession(store);
    addPendingLogin(store, victim, { state: 'victim-state', codeVerifier: 'v' });
    startSession(store);
    assert.equal(store.pendingLogins.has('victim-state'), false);
    assert.deepEqual(takePendingLogin(store, findSession(store, victim.id), 'victim-state'), { kind: 'unknown' });
  });

  it('caps signed-in sessions on their own: the longest idle signed-in session goes', () => {
    const store = createSessionStore({ maxSignedInSessions: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map((name) => {
      const session = startSession(store);
      signInSession(store, session, signedInAs(name));
      return session;
    });
    assert.equal(findSession(store, a!.id), undefined);
    assert.equal(findSession(store, b!.id), b);
    assert.equal(findSession(store, c!.id), c);
  });

  it('renews the id at sign-in, and forgets the old one (session fixation)', () => {
    const store = createSessionStore();
    const session = startSession(store);
    const before = session.id;
    signInSession(store, session, signedInAs('ada'));
    assert.notEqual(session.id, before);
    assert.equal(findSession(store, before), undefined);
    assert.equal(store.sessions.size, 0);
    assert.equal(store.signedInSessions.get(session.id), session);
  });

  it('moves a session whose tokens died back among the anonymous ones', () => {
    const store = createSessionStore({ maxSessions: 1 });
    const session = startSession(store);
    signInSession(store, session, signedInAs('ada'));
    signOutSession(store, session);
    assert.equal(session.signedIn, undefined);
    assert.equal(store.signedInSessions.size, 0);
    assert.equal(findSession(store, session.id), session);
    startSession(store); // now it can be pushed out like any anonymous session
    assert.equal(findSession(store, session.id), undefined);
  });

  it('still expires signed-in sessions that stay idle', () => {
    let now = 0;
    const store = createSessionStore({ sessionIdleMs: 1_000 }, () => now);
    const session = startSession(store);
    signInSession(store, session, signedInAs('ada'));
    now = 1_001;
    startSession(store); // sweeps idle sessions of both kinds
    assert.equal(store.signedInSessions.size, 0);
    assert.equal(findSession(store, session.id), undefined);
  });
});

describe('the app under a flood of anonymous sign-ins', () => {
  it('keeps every signed-in user signed in while anonymous /login calls overflow the session cap', async () => {
    const stack = await startStack({ app: { sessionLimits: { maxSessions: 20, maxPendingLogins: 20 } } });
    try {
      const users = ['ada', 'grace', 'linus'];
      const browsers = users.map(() => new Browser());
      for (const [i, browser] of browsers.entries()) await signIn(browser, stack.app, users[i]);
      // 300 anonymous sign-ins, 15 times the cap, 10 at a time.
      for (let round = 0; round < 30; round += 1) {
        const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(`${stack.app.url}/login`, { redirect: 'manual' })));
        for (const answer of answers) assert.equal(answer.status, 302);
      }
      for (const [i, browser] of browsers.entries()) {
        const home = await browser.get(`${stack.app.url}/`);
        assert.match(home.body, new RegExp(`Signed in as ${users[i]![0]!.toUpperCase()}${users[i]!.slice(1)}<`));
      }
    } finally {
      await stack.close();
    }
  });
});
