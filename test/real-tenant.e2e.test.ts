// End to end against a tenant that behaves as Qlik documents it (issue 11, "Done when"): metadata
// only at RFC 8414's path while the tutorial's path redirects to a login page, expires_at without
// expires_in, terse OAUTH-5 errors, 429 with retry-after 13, 3-second and 6-hour tokens. The
// scripted browser drives the app; a recording fetch (AppOptions.fetch) shows what the app sent.
// Nothing here reaches anything but 127.0.0.1.

import { afterEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, signIn, startStack, type Stack } from './helpers/browser.ts';
import type { SandboxOptions } from '../src/sandbox/index.ts';
import type { AppOptions } from '../src/app/index.ts';

/** One call the app made to the tenant, with what came back. */
interface Recorded {
  method: string;
  url: string;
  /** The form fields sent (token and revoke requests). */
  form: URLSearchParams;
  authorization: string | null;
  status: number;
  /** The JSON answer, when there was one. */
  json: Record<string, unknown> | undefined;
  sentAt: number;
  receivedAt: number;
}

/** A fetch for AppOptions.fetch that records every call the app makes to the tenant. */
function recordingFetch(): { fetch: typeof fetch; calls: Recorded[]; tokenCalls: () => Recorded[] } {
  const calls: Recorded[] = [];
  const recorder: typeof fetch = async (input, init) => {
    const sentAt = Date.now();
    const response = await fetch(input, init);
    const receivedAt = Date.now();
    const isJson = (response.headers.get('content-type') ?? '').startsWith('application/json');
    calls.push({
      method: init?.method ?? 'GET',
      url: String(input),
      form: new URLSearchParams(typeof init?.body === 'string' ? init.body : ''),
      authorization: new Headers(init?.headers).get('authorization'),
      status: response.status,
      json: isJson ? ((await response.clone().json()) as Record<string, unknown>) : undefined,
      sentAt,
      receivedAt,
    });
    return response;
  };
  return { fetch: recorder, calls, tokenCalls: () => calls.filter((call) => new URL(call.url).pathname === '/oauth/token') };
}

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  mock.timers.reset(); // after the close: the sandbox of a test on a fake clock holds its Date.now
});

/** A fake Date from now on (node:test mock.timers): the app's and the sandbox's clocks move only with mock.timers.tick(); timers stay real. */
function fakeClock(): void {
  mock.timers.enable({ apis: ['Date'], now: Date.now() });
}

async function start(sandbox: SandboxOptions, app: Partial<AppOptions> = {}): Promise<{ stack: Stack; browser: Browser; recorder: ReturnType<typeof recordingFetch> }> {
  const recorder = recordingFetch();
  stack = await startStack({ sandbox, app: { fetch: recorder.fetch, ...app } });
  return { stack, browser: new Browser(), recorder };
}

async function getJson(browser: Browser, url: string): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const page = await browser.get(url);
  return { status: page.status, headers: page.headers, body: JSON.parse(page.body) as Record<string, unknown> };
}

