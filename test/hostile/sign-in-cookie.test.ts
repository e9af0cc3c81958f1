// The sealed sign-in cookie (issue 12, finding 2; src/app/cookies.ts): it proves a state was sent
// to this browser, it is single use, and with SESSION_SECRET another process of the app opens it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app/index.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from '../../src/sandbox/index.ts';
import { Browser, consentCallback, signIn, startStack, type Stack } from '../helpers/browser.ts';
import { assertErrorPage } from '../helpers/pages.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const pendingName = (callback: URL) => `signin-${callback.searchParams.get('state')!.slice(0, 8)}`;

describe('the sign-in cookie', () => {
  it('copied with the callback URL into another browser, is refused there (bound to the session id), and the owner still signs in', async () => {
    const victim = new Browser();
    const callback = await consentCallback(victim, stack.app, 'ada');
    const name = pendingName(callback);
    const attacker = new Browser();
    await attacker.get(`${stack.app.url}/login`); // a session of the attacker's own
    const cookie = `sid=${attacker.cookie(stack.app.url, 'sid')}; ${name}=${victim.cookie(stack.app.url, name)}`;
    const stolen = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
    assert.equal(stolen.status, 400);
    assert.match(await stolen.text(), /STATE_MISMATCH/);
    const hops = await victim.follow(callback.href);
    assert.match(hops.at(-1)!.body, /Signed in as Ada/);
  });

  it('tampered with, counts as no cookie (STATE_MISMATCH)', async () => {
    const browser = new Browser();
    const callback = await consentCallback(browser, stack.app, 'ada');
    const name = pendingName(callback);
    const value = browser.cookie(stack.app.url, name)!;
    const flipped = value.slice(0, -2) + (value.at(-2) === 'A' ? 'B' : 'A') + value.at(-1);
    const answer = await fetch(callback, { headers: { cookie: `sid=${browser.cookie(stack.app.url, 'sid')}; ${name}=${flipped}` }, redirect: 'manual' });
    assertErrorPage({ url: callback.href, method: 'GET', status: answer.status, headers: answer.headers, body: await answer.text(), location: undefined }, 400, 'STATE_MISMATCH');
  });

  it('sent twice at once (a double-submitted callback), is exchanged once: the other gets "already used"', async () => {
    const browser = new Browser();
    const callback = await consentCallback(browser, stack.app, 'ada');
    const name = pendingName(callback);
    const cookie = `sid=${browser.cookie(stack.app.url, 'sid')}; ${name}=${browser.cookie(stack.app.url, name)}`;
    const tokensBefore = stack.sandbox.stats().tokenRequests;
    const answers = await Promise.all([1, 2].map(() => fetch(callback, { headers: { cookie }, redirect: 'manual' })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [302, 400]);
    const refused = answers.find((a) => a.status === 400)!;
    assert.match(await refused.text(), /already used or has expired/);
    assert.equal(stack.sandbox.stats().tokenRequests - tokensBefore, 1, 'one code exchange');
  });

  it('becomes a "used" marker at the callback: a reload gets "already used", from the browser\'s own cookie', async () => {
    const browser = new Browser();
    const callback = await consentCallback(browser, stack.app, 'ada');
    assert.equal((await browser.follow(callback.href)).at(-1)!.status, 200);
    const reload = await browser.get(callback.href);
    assert.equal(reload.status, 400);
    assert.match(reload.body, /already used or has expired/);
  });
});

describe('SESSION_SECRET', () => {
  it('lets another process of the app, with the same secret, finish a sign-in this one started; with another secret, not', async () => {
    const secret = 'a-long-shared-secret-for-two-app-processes';
    const first = await startStack({ app: { sessionSecret: secret } });
    // Two more processes for the same public address (APP_URL) and tenant, as behind a load balancer.
    const other = (sessionSecret: string) =>
      createApp({
        tenantUrl: first.sandbox.url,
        clientId: SANDBOX_CLIENT_ID,
        clientSecret: SANDBOX_CLIENT_SECRET,
        host: '127.0.0.1',
        port: 0,
        appUrl: first.app.url,
        sessionSecret,
        log: () => {},
      });
    const same = await other(secret);
    const different = await other(`${secret}-other`);
    try {
      for (const [app, opens] of [[same, true], [different, false]] as const) {
        const browser = new Browser();
        const callback = await consentCallback(browser, first.app, 'ada');
        const name = pendingName(callback);
        const cookie = `sid=${browser.cookie(first.app.url, 'sid')}; ${name}=${browser.cookie(first.app.url, name)}`;
        const local = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
        const answer = await fetch(`${local}/login/callback${callback.search}`, { headers: { cookie }, redirect: 'manual' });
        const body = await answer.text();
        if (opens) {
          assert.equal(answer.status, 302, body.slice(0, 300));
          const sid = /^sid=([^;]+)/.exec(answer.headers.getSetCookie().find((line) => line.startsWith('sid='))!)![1];
          assert.match(await (await fetch(`${local}/`, { headers: { cookie: `sid=${sid}` } })).text(), /Signed in as Ada/);
        } else {
          assert.equal(answer.status, 400);
          assert.match(body, /STATE_MISMATCH/, 'another key: the cookie does not open');
        }
      }
    } finally {
      await Promise.all([first.close(), same.close(), different.close()]);
    }
  });
});

// Issue 19, finding 1: every GET /login added a ~300-byte sign-in cookie for 15 minutes, uncapped.
// A page that sent the browser to /login 60 times (one click) made its Cookie header ~17 KB, and
// the real callback got 431 from node:http until the cookies expired.
describe('a flood of GET /login from one browser', () => {
  it('cannot lock it out: after 60, a sign-in through the tenant works, with a small Cookie header', async () => {
    const cookieSizes = new Map<string, number>();
    const measure = (req: IncomingMessage) => cookieSizes.set(new URL(req.url!, stack.app.url).pathname, req.headers.cookie?.length ?? 0);
    stack.app.server.on('request', measure);
    try {
      const browser = new Browser();
      for (let i = 0; i < 60; i += 1) assert.equal((await browser.get(`${stack.app.url}/login`)).status, 302);
      const { afterCallback, final } = await signIn(browser, stack.app, 'ada');
      assert.equal(afterCallback[0]!.status, 302, afterCallback[0]!.body.slice(0, 300));
      assert.match(final.body, /Signed in as Ada/);
      // sid and at most MAX_SIGN_IN_COOKIES sign-in cookies of ~300 bytes each.
      assert.ok(cookieSizes.get('/login/callback')! < 2_000, `a ${cookieSizes.get('/login/callback')}-byte Cookie header at the callback`);
    } finally {
      stack.app.server.off('request', measure);
    }
  });

  it('expires the oldest sign-ins first: the newest five still finish, the sixth oldest is refused', async () => {
    const browser = new Browser();
    const callbacks: URL[] = [];
    for (let i = 0; i < 6; i += 1) callbacks.push(await consentCallback(browser, stack.app, 'ada'));
    const oldest = await browser.get(callbacks[0]!.href);
    assertErrorPage(oldest, 400, 'STATE_MISMATCH');
    for (const callback of callbacks.slice(1)) {
      const hops = await browser.follow(callback.href);
      assert.equal(hops[0]!.status, 302, hops[0]!.body.slice(0, 300));
      assert.match(hops.at(-1)!.body, /Signed in as Ada/);
    }
  });
});
