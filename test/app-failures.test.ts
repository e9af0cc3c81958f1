// When the tenant fails — wrong secret, down, hanging, rate limiting — the user gets a page that
// says what happened and what to do, and the app keeps serving. Plus the app's own refusals:
// sign-out from another site, unknown routes, wrong methods.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Browser as ScriptedBrowser, findLeaks, signIn, startSignIn, startStack, watchSecrets, type Page, type Stack } from './helpers/browser.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from '../src/sandbox/index.ts';

// Whatever fails, no secret reaches a page: every browser of this file is checked at the end.
const watch = watchSecrets();
const browsers: ScriptedBrowser[] = [];
class Browser extends ScriptedBrowser {
  constructor() {
    super();
    browsers.push(this);
  }
}
after(() => {
  watch.stop();
  assert.ok(watch.secrets.size > 0, 'the secret watcher saw the exchanges');
  assert.deepEqual(findLeaks(watch.secrets, browsers.flatMap((b) => b.pages)), []);
});

function assertFailurePage(page: Page, status: number, code: string): void {
  assert.equal(page.status, status, page.body);
  assert.ok(page.body.includes(`<dt>Code</dt><dd><code>${code}</code></dd>`), `the page names ${code}`);
  assert.match(page.body, /<h2>What to do next<\/h2>/);
  assert.match(page.body, /<a class="button" href="\/login">Start again<\/a>/);
}

/** /login, Allow, and the callback URL the tenant sends the browser to (not followed yet). */
async function consentGiven(browser: Browser, stack: Stack): Promise<string> {
  const answer = await browser.consent(await startSignIn(browser, stack.app), { decision: 'allow' });
  return answer.location!;
}

