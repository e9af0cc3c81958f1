// Beyond the tutorial's first token, through the app: the home page's paged list, refresh with and
// without rotation, a refresh the tenant refuses, and the transcript of sign-in → refresh → sign-out.
import { describe, it, after, before, mock } from 'node:test';
import assert from 'node:assert/strict';
import { SPACES } from '../src/sandbox/fake-data.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, type SandboxOptions } from '../src/sandbox/index.ts';
import { Browser, signIn, startStack, watchSecrets, type Stack } from './helpers/browser.ts';

const listed = (body: string) => [...body.matchAll(/<li>([^<]+)<\/li>/g)].map((m) => m[1]);

describe('app: the home page lists the first spaces (GET /api/v1/spaces, paged)', () => {
  let stack: Stack;
  before(async () => { stack = await startStack(); });
  after(() => stack.close());

  it('shows the first five spaces of the tenant, in order', async () => {
    const browser = new Browser();
    const { final } = await signIn(browser, stack.app, 'ada');
    assert.match(final.body, /<h2>Your first spaces<\/h2>/);
    assert.deepEqual(listed(final.body), SPACES.slice(0, 5).map((s) => s.name));
  });

  it('says so, and keeps the user signed in, when the tenant cannot list them', async () => {
    const browser = new Browser();
    await signIn(browser, stack.app, 'ada');
    stack.sandbox.faults.named = ['api-429']; // retry-after: 13, more than a page waits out
    const home = await browser.get(`${stack.app.url}/`);
    stack.sandbox.faults.named = [];
    assert.equal(home.status, 200);
    assert.match(home.body, /Signed in as Ada/);
    assert.match(home.body, /Your spaces could not be listed: Qlik asks us to wait 13 s before asking again\./);
  });
});

/**
 * Starts the stack with a fake Date (node:test mock.timers): the app's clock and the sandbox's both
 * move only when a test calls mock.timers.tick(), so a 1-second token ages without waiting for it.
 * Timers stay real (the servers need them).
 */
async function startOnFakeClock(sandbox: SandboxOptions): Promise<Stack> {
  mock.timers.enable({ apis: ['Date'], now: Date.now() });
  return startStack({ sandbox });
}

async function closeOnFakeClock(stack: Stack): Promise<void> {
  await stack.close();
  mock.timers.reset();
}

for (const rotate of [true, false]) {
  describe(`app: refresh ${rotate ? 'with' : 'without'} rotation of the refresh token`, () => {
    let stack: Stack;
    before(async () => { stack = await startOnFakeClock({ accessTokenLifetimeSeconds: 1, rotateRefreshTokens: rotate }); });
    after(() => closeOnFakeClock(stack));

    it('keeps the user signed in across several refreshes', async () => {
      const browser = new Browser();
      await signIn(browser, stack.app, 'ada');
      const before = stack.sandbox.stats().refreshRequests;
      for (let i = 0; i < 3; i++) {
        mock.timers.tick(600); // past half the 1-second lifetime: the refresh margin (lifecycle.ts refreshMarginMs)
        const me = await browser.get(`${stack.app.url}/api/me`);
        assert.equal(me.status, 200, me.body);
        assert.equal(JSON.parse(me.body).name, 'Ada');
      }
      // Each call finds the 1-second token in its last half: each one refreshes.
      assert.equal(stack.sandbox.stats().refreshRequests - before, 3);
    });
  });
}

