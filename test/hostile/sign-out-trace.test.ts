// Sign-out leaves no user data on /trace (issue 12, finding 7). After POST /logout the home page said
// "Not signed in", but /trace?format=json still showed the users/me body (name, email, subject) and
// the spaces exchange — for the next person at a shared computer. The session made at sign-out now
// starts with an empty transcript; only the sign-out's own revocations show, redacted.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Browser, signIn, startStack, type Stack } from '../helpers/browser.ts';
import { hostileSignIn, json, startHostileStack, tokenResponse } from '../helpers/hostile-tenant.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

describe('GET /trace after sign-out', () => {
  it('shows the revocations only, with no user data', async () => {
    const browser = new Browser();
    const { final } = await signIn(browser, stack.app, 'grace.hopper');
    assert.match(final.body, /Signed in as Grace Hopper/);
    assert.equal((await browser.get(`${stack.app.url}/api/me`)).status, 200);
    const before = await browser.get(`${stack.app.url}/trace?format=json`);
    assert.match(before.body, /grace\.hopper@sandbox\.example/, 'signed in, the user sees their own sign-in');

    const out = await browser.request(`${stack.app.url}/logout`, { method: 'POST' });
    assert.equal(out.status, 302);
    assert.match((await browser.get(`${stack.app.url}/`)).body, /Not signed in/);

    const trace = await browser.get(`${stack.app.url}/trace?format=json`);
    assert.equal(trace.status, 200);
    for (const personal of [/Grace/i, /hopper/i, /sandbox\|/, /@sandbox\.example/, /\/api\/v1\/spaces/, /\/api\/v1\/users\/me/]) {
      assert.doesNotMatch(trace.body, personal);
    }
    const { events } = JSON.parse(trace.body) as { events: { type: string; section: string; url?: string; status?: number }[] };
    const calls = events.filter((e) => e.type === 'exchange').map((e) => `${e.section} ${new URL(e.url!).pathname} ${e.status}`);
    // Discovery at start heads every transcript; then the sign-out's revocations, and nothing else.
    assert.deepEqual(calls, ['3.1 /.well-known/oauth-authorization-server 200', 'lifecycle /oauth/revoke 200', 'lifecycle /oauth/revoke 200']);
    assert.doesNotMatch((await browser.get(`${stack.app.url}/trace`)).body, /Grace|hopper/i, 'nor on the page');
  });
});

// Issue 19, finding 3: the transcript of the session made at sign-out is a small one, and it did not
// remember a secret longer than a quarter of its budget. A JWT-sized refresh token that the tenant's
// revocation error names then showed whole on /trace, and 300 characters of it in the message.
describe('sign-out when the tenant names a JWT-sized refresh token in its revocation errors', () => {
  it('shows none of it: not in the message on the home page, not on /trace', async () => {
    const hostile = await startHostileStack();
    try {
      const refreshToken = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(1_100).toString('base64url')}.sig`;
      hostile.tenant.on.token = json(200, tokenResponse({ refresh_token: refreshToken }));
      // Both revocations, the access token's too, answer with the refresh token in the description.
      hostile.tenant.on.revoke = json(400, { error: 'invalid_request', error_description: `refresh token ${refreshToken} is not valid here` });
      const browser = new Browser();
      const { final } = await hostileSignIn(browser, hostile.app);
      assert.match(final.body, /Signed in as/);
      assert.equal((await browser.request(`${hostile.app.url}/logout`, { method: 'POST' })).status, 302);
      const home = await browser.get(`${hostile.app.url}/`);
      assert.match(home.body, /could not revoke its tokens/);
      const trace = await browser.get(`${hostile.app.url}/trace`);
      const traceJson = await browser.get(`${hostile.app.url}/trace?format=json`);
      assert.match(traceJson.body, /invalid_request/, "the revocation errors are on record");
      for (const [where, body] of [['home', home.body], ['/trace', trace.body], ['/trace?format=json', traceJson.body]]) {
        for (let at = 0; at + 24 <= refreshToken.length; at += 24) {
          assert.ok(!body!.includes(refreshToken.slice(at, at + 24)), `${where} shows the refresh token's characters ${at}–${at + 24}`);
        }
      }
    } finally {
      await hostile.close();
    }
  });
});