describe('a tenant as Qlik documents it', () => {
  it('metadata only at RFC 8414, expires_at only, terse errors: signs in, calls the API, refreshes, signs out', async () => {
    fakeClock();
    const { stack, browser, recorder } = await start({ openidConfiguration: 'redirect', accessTokenLifetimeSeconds: 3 });
    const { app, sandbox } = stack;
    // The tutorial's path sends a browser to a login page; the app never needed it.
    const tutorialPath = await fetch(`${sandbox.url}/.well-known/openid-configuration`, { redirect: 'manual' });
    assert.equal(tutorialPath.status, 302);
    assert.deepEqual(
      recorder.calls.map((call) => new URL(call.url).pathname),
      ['/.well-known/oauth-authorization-server'],
      'discovery asked the documented path only',
    );

    const run = await signIn(browser, app, 'ada');
    assert.match(run.final.body, /Signed in as Ada/);
    const [exchange] = recorder.tokenCalls();
    assert.equal(exchange!.form.get('grant_type'), 'authorization_code');
    assert.equal(exchange!.json!.token_type, 'bearer');
    assert.equal(typeof exchange!.json!.expires_at, 'string');
    assert.ok(!('expires_in' in exchange!.json!), 'no expires_in, as the reference documents');

    const me = await getJson(browser, `${app.url}/api/me`);
    assert.equal(me.status, 200);
    assert.equal(me.body.name, 'Ada');
    assert.equal(sandbox.stats().refreshRequests, 0, 'a fresh token is not refreshed');

    // Past half of the 3 s lifetime the token is due: the next call refreshes it first.
    mock.timers.tick(1_700);
    const later = await getJson(browser, `${app.url}/api/me`);
    assert.equal(later.status, 200);
    assert.equal(later.body.name, 'Ada');
    assert.equal(sandbox.stats().refreshRequests, 1);
    const refresh = recorder.tokenCalls()[1]!;
    assert.equal(refresh.form.get('grant_type'), 'refresh_token');
    assert.equal(refresh.form.get('refresh_token'), exchange!.json!.refresh_token);
    assert.equal(refresh.status, 200);

    const logout = await browser.request(`${app.url}/logout`, { method: 'POST' });
    assert.equal(logout.status, 302);
    const revoked = recorder.calls.filter((call) => new URL(call.url).pathname === '/oauth/revoke');
    assert.deepEqual(revoked.map((call) => [call.form.get('token_type_hint'), call.status]), [['refresh_token', 200], ['access_token', 200]]);
    assert.equal(revoked[0]!.form.get('token'), refresh.json!.refresh_token, 'the newest refresh token is the one revoked');
    const after = await getJson(browser, `${app.url}/api/me`);
    assert.equal(after.status, 401);
    assert.equal(after.body.error, 'not_signed_in');
  });

  it('a wrong client secret: the OAUTH-5 "Unauthorized" page lists the causes in order, with the traceId', async () => {
    const { stack, browser, recorder } = await start({}, { clientSecret: 'not-the-sandbox-secret' });
    const run = await signIn(browser, stack.app, 'ada');
    const [exchange] = recorder.tokenCalls();
    assert.equal(exchange!.status, 401);
    assert.deepEqual(exchange!.json!.errors, [{ title: 'Unauthorized', code: 'OAUTH-5', status: '401' }], 'the terse answer of a real tenant');
    const traceId = exchange!.json!.traceId as string;
    assert.match(traceId, /^\w{16,}$/);

    const page = run.final;
    assert.equal(page.status, 502);
    assert.match(page.body, /OAUTH-5/);
    assert.match(page.body, /Unauthorized/);
    assert.ok(page.body.includes(traceId), 'the page shows the traceId Qlik support asks for');
    const causes = ['(1) the client secret and client ID', '(2) the redirect URI is registered', '(3) the sign-in was not finished twice'].map((cause) => page.body.indexOf(cause));
    assert.ok(causes.every((index) => index > 0), `every cause is listed:\n${page.body}`);
    assert.deepEqual([...causes].sort((a, b) => a - b), causes, 'in the order to check them');
    assert.ok(!page.body.includes('not-the-sandbox-secret'), 'the secret is never shown');
    assert.ok(stack.logs.some((line) => line.includes(traceId)), 'the log line has the traceId too');
  });
});

describe('rate limits as Qlik sets them', () => {
  it('a 429 with retry-after: 13 on an API call: /api/me answers 429 + Retry-After at once, nothing sleeps 13 s', async () => {
    const { stack, browser } = await start({});
    const { app, sandbox } = stack;
    await signIn(browser, app, 'ada');
    sandbox.faults.named = ['api-429'];

    const before = sandbox.stats().apiRequests;
    const asked = Date.now();
    const me = await getJson(browser, `${app.url}/api/me`);
    const took = Date.now() - asked;
    assert.equal(me.status, 429);
    assert.equal(me.headers.get('retry-after'), '13');
    assert.equal(me.body.retryAfterSeconds, 13);
    assert.equal(typeof me.body.traceId, 'string');
    assert.equal(sandbox.stats().apiRequests - before, 1, 'asked once: 13 s is past the 2 s budget, so no wait and no retry');
    // Had the request slept through the tenant's 13 s, it would have taken at least that long.
    assert.ok(took < 13_000, `answered after ${took} ms`);

    const home = await browser.get(`${app.url}/`);
    assert.match(home.body, /Qlik asks us to wait 13 s/);

    // A wait within the budget (retry-after: 1) is waited out, and the call succeeds.
    sandbox.faults.named = ['api-429-once'];
    const retried = await getJson(browser, `${app.url}/api/me`);
    assert.equal(retried.status, 200);
    assert.equal(retried.body.name, 'Ada');
  });
});

