// A flood of anonymous sign-ins (GET /login without a cookie: a new session each) must neither
// fill the memory, nor sign anybody out, nor break a sign-in under way. Signed-in sessions are kept
// apart from the others with a cap of their own (src/app/sessions.ts), so only the not-signed-in
// sessions are pushed out, oldest first; a pending sign-in is not on the server at all but sealed in
// its own cookie (src/app/cookies.ts). scripts/load.ts does the same with 100,000 requests and the
// heap measured.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSessionStore, findSession, signInSession, signOutSession, startSession, type SignedIn } from '../../src/app/sessions.ts';
import { Browser, signIn, startSignIn, startStack } from '../helpers/browser.ts';
import { CLIENT, METADATA } from '../helpers/tenant.ts';

function signedInAs(name: string): SignedIn {
  return {
    user: { id: `id-${name}`, name, subject: `sub|${name}`, tenantId: 't', email: undefined, raw: {} },
    qlik: { metadata: METADATA, client: CLIENT, tokens: { accessToken: `at-${name}`, tokenType: 'bearer', expiresAt: undefined, lifetimeMs: undefined, refreshToken: undefined, scope: undefined } },
    signedInAt: 0,
  };
}

let n = 0;
const binding = () => `binding-${++n}`;

describe('sessions under a flood of anonymous sign-ins', () => {
  it('never pushes out a signed-in session, however many anonymous ones arrive', () => {
    const store = createSessionStore({ maxSessions: 100 });
    const users = ['ada', 'grace', 'linus'].map((name) => {
      const session = startSession(store);
      signInSession(store, session, signedInAs(name), binding());
      return session;
    });
    for (let i = 0; i < 10_000; i += 1) startSession(store);
    for (const session of users) {
      const found = findSession(store, session.id);
      assert.equal(found, session, 'still there');
      assert.ok(found?.signedIn, 'still signed in');
    }
    assert.equal(store.signedInSessions.size, 3);
    assert.equal(store.sessions.size, 100, 'the anonymous ones are capped');
  });

  it('pushes out the longest idle session that is not signed in, even when a signed-in one is older', () => {
    const store = createSessionStore({ maxSessions: 2 });
    const signedIn = startSession(store);
    signInSession(store, signedIn, signedInAs('ada'), binding());
    const first = startSession(store);
    const second = startSession(store);
    const third = startSession(store); // over the cap of 2: `first` goes, not the older signed-in one
    assert.equal(findSession(store, first.id), undefined);
    assert.equal(findSession(store, second.id), second);
    assert.equal(findSession(store, third.id), third);
    assert.equal(findSession(store, signedIn.id), signedIn);
  });

  it('caps signed-in sessions on their own: the longest idle signed-in session goes', () => {
    const store = createSessionStore({ maxSignedInSessions: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map((name) => {
      const session = startSession(store);
      signInSession(store, session, signedInAs(name), binding());
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
    signInSession(store, session, signedInAs('ada'), binding());
    assert.notEqual(session.id, before);
    assert.equal(findSession(store, before), undefined);
    assert.equal(store.sessions.size, 0);
    assert.equal(store.signedInSessions.get(session.id), session);
  });

  it('moves a session whose tokens died back among the anonymous ones', () => {
    const store = createSessionStore({ maxSessions: 1 });
    const session = startSession(store);
    signInSession(store, session, signedInAs('ada'), binding());
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
    signInSession(store, session, signedInAs('ada'), binding());
    now = 1_001;
    startSession(store); // sweeps idle sessions of both kinds
    assert.equal(store.signedInSessions.size, 0);
    assert.equal(findSession(store, session.id), undefined);
  });
});

describe('the app under a flood of anonymous sign-ins', () => {
  it('keeps every signed-in user signed in while anonymous /login calls overflow the session cap', async () => {
    const stack = await startStack({ app: { sessionLimits: { maxSessions: 20 } } });
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

  it('lets a sign-in started before a 10,000-request cookieless /login flood complete after it', async () => {
    // The flood pushes the browser's own (not yet signed-in) session out many times over: the
    // sign-in under way must not depend on it. It was at 400 STATE_MISMATCH before.
    const stack = await startStack({ app: { sessionLimits: { maxSessions: 100 } } });
    try {
      const browser = new Browser();
      const consentPage = await startSignIn(browser, stack.app); // at the tenant's consent page during the flood
      const { port } = stack.app.server.address() as AddressInfo;
      const agent = new Agent({ keepAlive: true, maxSockets: 20 });
      let sent = 0;
      const statuses = new Map<number, number>();
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (sent < 10_000) {
            sent += 1;
            const status = await new Promise<number>((resolve) => {
              const req = request({ host: '127.0.0.1', port, path: '/login', agent }, (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
              });
              req.on('error', () => resolve(0));
              req.end();
            });
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      );
      agent.destroy();
      assert.deepEqual([...statuses], [[302, 10_000]]);
      assert.equal(stack.app.server.listening, true);
      const decision = await browser.consent(consentPage, { user: 'grace', decision: 'allow' });
      const hops = await browser.follow(decision.location!);
      assert.equal(hops[0]!.status, 302, hops[0]!.body.slice(0, 300));
      assert.match(hops.at(-1)!.body, /Signed in as Grace</);
    } finally {
      await stack.close();
    }
  });
});