describe('app: a wrong client secret', () => {
  let stack: Stack;
  before(async () => {
    // Detailed errors, so the sandbox names the cause (a real tenant's terse 401 OAUTH-5: test/sandbox-terse.test.ts).
    stack = await startStack({ sandbox: { errors: 'detailed' }, app: { clientSecret: 'not-the-secret' } });
  });
  after(() => stack.close());

  it('shows 502 with the tenant\'s explanation (detailed errors) and says to check QLIK_CLIENT_SECRET', async () => {
    const browser = new Browser();
    const page = (await signIn(browser, stack.app)).final;
    assertFailurePage(page, 502, 'TOKEN_ERROR_RESPONSE');
    assert.match(page.body, /<h1>The tenant did not give this app a token<\/h1>/);
    assert.match(page.body, /The tenant refused to exchange the code \(HTTP 401, invalid_client: The client_secret is not the one registered for client &#39;sandbox-web-client&#39;/);
    assert.match(page.body, /Check the client ID and client secret against the OAuth client at the tenant[\s\S]*In this app these are set by QLIK_CLIENT_ID, QLIK_CLIENT_SECRET/);
    assert.ok(!page.body.includes('not-the-secret'), 'not even the wrong secret is shown');
    assert.ok(stack.logs.some((line) => line.startsWith('502 TenantError TOKEN_ERROR_RESPONSE:')), stack.logs.join('\n'));
  });
});

describe('app: the tenant fails at callback time', () => {
  it('shows 502 when the tenant is down, and keeps serving', async () => {
    const stack = await startStack();
    try {
      const browser = new Browser();
      const callback = await consentGiven(browser, stack);
      await stack.sandbox.close(); // the tenant goes away between consent and callback
      const page = await browser.get(callback);
      assertFailurePage(page, 502, 'NETWORK_ERROR');
      assert.match(page.body, /<h1>The tenant could not be reached<\/h1>/);
      assert.match(page.body, /Check that the tenant URL is right and reachable from this machine\./);
      const home = await browser.get(`${stack.app.url}/`);
      assert.equal(home.status, 200);
      assert.match(home.body, /Not signed in/);
    } finally {
      await stack.close();
    }
  });

  it('shows 504 when the token endpoint hangs past the timeout, and keeps serving', async () => {
    const stack = await startStack({ app: { timeoutMs: 300 } });
    try {
      const browser = new Browser();
      const callback = await consentGiven(browser, stack);
      stack.sandbox.faults.named = ['token-slow'];
      const started = performance.now();
      const page = await browser.get(callback);
      const took = performance.now() - started;
      assertFailurePage(page, 504, 'TIMEOUT');
      assert.match(page.body, /<h1>The tenant did not answer in time<\/h1>/);
      assert.match(page.body, /did not finish within 300 ms/);
      assert.ok(took >= 280 && took < 3000, `answered after ${Math.round(took)} ms`);
      assert.equal((await browser.get(`${stack.app.url}/`)).status, 200);
    } finally {
      await stack.close();
    }
  });

  it('shows 502 when the token endpoint answers 500 or an HTML page', async () => {
    const stack = await startStack();
    try {
      for (const fault of ['token-500', 'token-502'] as const) {
        const browser = new Browser();
        const callback = await consentGiven(browser, stack);
        stack.sandbox.faults.named = [fault];
        const page = await browser.get(callback);
        assertFailurePage(page, 502, 'TOKEN_ERROR_RESPONSE');
        assert.match(page.body, fault === 'token-500' ? /HTTP 500, HTTP-500/ : /HTTP 502, no error details/);
        stack.sandbox.faults.named = [];
      }
    } finally {
      await stack.close();
    }
  });

  it('shows 503 with Retry-After and the wait time when the users API rate limits the sign-in', async () => {
    const stack = await startStack();
    try {
      const browser = new Browser();
      const callback = await consentGiven(browser, stack);
      stack.sandbox.faults.named = ['api-429-once'];
      const page = await browser.get(callback);
      assertFailurePage(page, 503, 'API_RATE_LIMITED');
      assert.equal(page.headers.get('retry-after'), '1');
      assert.match(page.body, /Qlik asks us to wait 1 s\./);
    } finally {
      await stack.close();
    }
  });

  it('survives a browser that gives up while the tenant hangs', async () => {
    const stack = await startStack({ app: { timeoutMs: 300 } });
    try {
      const browser = new Browser();
      const callback = await consentGiven(browser, stack);
      stack.sandbox.faults.named = ['token-slow'];
      // The session cookie and the sign-in's own sealed cookie (src/app/cookies.ts), as the browser sends them.
      const pending = `signin-${new URL(callback).searchParams.get('state')!.slice(0, 8)}`;
      const cookie = `sid=${browser.cookie(stack.app.url, 'sid')}; ${pending}=${browser.cookie(stack.app.url, pending)}`;
      const aborted = fetch(callback, { headers: { cookie }, signal: AbortSignal.timeout(50), redirect: 'manual' });
      await assert.rejects(aborted, { name: 'TimeoutError' });
      await new Promise((resolve) => setTimeout(resolve, 400)); // the app's own timeout fires with nobody to answer
      assert.equal((await browser.get(`${stack.app.url}/`)).status, 200);
    } finally {
      await stack.close();
    }
  });
});

describe('app: /api/me when the tenant fails', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ sandbox: { errors: 'detailed' } });
  });
  after(() => stack.close());

  it('waits out a rate limit as retry-after says (src/lifecycle.ts)', async () => {
    const browser = new Browser();
    await signIn(browser, stack.app);
    stack.sandbox.faults.named = ['api-429-once'];
    const started = performance.now();
    const me = await browser.get(`${stack.app.url}/api/me`);
    assert.equal(me.status, 200);
    assert.ok(performance.now() - started >= 900, 'waited about the 1 s of retry-after');
  });

  it('answers 401 not_signed_in, and signs the session out, once the tenant revoked the tokens', async () => {
    const browser = new Browser();
    await signIn(browser, stack.app);
    // Revoke every token behind the app's back, as an admin or a password change would.
    for (const token of [...watch.secrets].filter((s) => /^sbx_(at|rt)_/.test(s))) {
      const form = new URLSearchParams({ token, client_id: SANDBOX_CLIENT_ID, client_secret: SANDBOX_CLIENT_SECRET });
      assert.equal((await fetch(`${stack.sandbox.url}/oauth/revoke`, { method: 'POST', body: form })).status, 200);
    }
    const rejected = await browser.get(`${stack.app.url}/api/me`);
    assert.equal(rejected.status, 401);
    // The API said 401; the refresh that followed was refused too.
    const body = JSON.parse(rejected.body);
    assert.deepEqual(Object.keys(body), ['error', 'message']);
    assert.equal(body.error, 'not_signed_in');
    assert.match(body.message, /^The tenant no longer accepts this sign-in \(REFRESH_FAILED: The tenant refused to refresh the token \(HTTP 401, invalid_grant: .*\)\. Open \/login to sign in again\.$/);
    assert.match((await browser.get(`${stack.app.url}/`)).body, /Not signed in/);
  });

  it('answers JSON 502 when the tenant is down, and stays signed in', async () => {
    const local = await startStack();
    try {
      const browser = new Browser();
      await signIn(browser, local.app);
      await local.sandbox.close();
      const me = await browser.get(`${local.app.url}/api/me`);
      assert.equal(me.status, 502);
      const body = JSON.parse(me.body) as Record<string, string>;
      assert.deepEqual(Object.keys(body), ['error', 'message', 'hint', 'rule']);
      assert.equal(body.error, 'NETWORK_ERROR');
      assert.match((await browser.get(`${local.app.url}/`)).body, /Signed in as Ada/);
    } finally {
      await local.close();
    }
  });
});