describe('app: a refresh the tenant refuses', () => {
  let stack: Stack;
  let watch: ReturnType<typeof watchSecrets>;
  before(async () => {
    watch = watchSecrets();
    stack = await startOnFakeClock({ accessTokenLifetimeSeconds: 1 });
  });
  after(async () => {
    watch.stop();
    await closeOnFakeClock(stack);
  });

  it('signs the user out with a message that says why and what to do', async () => {
    const browser = new Browser();
    await signIn(browser, stack.app, 'ada');
    // The refresh token stops working at the tenant (an admin revoked it, a password changed, …).
    for (const token of [...watch.secrets].filter((s) => s.startsWith('sbx_rt_'))) {
      const form = new URLSearchParams({ token, client_id: SANDBOX_CLIENT_ID, client_secret: SANDBOX_CLIENT_SECRET });
      assert.equal((await fetch(`${stack.sandbox.url}/oauth/revoke`, { method: 'POST', body: form })).status, 200);
    }
    mock.timers.tick(600);
    const home = await browser.get(`${stack.app.url}/`);
    assert.equal(home.status, 200);
    assert.match(home.body, /You are signed out: The tenant no longer accepts this sign-in \(REFRESH_FAILED: The tenant refused to refresh the token/);
    assert.match(home.body, /Log in again to continue\./);
    assert.match(home.body, /Not signed in/);
  });
});

describe('app: the transcript of sign-in → refresh → sign-out', () => {
  let stack: Stack;
  before(async () => { stack = await startOnFakeClock({ accessTokenLifetimeSeconds: 1 }); });
  after(() => closeOnFakeClock(stack));

  it('shows every call to the tenant, in its section, with secrets redacted', async () => {
    const browser = new Browser();
    await signIn(browser, stack.app, 'ada');
    mock.timers.tick(600); // the 1-second token is now in its last half: the next call refreshes it
    assert.equal((await browser.get(`${stack.app.url}/api/me`)).status, 200);
    type Events = { events: { type: string; section: string; method?: string; url?: string; requestBody?: string; status?: number }[] };
    const exchanges = async () => {
      const { events } = JSON.parse((await browser.get(`${stack.app.url}/trace?format=json`)).body) as Events;
      return events.filter((e) => e.type === 'exchange');
    };
    const signedIn = await exchanges();
    // users/me answers 301 to /api/v1/users/{id}: each hop is its own exchange.
    const calls = signedIn.map((e) => `${e.section} ${e.method} ${new URL(e.url!).pathname.replace(/[0-9a-f]{24}$/, '{id}')} ${e.status}`);
    assert.equal(calls[0], '3.1 GET /.well-known/oauth-authorization-server 200'); // discovery at start heads every transcript
    assert.equal(calls[1], '3.3 POST /oauth/token 200');
    // After the exchange, /users/me and the first page's spaces go out together: either may be filed first.
    assert.deepEqual(calls.slice(2, 5).sort(), ['3.4 GET /api/v1/users/me 301', '3.4 GET /api/v1/users/{id} 200', 'lifecycle GET /api/v1/spaces 200']);
    assert.deepEqual(calls.slice(5), ['lifecycle POST /oauth/token 200', 'lifecycle GET /api/v1/users/me 301', 'lifecycle GET /api/v1/users/{id} 200']);
    assert.match(signedIn[5]!.requestBody!, /^grant_type=refresh_token&refresh_token=sbx_…\(\d+ chars #[0-9a-f]{4}\)&client_id=sandbox-web-client&client_secret=…\(33 chars #[0-9a-f]{4}\)$/);

    const out = await browser.request(`${stack.app.url}/logout`, { method: 'POST', origin: stack.app.url });
    assert.equal(out.status, 302);
    // After sign-out, the new session's transcript holds the revocations only (test/hostile/sign-out-trace.test.ts).
    const signedOut = await exchanges();
    assert.deepEqual(
      signedOut.map((e) => `${e.section} ${e.method} ${new URL(e.url!).pathname} ${e.status}`),
      ['3.1 GET /.well-known/oauth-authorization-server 200', 'lifecycle POST /oauth/revoke 200', 'lifecycle POST /oauth/revoke 200'],
    );
    assert.match(signedOut[1]!.requestBody!, /^token=sbx_…\(\d+ chars #[0-9a-f]{4}\)&token_type_hint=refresh_token&/);
    assert.match(signedOut[2]!.requestBody!, /^token=sbx_…\(\d+ chars #[0-9a-f]{4}\)&token_type_hint=access_token&/);
  });
});

describe('app: a refresh the tenant rate limits (429)', () => {
  let stack: Stack;
  before(async () => { stack = await startOnFakeClock({ accessTokenLifetimeSeconds: 1 }); });
  after(() => closeOnFakeClock(stack));

  it('keeps the user signed in and says to wait; the next call, once allowed, refreshes', async () => {
    const browser = new Browser();
    await signIn(browser, stack.app, 'ada');
    mock.timers.tick(600);
    stack.sandbox.faults.named = ['token-429'];
    const limited = await browser.get(`${stack.app.url}/api/me`);
    stack.sandbox.faults.named = [];
    assert.equal(limited.status, 429, 'the tenant\'s 429 is passed on, at once');
    assert.equal(limited.headers.get('retry-after'), '30');
    assert.equal(JSON.parse(limited.body).retryAfterSeconds, 30);
    assert.match(JSON.parse(limited.body).message, /HTTP 429/);
    assert.match(limited.body, /wait 30 s/);
    const after429 = await browser.get(`${stack.app.url}/api/me`);
    assert.equal(after429.status, 200, 'still signed in: the grant was not thrown away');
    assert.equal(JSON.parse(after429.body).name, 'Ada');
  });
});