describe('expiry for every lifetime', () => {
  it('tokens living 3 s are refreshed only in their last half, each refresh presenting the newest refresh token', async () => {
    fakeClock();
    const { stack, browser, recorder } = await start({ accessTokenLifetimeSeconds: 3 });
    await signIn(browser, stack.app, 'ada');
    let calls = 0;
    const until = Date.now() + 4_500;
    while (Date.now() < until) {
      const me = await getJson(browser, `${stack.app.url}/api/me`);
      assert.equal(me.status, 200, JSON.stringify(me.body));
      calls += 1;
      mock.timers.tick(150);
    }
    const tokens = recorder.tokenCalls();
    assert.equal(tokens[0]!.form.get('grant_type'), 'authorization_code');
    const refreshes = tokens.slice(1);
    // A call every 150 ms for 4.5 s: the token is refreshed at 1.5 s and at 3 s, by no other call.
    assert.equal(calls, 30);
    assert.equal(refreshes.length, 2, `${refreshes.length} refreshes in ${calls} calls`);
    for (const [i, refresh] of refreshes.entries()) {
      const previous = tokens[i]!;
      assert.equal(refresh.form.get('grant_type'), 'refresh_token');
      assert.equal(refresh.status, 200);
      // RFC 9700 §4.14.2 rotation: the refresh token the previous answer brought, never an older one.
      assert.equal(refresh.form.get('refresh_token'), previous.json!.refresh_token, `refresh ${i + 1} presents the newest refresh token`);
      // The margin is half the lifetime: a 3 s token is refreshed by the first call once it is 1.5 s old.
      const age = refresh.sentAt - previous.receivedAt;
      assert.equal(age, 1_500, `refresh ${i + 1} came when the token was ${age} ms old`);
    }
    assert.equal(stack.sandbox.stats().refreshRequests, refreshes.length);
  });

  it('a 6 h token is not refreshed on repeated calls, nor 5 hours later; in its last minute it is', async () => {
    const { stack, browser } = await start({});
    await signIn(browser, stack.app, 'ada');
    for (let i = 0; i < 10; i += 1) assert.equal((await getJson(browser, `${stack.app.url}/api/me`)).status, 200);
    assert.equal(stack.sandbox.stats().refreshRequests, 0);

    // Move every clock of this process (the app's and the sandbox's alike) forward; timers stay real.
    const signedInAt = Date.now();
    mock.timers.enable({ apis: ['Date'], now: signedInAt + 5 * 60 * 60_000 });
    for (let i = 0; i < 3; i += 1) assert.equal((await getJson(browser, `${stack.app.url}/api/me`)).status, 200);
    assert.equal(stack.sandbox.stats().refreshRequests, 0, '5 hours in: still not refreshed');

    mock.timers.setTime(signedInAt + 6 * 60 * 60_000 - 30_000);
    assert.equal((await getJson(browser, `${stack.app.url}/api/me`)).status, 200);
    assert.equal(stack.sandbox.stats().refreshRequests, 1, 'within a minute of expiry: refreshed once');
  });
});

describe('sign in as someone else (/login?prompt=login)', () => {
  it('the signed-in home page links to it; the tenant is asked with prompt=login; another user signs in', async () => {
    const { stack, browser } = await start({});
    const { app } = stack;
    const first = await signIn(browser, app, 'ada');
    assert.match(first.final.body, /<a href="\/login\?prompt=login">Sign in as someone else<\/a>/);
    const plain = new URL((await browser.get(`${app.url}/login`)).location!);
    assert.equal(plain.searchParams.get('prompt'), null, 'a plain /login sends no prompt');

    const hops = await browser.follow(`${app.url}/login?prompt=login`);
    const authorize = new URL(hops[0]!.location!);
    assert.equal(authorize.origin + authorize.pathname, app.metadata.authorizationEndpoint);
    assert.equal(authorize.searchParams.get('prompt'), 'login');
    const consent = hops.at(-1)!;
    assert.equal(consent.status, 200);
    const answer = await browser.consent(consent, { user: 'grace.hopper', decision: 'allow' });
    const after = await browser.follow(answer.location!);
    assert.match(after.at(-1)!.body, /Signed in as Grace Hopper/);
  });

  for (const query of ['prompt=none', 'prompt=consent', 'prompt=', 'prompt=login&prompt=login']) {
    it(`refuses /login?${query} with a 400 page`, async () => {
      const { stack, browser } = await start({});
      const page = await browser.get(`${stack.app.url}/login?${query}`);
      assert.equal(page.status, 400);
      assert.equal(page.location, undefined, 'not sent to the tenant');
      assert.match(page.body, /prompt=login \(sign in as someone else\)/);
      assert.equal(page.headers.get('set-cookie'), null, 'no session started');
    });
  }
});
