// End to end: the scripted browser signs in to the app against the sandbox tenant, uses the API,
// and signs out. No test here reaches anything but 127.0.0.1.

import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, findLeaks, signIn, startSignIn, startStack, watchSecrets, type Stack, browserPool } from './helpers/browser.ts';
import { SANDBOX_CLIENT_SECRET } from '../src/sandbox/index.ts';

describe('app: a whole sign-in against the sandbox tenant', () => {
  let stack: Stack;
  const watch = watchSecrets();
  const { browsers, newBrowser } = browserPool();

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    watch.stop();
    await stack.close();
  });
  afterEach(() => {
    // Nothing that must stay on the server ever reached a page, a header or a log line.
    assert.ok(watch.secrets.has(SANDBOX_CLIENT_SECRET), 'the secret watcher saw the token exchange');
    const leaks = findLeaks(watch.secrets, browsers.flatMap((b) => b.pages), stack.logs);
    assert.deepEqual(leaks, []);
  });

  it('signs in, shows the user, serves /api/me, signs out and revokes both tokens', async () => {
    const browser = newBrowser();
    const { app, sandbox } = stack;

    const before = await browser.get(`${app.url}/`);
    assert.equal(before.status, 200);
    assert.match(before.body, /Not signed in/);
    assert.match(before.body, /<a class="button" href="\/login">Log in<\/a>/);

    const run = await signIn(browser, app, 'ada');
    const [login] = run.toConsent;
    assert.equal(login!.status, 302);
    const authorize = new URL(login!.location!);
    assert.equal(authorize.origin + authorize.pathname, app.metadata.authorizationEndpoint);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorize.searchParams.get('redirect_uri'), `${app.url}/login/callback`);
    assert.equal(authorize.searchParams.get('scope'), 'user_default offline_access');

    const [callback, home] = run.afterCallback;
    assert.equal(callback!.status, 302);
    assert.equal(callback!.location, `${app.url}/`);
    assert.equal(home!.status, 200);
    assert.match(home!.body, /Signed in as Ada/);
    assert.match(home!.body, /<form method="post" action="\/logout"><button type="submit">Log out<\/button><\/form>/);

    const me = await browser.get(`${app.url}/api/me`);
    assert.equal(me.status, 200);
    assert.match(me.headers.get('content-type')!, /^application\/json/);
    const user = JSON.parse(me.body) as Record<string, unknown>;
    assert.equal(user.name, 'Ada');
    assert.equal(typeof user.id, 'string');
    assert.equal(typeof user.tenantId, 'string');

    const statsBefore = sandbox.stats();
    const out = await browser.request(`${app.url}/logout`, { method: 'POST', origin: app.url });
    assert.equal(out.status, 302);
    assert.equal(out.location, `${app.url}/`);
    // RFC 7009: the refresh token and the access token, one call each.
    assert.equal(sandbox.stats().revokeRequests - statsBefore.revokeRequests, 2);

    const after = await browser.get(`${app.url}/`);
    assert.match(after.body, /Not signed in/);
    assert.match(after.body, /You are signed out, and the tenant revoked this app&#39;s tokens\./);
    const meAfter = await browser.get(`${app.url}/api/me`);
    assert.equal(meAfter.status, 401);
    assert.equal((JSON.parse(meAfter.body) as { error: string }).error, 'not_signed_in');
    // The one-time message is gone on the next visit.
    assert.doesNotMatch((await browser.get(`${app.url}/`)).body, /signed out/);
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, Path=/, without Secure on http, and renews it at sign-in', async () => {
    const browser = newBrowser();
    const login = await browser.get(`${stack.app.url}/login`);
    const first = login.headers.getSetCookie();
    assert.equal(first.length, 2, 'the session, and the sign-in\'s sealed cookie');
    assert.match(first[0]!, /^sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    assert.match(first[1]!, /^signin-[A-Za-z0-9_-]{8}=[A-Za-z0-9_-]+; Path=\/login; Max-Age=900; HttpOnly; SameSite=Lax$/);
    const idBefore = browser.cookie(stack.app.url, 'sid');

    const consentPage = (await browser.follow(login.location!)).at(-1)!;
    const decision = await browser.consent(consentPage, { decision: 'allow' });
    const callback = await browser.get(decision.location!);
    assert.equal(callback.status, 302);
    const renewed = callback.headers.getSetCookie().filter((line) => line.startsWith('sid='));
    assert.match(renewed[0]!, /^sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const idAfter = browser.cookie(stack.app.url, 'sid');
    assert.notEqual(idAfter, idBefore, 'session fixation: the id changes at sign-in');

    // The old id is worth nothing now.
    const fixed = await fetch(`${stack.app.url}/`, { headers: { cookie: `sid=${idBefore}` } });
    assert.match(await fixed.text(), /Not signed in/);
  });

  it('sends the security headers on pages, JSON and redirects; no Referer at all from the callback', async () => {
    const browser = newBrowser();
    const tenantOrigin = new URL(stack.app.metadata.authorizationEndpoint).origin;
    const run = await signIn(browser, stack.app, 'ada');
    const callback = run.afterCallback[0]!;
    const failedCallback = await browser.get(callback.url); // replayed: the error page
    assert.equal(failedCallback.status, 400);
    for (const page of [callback, failedCallback]) assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    const others = [await browser.get(`${stack.app.url}/`), await browser.get(`${stack.app.url}/api/me`), await browser.get(`${stack.app.url}/login`)];
    for (const page of [...others, callback, failedCallback]) {
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(page.headers.get('cache-control'), 'no-store');
      if (others.includes(page)) assert.equal(page.headers.get('referrer-policy'), 'same-origin');
      assert.equal(
        page.headers.get('content-security-policy'),
        `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${tenantOrigin}; frame-ancestors 'none'; base-uri 'none'`,
      );
    }
  });

  it('keeps two interleaved sign-ins apart (the tutorial shared one queue)', async () => {
    const alice = newBrowser();
    const bob = newBrowser();
    const { app } = stack;
    // Both start before either finishes.
    const aliceConsent = await startSignIn(alice, app);
    const bobConsent = await startSignIn(bob, app);
    const aliceAnswer = await alice.consent(aliceConsent, { user: 'alice', decision: 'allow' });
    const bobAnswer = await bob.consent(bobConsent, { user: 'bob', decision: 'allow' });
    // Callbacks in reverse order.
    const bobHome = (await bob.follow(bobAnswer.location!)).at(-1)!;
    const aliceHome = (await alice.follow(aliceAnswer.location!)).at(-1)!;
    assert.match(aliceHome.body, /Signed in as Alice/);
    assert.match(bobHome.body, /Signed in as Bob/);
    assert.equal((JSON.parse((await alice.get(`${app.url}/api/me`)).body) as { name: string }).name, 'Alice');
    assert.equal((JSON.parse((await bob.get(`${app.url}/api/me`)).body) as { name: string }).name, 'Bob');
  });

  it('completes two sign-ins started in two tabs of one browser', async () => {
    const browser = newBrowser();
    const tab1 = await startSignIn(browser, stack.app);
    const tab2 = await startSignIn(browser, stack.app);
    const answer2 = await browser.consent(tab2, { user: 'grace', decision: 'allow' });
    const answer1 = await browser.consent(tab1, { user: 'linus', decision: 'allow' });
    assert.match((await browser.follow(answer2.location!)).at(-1)!.body, /Signed in as Grace/);
    // The other tab's sign-in still works after the session id was renewed.
    assert.match((await browser.follow(answer1.location!)).at(-1)!.body, /Signed in as Linus/);
  });

  it('shows a protocol transcript without any secret', async () => {
    const browser = newBrowser();
    await signIn(browser, stack.app, 'ada');
    const trace = await browser.get(`${stack.app.url}/trace`);
    assert.equal(trace.status, 200);
    // Discovery at start, then the sections of the last sign-in, in order.
    const headings = [...trace.body.matchAll(/<h2>([^<]+)/g)].map((m) => m[1]!.trim());
    assert.deepEqual(headings.slice(0, 3), ['3.1 Discover the tenant', '3.2 Send the user to sign in', '3.3 Take the callback, exchange the code']);
    // After the exchange, /users/me (3.4) and the first page's spaces (paging) go out together: either may be filed first.
    assert.deepEqual(new Set(headings.slice(3)), new Set(['3.4 Call the Qlik API', 'Beyond the tutorial: refresh, revoke, paging']));
    assert.match(trace.body, /<p><code>POST http:\/\/127\.0\.0\.1:\d+\/oauth\/token<\/code><\/p>/);
    assert.match(trace.body, /<span class="mark">✓<\/span> the callback state equals the one this browser was sent with <a class="code" href="\/docs\/3\.3-token\.md#STATE_MISMATCH">STATE_MISMATCH<\/a> <span class="rule"><a href="https:\/\/www\.rfc-editor\.org\/rfc\/rfc6749#section-10\.12">RFC 6749 §10\.12<\/a><\/span>/);
    assert.match(trace.body, /<tr><td><code>code_verifier<\/code><\/td><td><code>\S{4}…\(43 chars #[0-9a-f]{4}\)<\/code><\/td>/);
    assert.match(trace.body, /Signed in as Ada; the session id was renewed\./);

    const json = await browser.get(`${stack.app.url}/trace?format=json`);
    assert.equal(json.status, 200);
    const { events } = JSON.parse(json.body) as { events: { type: string; section: string; code?: string; passed?: boolean }[] };
    assert.ok(events.some((e) => e.type === 'exchange' && e.section === '3.3'));
    assert.ok(events.some((e) => e.type === 'check' && e.code === 'ISS_MISMATCH' && e.passed === true));
  });
});

describe('app: refreshing the access token', () => {
  let stack: Stack;
  let slowTokenEndpoint = false;
  before(async () => {
    // Access tokens that live 1 s: past half a second, every API call finds the token about to expire.
    // The app's fetch is injected (AppOptions.fetch), so the token endpoint can be slowed down.
    const slowable: typeof fetch = async (input, init) => {
      if (slowTokenEndpoint && String(input).endsWith('/oauth/token')) await new Promise((resolve) => setTimeout(resolve, 150));
      return fetch(input, init);
    };
    stack = await startStack({ sandbox: { accessTokenLifetimeSeconds: 1 }, app: { fetch: slowable } });
  });
  after(() => stack.close());

  it('refreshes once for parallel requests (rotation would punish a second refresh)', async () => {
    const browser = new Browser();
    await signIn(browser, stack.app, 'ada');
    const before = stack.sandbox.stats().refreshRequests;
    await new Promise((resolve) => setTimeout(resolve, 600)); // into the token's last half
    // Slow the token endpoint down, so all three requests arrive while the first refresh is still on its way.
    slowTokenEndpoint = true;
    let answers;
    try {
      answers = await Promise.all([1, 2, 3].map(() => browser.get(`${stack.app.url}/api/me`)));
    } finally {
      slowTokenEndpoint = false;
    }
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
    assert.equal(stack.sandbox.stats().refreshRequests - before, 1);
    // And again later, with the rotated refresh token, once the new token is in its last half.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const again = await browser.get(`${stack.app.url}/api/me`);
    assert.equal(again.status, 200);
    assert.equal(stack.sandbox.stats().refreshRequests - before, 2);
  });
});

describe('app: secure cookies behind https', () => {
  it('adds Secure and the __Host- prefix to the session cookie when APP_URL is https', async () => {
    const stack = await startStack({ app: { appUrl: 'https://app.example' } });
    try {
      const login = await fetch(`http://127.0.0.1:${(stack.app.server.address() as { port: number }).port}/login`, { redirect: 'manual' });
      assert.equal(login.status, 302);
      // The __Host- and __Secure- names: a sibling subdomain or an http answer cannot plant them (src/app/cookies.ts).
      const [session, pending] = login.headers.getSetCookie();
      assert.match(session!, /^__Host-sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
      assert.match(pending!, /^__Secure-signin-[A-Za-z0-9_-]{8}=[A-Za-z0-9_-]+; Path=\/login; Max-Age=900; HttpOnly; SameSite=Lax; Secure$/);
      assert.equal(new URL(login.headers.get('location')!).searchParams.get('redirect_uri'), 'https://app.example/login/callback');
    } finally {
      await stack.close();
    }
  });
});
