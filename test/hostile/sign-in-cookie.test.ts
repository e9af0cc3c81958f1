// The sealed sign-in cookie (issue 12, finding 2; src/app/cookies.ts): it proves a state was sent
// to this browser, it is single use, and with SESSION_SECRET another process of the app opens it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app/index.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from '../../src/sandbox/index.ts';
import { Browser, consentCallback, startStack, type Stack } from '../helpers/browser.ts';
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
