// The session cookie against planting (issue 12, finding 6). With APP_URL=https://… the cookie was
// `sid=…; Secure`: a cookie planted from a sibling subdomain or an http answer for the same host
// won ("first cookie wins"), and a login CSRF put the victim into the attacker's account. Behind
// https it is now `__Host-sid` (test/app.e2e.test.ts, test/security-headers.test.ts check the
// Set-Cookie), and a request that carries two session cookies is treated as having none.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, signIn, startStack, type Stack } from '../helpers/browser.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

describe('two session cookies in one request', () => {
  it('count as none: a planted id before or after the real one gets nobody signed in', async () => {
    const victim = new Browser();
    await signIn(victim, stack.app, 'ada');
    const real = victim.cookie(stack.app.url, 'sid')!;
    const attacker = new Browser();
    await signIn(attacker, stack.app, 'mallory');
    const planted = attacker.cookie(stack.app.url, 'sid')!;
    for (const cookie of [`sid=${planted}; sid=${real}`, `sid=${real}; sid=${planted}`, `sid=${real}; sid=${real}`]) {
      const home = await fetch(`${stack.app.url}/`, { headers: { cookie } });
      const body = await home.text();
      assert.match(body, /Not signed in/, cookie);
      assert.doesNotMatch(body, /Mallory|Ada/);
      const me = await fetch(`${stack.app.url}/api/me`, { headers: { cookie } });
      assert.equal(me.status, 401);
    }
    // Each alone still works.
    assert.match(await (await fetch(`${stack.app.url}/`, { headers: { cookie: `sid=${real}` } })).text(), /Signed in as Ada/);
  });

  it('behind https, reads only the __Host- cookie: a plain sid cookie planted by a sibling is ignored', async () => {
    const https = await startStack({ app: { appUrl: 'https://app.example', host: '127.0.0.1' } });
    try {
      const local = `http://127.0.0.1:${(https.app.server.address() as { port: number }).port}`;
      const login = await fetch(`${local}/login`, { redirect: 'manual' });
      const [session] = login.headers.getSetCookie();
      const id = /^__Host-sid=([^;]+)/.exec(session!)![1]!;
      // Sent back as __Host-sid, it is this browser's session: /login makes no new one.
      const again = await fetch(`${local}/login`, { redirect: 'manual', headers: { cookie: `__Host-sid=${id}` } });
      assert.deepEqual(again.headers.getSetCookie().map((line) => line.split('=')[0]), ['__Secure-signin-' + new URL(again.headers.get('location')!).searchParams.get('state')!.slice(0, 8)]);
      // The same id under the unprefixed name, as a sibling subdomain could set it: not a session.
      const planted = await fetch(`${local}/login`, { redirect: 'manual', headers: { cookie: `sid=${id}` } });
      assert.match(planted.headers.getSetCookie()[0]!, /^__Host-sid=(?!${id})/, 'a new session, not the planted one');
    } finally {
      await https.close();
    }
  });
});
