// The fewest round trips: after the token exchange, what the landing page needs (/users/me and the
// first page of spaces) goes to the tenant in one parallel batch, and the first GET / after sign-in
// renders from it without calling the tenant again.
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { SPACES } from '../src/sandbox/fake-data.ts';
import { Browser, consentCallback, startStack, type Stack } from './helpers/browser.ts';

const listed = (body: string) => [...body.matchAll(/<li>([^<]+)<\/li>/g)].map((m) => m[1]);

describe('app: the first page after sign-in', () => {
  let stack: Stack;
  before(async () => { stack = await startStack(); });
  after(() => stack.close());

  it('the first GET / makes no call to the tenant, and still lists the spaces', async () => {
    const browser = new Browser();
    const callback = await consentCallback(browser, stack.app);
    const beforeCallback = stack.sandbox.stats().apiRequests;
    const landed = await browser.get(callback.href);
    assert.equal(landed.status, 302);
    assert.equal(stack.sandbox.stats().apiRequests - beforeCallback, 3, 'the callback asks for /users/me (its 301, then the user) and the first spaces');

    const beforeHome = stack.sandbox.stats().apiRequests;
    const home = await browser.get(landed.location!);
    assert.equal(home.status, 200);
    assert.match(home.body, /Signed in as Ada/);
    assert.deepEqual(listed(home.body), SPACES.slice(0, 5).map((s) => s.name));
    assert.equal(stack.sandbox.stats().apiRequests - beforeHome, 0, 'the first view renders from what the callback fetched');

    // Later views are fresh: they ask the tenant again.
    const again = await browser.get(landed.location!);
    assert.deepEqual(listed(again.body), SPACES.slice(0, 5).map((s) => s.name));
    assert.equal(stack.sandbox.stats().apiRequests - beforeHome, 1, 'the second view lists the spaces anew');
  });

  it('sends /users/me and the spaces side by side, not one after the other', async () => {
    const browser = new Browser();
    const callback = await consentCallback(browser, stack.app);
    // Every API call to the tenant takes 100 ms longer; the log says when each started and ended.
    const log: { path: string; start: number; end: number }[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.origin !== stack.sandbox.url || !url.pathname.startsWith('/api/')) return realFetch(input, init);
      const entry = { path: url.pathname, start: performance.now(), end: Infinity };
      log.push(entry);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const response = await realFetch(input, init);
      entry.end = performance.now();
      return response;
    };
    try {
      const landed = await browser.get(callback.href);
      assert.equal(landed.status, 302);
    } finally {
      globalThis.fetch = realFetch;
    }
    const me = log.find((e) => e.path === '/api/v1/users/me');
    const spaces = log.find((e) => e.path === '/api/v1/spaces');
    assert.ok(me && spaces, `both calls made: ${log.map((e) => e.path).join(', ')}`);
    assert.ok(spaces.start < me.end && me.start < spaces.end, 'the two calls were in flight at the same time');
  });

  it('a spaces failure at sign-in still signs in, and the first page says the spaces could not be listed', async () => {
    const browser = new Browser();
    const callback = await consentCallback(browser, stack.app);
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.origin === stack.sandbox.url && url.pathname === '/api/v1/spaces') {
        const body = JSON.stringify({ errors: [{ code: 'HTTP-500', title: 'Internal error' }], traceId: 't1' });
        return new Response(body, { status: 500, headers: { 'content-type': 'application/json' } });
      }
      return realFetch(input, init);
    };
    let landed;
    try {
      landed = await browser.get(callback.href);
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.equal(landed.status, 302);
    const home = await browser.get(landed.location!);
    assert.equal(home.status, 200);
    assert.match(home.body, /Signed in as Ada/);
    assert.match(home.body, /Your spaces could not be listed: /);
  });
});