describe('app: sign-out', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  const refusals: [string, Record<string, string>, string | null][] = [
    ['no Origin, no Sec-Fetch-Site, no Referer', {}, null],
    ['a foreign Origin', {}, 'https://evil.example'],
    ['Origin: null (sandboxed frame)', {}, 'null'],
    ['no Origin, Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }, null],
    ['no Origin, a foreign Referer', { referer: 'https://evil.example/page' }, null],
  ];
  for (const [what, headers, origin] of refusals) {
    it(`refuses POST /logout with ${what}: 403, still signed in, nothing revoked`, async () => {
      const browser = new Browser();
      await signIn(browser, stack.app);
      const revokes = stack.sandbox.stats().revokeRequests;
      const page = await browser.request(`${stack.app.url}/logout`, { method: 'POST', origin, headers });
      assert.equal(page.status, 403);
      assert.match(page.body, /<h1>Sign-out refused<\/h1>/);
      assert.match(page.body, /did not come from this app/);
      assert.equal(stack.sandbox.stats().revokeRequests, revokes);
      assert.match((await browser.get(`${stack.app.url}/`)).body, /Signed in as Ada/);
    });
  }

  const accepted: [string, Record<string, string>][] = [
    ['no Origin but Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }],
    ['no Origin, no Sec-Fetch-Site, a Referer of this app', { referer: 'APP/' }],
  ];
  for (const [what, headers] of accepted) {
    it(`accepts POST /logout with ${what}`, async () => {
      const browser = new Browser();
      await signIn(browser, stack.app);
      const withApp = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('APP', stack.app.url)]));
      const page = await browser.request(`${stack.app.url}/logout`, { method: 'POST', origin: null, headers: withApp });
      assert.equal(page.status, 302);
      assert.match((await browser.get(`${stack.app.url}/`)).body, /Not signed in/);
    });
  }

  it('signs out even when the tenant cannot revoke, and says so', async () => {
    const local = await startStack();
    try {
      const browser = new Browser();
      await signIn(browser, local.app);
      await local.sandbox.close();
      const out = await browser.request(`${local.app.url}/logout`, { method: 'POST' });
      assert.equal(out.status, 302);
      const home = await browser.get(`${local.app.url}/`);
      assert.match(home.body, /Not signed in/);
      assert.match(home.body, /<p class="flash warning" role="status">You are signed out of this app, but the tenant could not revoke its tokens \(NETWORK_ERROR; the transcript shows its answers\)/);
    } finally {
      await local.close();
    }
  });
});

describe('app: routes it does not have', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it('answers 404 for an unknown path, escaped', async () => {
    const page = await new Browser().get(`${stack.app.url}/nope%3Cb%3E`);
    assert.equal(page.status, 404);
    assert.match(page.body, /<h1>Page not found<\/h1>/);
    assert.ok(!page.body.includes('<b>'));
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const browser = new Browser();
    const getLogout = await browser.get(`${stack.app.url}/logout`);
    assert.equal(getLogout.status, 405);
    assert.equal(getLogout.headers.get('allow'), 'POST');
    const postLogin = await browser.request(`${stack.app.url}/login`, { method: 'POST' });
    assert.equal(postLogin.status, 405);
    assert.equal(postLogin.headers.get('allow'), 'GET');
  });

  it('answers HEAD / like GET, without a body', async () => {
    const page = await new Browser().request(`${stack.app.url}/`, { method: 'HEAD' });
    assert.equal(page.status, 200);
    assert.equal(page.body, '');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  });

  it('answers /api/me without a session with 401 not_signed_in', async () => {
    const page = await new Browser().get(`${stack.app.url}/api/me`);
    assert.equal(page.status, 401);
    assert.equal((JSON.parse(page.body) as { error: string }).error, 'not_signed_in');
  });
});
