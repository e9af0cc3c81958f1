// The callback's checks, end to end: forged, tampered, replayed, declined and expired callbacks.

import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Browser, findLeaks, startSignIn, startStack, watchSecrets, type Page, type Stack, browserPool } from './helpers/browser.ts';

/** The error page's fixed parts: status, code and rule, and the way to start again. */
function assertErrorPage(page: Page, status: number, code: string, rule: string): void {
  assert.equal(page.status, status, page.body);
  assert.match(page.headers.get('content-type')!, /^text\/html/);
  assert.ok(page.body.includes(`<dt>Code</dt><dd><code>${code}</code></dd>`), `the page names ${code}`);
  assert.ok(page.body.includes(`<dt>Rule</dt><dd>${rule}</dd>`), `the page names ${rule}`);
  assert.match(page.body, /<h2>What to do next<\/h2>/);
  assert.match(page.body, /<a class="button" href="\/login">Start again<\/a>/);
}

/** Runs a sign-in up to the tenant's answer, and returns the callback URL it redirects to. */
async function callbackUrl(browser: Browser, stack: Stack, user = 'ada', decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  const consentPage = await startSignIn(browser, stack.app);
  const answer = await browser.consent(consentPage, { user, decision });
  assert.equal(answer.status, 302);
  return new URL(answer.location!);
}

describe('app: the callback', () => {
  let stack: Stack;
  const watch = watchSecrets();
  const { browsers, newBrowser } = browserPool();
  before(async () => {
    stack = await startStack({ app: { sessionLimits: { pendingLifetimeMs: 300 } } });
  });
  after(async () => {
    watch.stop();
    await stack.close();
  });
  afterEach(() => {
    assert.deepEqual(findLeaks(watch.secrets, browsers.flatMap((b) => b.pages), stack.logs), []);
  });

  it('refuses a tampered state with STATE_MISMATCH, and the real callback still works', async () => {
    const browser = newBrowser();
    const url = await callbackUrl(browser, stack);
    const tampered = new URL(url);
    tampered.searchParams.set('state', `${url.searchParams.get('state')!.slice(0, -2)}xx`);
    const tokenRequests = stack.sandbox.stats().tokenRequests;

    const page = await browser.get(tampered.href);
    assertErrorPage(page, 400, 'STATE_MISMATCH', 'RFC 6749 §10.12');
    assert.match(page.body, /<h1>This sign-in link failed a check<\/h1>/);
    assert.match(page.body, /The callback state does not match the sign-in this browser started\./);
    assert.equal(stack.sandbox.stats().tokenRequests, tokenRequests, 'no code was exchanged');

    // A forged callback does not use up the browser's real sign-in.
    const home = (await browser.follow(url.href)).at(-1)!;
    assert.match(home.body, /Signed in as Ada/);
  });

  it('answers a replayed callback with the "already used or has expired" page', async () => {
    const browser = newBrowser();
    const url = await callbackUrl(browser, stack);
    const first = await browser.get(url.href);
    assert.equal(first.status, 302);
    const tokenRequests = stack.sandbox.stats().tokenRequests;

    const replay = await browser.get(url.href);
    assert.equal(replay.status, 400);
    assert.match(replay.body, /<h1>This sign-in link was already used or has expired — start again<\/h1>/);
    assert.match(replay.body, /<a class="button" href="\/login">Start again<\/a>/);
    assert.match(replay.body, /LOGIN_NOT_PENDING/);
    assert.equal(stack.sandbox.stats().tokenRequests, tokenRequests, 'the code was not sent a second time');
    // Still signed in: a replay changes nothing.
    assert.match((await browser.get(`${stack.app.url}/`)).body, /Signed in as Ada/);
  });

  it('answers a callback whose sign-in expired with the "already used or has expired" page', async () => {
    const browser = newBrowser();
    const url = await callbackUrl(browser, stack);
    await new Promise((resolve) => setTimeout(resolve, 400)); // pendingLifetimeMs is 300 here
    const page = await browser.get(url.href);
    assert.equal(page.status, 400);
    assert.match(page.body, /already used or has expired/);
  });

  it('refuses another browser\'s callback (login CSRF, stolen link) with STATE_MISMATCH', async () => {
    const victim = newBrowser();
    const attacker = newBrowser();
    const attackersCallback = await callbackUrl(attacker, stack, 'mallory');
    // The victim's browser is made to open the attacker's callback, with or without its own sign-in pending.
    assertErrorPage(await victim.get(attackersCallback.href), 400, 'STATE_MISMATCH', 'RFC 6749 §10.12');
    await startSignIn(victim, stack.app);
    assertErrorPage(await victim.get(attackersCallback.href), 400, 'STATE_MISMATCH', 'RFC 6749 §10.12');
    assert.match((await victim.get(`${stack.app.url}/`)).body, /Not signed in/);
  });

  it('refuses a callback without state (STATE_MISSING) or with a repeated parameter', async () => {
    const browser = newBrowser();
    const url = await callbackUrl(browser, stack);
    const noState = new URL(url);
    noState.searchParams.delete('state');
    assertErrorPage(await browser.get(noState.href), 400, 'STATE_MISSING', 'RFC 6749 §4.1.2');

    const repeated = `${url.href}&code=other`;
    assertErrorPage(await browser.get(repeated), 400, 'CALLBACK_PARAM_REPEATED', 'RFC 6749 §3.1');
    // The state was presented, so that sign-in is used up now.
    assert.match((await browser.get(url.href)).body, /already used or has expired/);
  });

  it('refuses a callback that names another issuer (ISS_MISMATCH, mix-up)', async () => {
    const browser = newBrowser();
    const url = await callbackUrl(browser, stack);
    url.searchParams.set('iss', 'https://evil.example');
    const page = await browser.get(url.href);
    assertErrorPage(page, 400, 'ISS_MISMATCH', 'RFC 9207 §2.4');
    assert.match(page.body, /The callback names issuer &quot;https:\/\/evil\.example&quot;/);
  });

  it('says the sign-in was declined when the user chose Deny', async () => {
    const browser = newBrowser();
    const url = await callbackUrl(browser, stack, 'ada', 'deny');
    assert.equal(url.searchParams.get('error'), 'access_denied');
    const page = await browser.get(url.href);
    assertErrorPage(page, 400, 'AUTHORIZATION_ERROR', 'RFC 6749 §4.1.2.1');
    assert.match(page.body, /<h1>The sign-in was declined<\/h1>/);
    assert.match(page.body, /The tenant refused the sign-in: access_denied/);
    assert.match(page.body, /The sign-in was declined at the tenant\. Start again and choose Allow to continue\./);
  });

  it('escapes what the callback carries', async () => {
    const browser = newBrowser();
    const url = await callbackUrl(browser, stack);
    url.searchParams.set('iss', '<script>alert(1)</script>');
    const page = await browser.get(url.href);
    assert.equal(page.status, 400);
    assert.ok(!page.body.includes('<script>'), 'no markup from the URL');
    assert.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });
});

