// One deadline per route that calls the tenant, and a page limit for the home page's spaces (issue
// 12, finding 10). Before, the home page paged through up to 100 pages, each with its own 10 s
// timeout plus up to 10 s of 429 waits: a slow or looping tenant held a request for minutes. Here the
// per-call timeout is a minute, so only the route's deadline (AppOptions.deadlineMs) can end the wait.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, signIn, startStack, type Stack } from '../helpers/browser.ts';

/** What the stand-in tenant does to API calls: pass them on, never answer, or page forever. */
let mode: 'pass' | 'hang' | 'endless' = 'pass';
let spacesRequests = 0;

const tenantFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (mode === 'pass' || !url.pathname.startsWith('/api/v1/')) return fetch(input, init);
  if (url.pathname === '/api/v1/spaces') spacesRequests += 1;
  if (mode === 'endless' && url.pathname === '/api/v1/spaces') {
    // One space per page, and always a next page, on the tenant's own origin.
    const page = Number(url.searchParams.get('page') ?? '0');
    const next = new URL(url);
    next.searchParams.set('page', String(page + 1));
    const body = { data: [{ id: `s${page}`, name: `Space ${page}` }].slice(0, page === 0 ? 1 : 0), links: { next: { href: next.href } } };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  }
  // Never answers; gives up only when the caller's signal fires, as a real fetch does.
  return new Promise<Response>((_, reject) => {
    const signal = init?.signal;
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
};

let stack: Stack;
before(async () => {
  stack = await startStack({ app: { fetch: tenantFetch, timeoutMs: 60_000, deadlineMs: 300 } });
});
after(() => stack.close());

/** The answer, or a failure after 10 s: without the deadline it would take a minute. */
async function within10s<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer within 10 s: the route has no deadline')), 10_000);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a tenant that never answers API calls', () => {
  it('gets the home page its answer at the route deadline, with the reason shown', async () => {
    mode = 'pass';
    const browser = new Browser();
    await signIn(browser, stack.app, 'ada');
    mode = 'hang';
    const home = await within10s(browser.get(`${stack.app.url}/`));
    assert.equal(home.status, 200);
    assert.match(home.body, /Signed in as Ada/);
    assert.match(home.body, /ran out of time/);
    assert.match(home.body, /TIMEOUT/);
  });

  it('gets /api/me its answer at the route deadline: 504', async () => {
    mode = 'pass';
    const browser = new Browser();
    await signIn(browser, stack.app, 'ada');
    mode = 'hang';
    const me = await within10s(browser.get(`${stack.app.url}/api/me`));
    assert.equal(me.status, 504, me.body);
  });
});

describe('a tenant whose list of spaces never ends', () => {
  it('is asked for a few pages at most by the home page', async () => {
    mode = 'pass';
    const browser = new Browser();
    await signIn(browser, stack.app, 'ada');
    mode = 'endless';
    spacesRequests = 0;
    const home = await within10s(browser.get(`${stack.app.url}/`));
    assert.equal(home.status, 200);
    assert.ok(spacesRequests <= 3, `${spacesRequests} pages asked for`);
    assert.match(home.body, /TOO_MANY_PAGES/);
  });
});