describe('app: a tenant that promises iss (RFC 9207)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ sandbox: { advertiseIss: true } });
  });
  after(() => stack.close());

  it('refuses a callback without iss (ISS_MISSING)', async () => {
    const browser = new Browser();
    const url = await callbackUrl(browser, stack);
    url.searchParams.delete('iss');
    assertErrorPage(await browser.get(url.href), 400, 'ISS_MISSING', 'RFC 9207 §2.4');
  });
});

describe('app: opened at another loopback name than APP_URL', () => {
  let stack: Stack;
  before(async () => { stack = await startStack(); }); // APP_URL is http://127.0.0.1:<port>
  after(() => stack.close());

  /** A GET with a chosen Host header (fetch will not set one), answered status and location. */
  function getWithHost(path: string, host: string): Promise<{ status: number; location: string | undefined }> {
    return new Promise((resolve, reject) => {
      const { port } = new URL(stack.app.url);
      request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      }).on('error', reject).end();
    });
  }

  it('sends a visitor at localhost to the APP_URL host first, so the cookie comes back with the callback', async () => {
    const { port } = new URL(stack.app.url);
    assert.deepEqual(await getWithHost('/login?x=1', `localhost:${port}`), { status: 302, location: `${stack.app.url}/login?x=1` });
    // At the APP_URL host itself, nothing changes.
    const direct = await getWithHost('/login', `127.0.0.1:${port}`);
    assert.equal(direct.status, 302);
    assert.ok(direct.location?.startsWith(stack.sandbox.url), direct.location);
  });
});
