// Hostile callbacks, end to end: the scripted browser signs in at the sandbox tenant, then the
// callback URL is forged, tampered with, stretched or garbled before it reaches the app. Each case
// asserts the status, the check's code on the page, and that the page names the problem — never a
// crash, a stack trace, markup from the URL, or a secret.

import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Browser, consentCallback, findLeaks, startSignIn, startStack, watchSecrets, type Stack, browserPool } from '../helpers/browser.ts';
import { assertErrorPage, assertNoInternals } from '../helpers/pages.ts';

const watch = watchSecrets();
const { browsers, newBrowser } = browserPool();

let stack: Stack;
before(async () => {
  stack = await startStack({ sandbox: { errors: 'detailed' } }); // detailed: the sandbox names why it refused a code
});
after(async () => {
  watch.stop();
  await stack.close();
});
afterEach(async () => {
  // Whatever the callback carried, no secret reached a page or the log, and the app still serves.
  assert.deepEqual(findLeaks(watch.secrets, browsers.flatMap((b) => b.pages), stack.logs), []);
  assert.ok(!stack.logs.some((line) => line.startsWith('500')), stack.logs.join('\n'));
  assert.equal((await fetch(`${stack.app.url}/`)).status, 200);
});

/** The callback the tenant sent, with its query rewritten by `edit`. */
async function tampered(browser: Browser, edit: (params: URLSearchParams) => void): Promise<string> {
  const url = await consentCallback(browser, stack.app);
  edit(url.searchParams);
  return url.href;
}

/** The callback URL with a raw query, bytes as given: no URLSearchParams re-encoding. */
async function withRawQuery(browser: Browser, query: (state: string) => string): Promise<string> {
  const url = await consentCallback(browser, stack.app);
  return `${url.origin}${url.pathname}?${query(url.searchParams.get('state')!)}`;
}

describe('hostile callbacks: state', () => {
  it('refuses a callback without state (STATE_MISSING), and exchanges nothing', async () => {
    const browser = newBrowser();
    const url = await tampered(browser, (q) => q.delete('state'));
    const tokenRequests = stack.sandbox.stats().tokenRequests;
    assertErrorPage(await browser.get(url), 400, 'STATE_MISSING', /The callback has no state parameter\./);
    assert.equal(stack.sandbox.stats().tokenRequests, tokenRequests);
  });

  it('refuses a callback with an empty state (STATE_MISSING)', async () => {
    const browser = newBrowser();
    const url = await tampered(browser, (q) => q.set('state', ''));
    assertErrorPage(await browser.get(url), 400, 'STATE_MISSING', /<h1>This sign-in link failed a check<\/h1>/);
  });

  it('refuses a callback with the state twice (CALLBACK_PARAM_REPEATED)', async () => {
    const browser = newBrowser();
    const url = await tampered(browser, (q) => q.append('state', q.get('state')!));
    assertErrorPage(await browser.get(url), 400, 'CALLBACK_PARAM_REPEATED', /carries the parameter &quot;state&quot; more than once/);
  });

  it('refuses another session\'s state (STATE_MISMATCH), and that session still signs in', async () => {
    const victim = newBrowser();
    const other = newBrowser();
    const othersCallback = await consentCallback(other, stack.app, 'grace');
    await startSignIn(victim, stack.app); // the victim has a sign-in of its own pending
    const tokenRequests = stack.sandbox.stats().tokenRequests;
    assertErrorPage(await victim.get(othersCallback.href), 400, 'STATE_MISMATCH', /does not match the sign-in this browser started/);
    assert.equal(stack.sandbox.stats().tokenRequests, tokenRequests, 'the other session\'s code was not exchanged');
    assert.match((await victim.get(`${stack.app.url}/`)).body, /Not signed in/);
    assert.match((await other.follow(othersCallback.href)).at(-1)!.body, /Signed in as Grace/);
  });

  it('refuses a callback that comes without any session cookie (STATE_MISMATCH)', async () => {
    const url = await consentCallback(newBrowser(), stack.app);
    assertErrorPage(await newBrowser().get(url.href), 400, 'STATE_MISMATCH');
  });

  it('refuses a callback whose state has broken percent-encoding (STATE_MISMATCH)', async () => {
    const browser = newBrowser();
    const url = await withRawQuery(browser, (state) => `code=abc&state=${state.slice(0, 10)}%E0%A4%A%zz%`);
    assertErrorPage(await browser.get(url), 400, 'STATE_MISMATCH');
  });
});

describe('hostile callbacks: iss (RFC 9207)', () => {
  it('refuses a callback naming another issuer (ISS_MISMATCH), and exchanges nothing', async () => {
    const browser = newBrowser();
    const url = await tampered(browser, (q) => q.set('iss', 'https://attacker.example'));
    const tokenRequests = stack.sandbox.stats().tokenRequests;
    assertErrorPage(await browser.get(url), 400, 'ISS_MISMATCH', /names issuer &quot;https:\/\/attacker\.example&quot;/);
    assert.equal(stack.sandbox.stats().tokenRequests, tokenRequests);
  });

  it('refuses a callback without iss when the tenant advertises it (ISS_MISSING)', async () => {
    const strict = await startStack({ sandbox: { advertiseIss: true } });
    try {
      const browser = newBrowser();
      const url = await consentCallback(browser, strict.app);
      url.searchParams.delete('iss');
      assertErrorPage(await browser.get(url.href), 400, 'ISS_MISSING', /The tenant says it always sends iss, but this callback has none\./);
    } finally {
      await strict.close();
    }
  });
});

describe('hostile callbacks: error', () => {
  it('shows the tenant\'s error when the state is ours (AUTHORIZATION_ERROR)', async () => {
    const browser = newBrowser();
    const url = await tampered(browser, (q) => {
      q.delete('code');
      q.set('error', 'server_error');
      q.set('error_description', 'The tenant is in maintenance');
    });
    const page = await browser.get(url);
    assertErrorPage(page, 400, 'AUTHORIZATION_ERROR', /The tenant refused the sign-in: server_error \(The tenant is in maintenance\)\./);
    assert.match(page.body, /<h1>The tenant refused the sign-in<\/h1>/);
  });

  it('does not believe an error that comes without state (STATE_MISSING)', async () => {
    const browser = newBrowser();
    await startSignIn(browser, stack.app);
    const page = await browser.get(`${stack.app.url}/login/callback?error=access_denied&error_description=You%20were%20declined`);
    assertErrorPage(page, 400, 'STATE_MISSING');
    assert.ok(!page.body.includes('You were declined'), 'the unproven error text is not shown');
  });

  it('escapes markup in error_description (AUTHORIZATION_ERROR)', async () => {
    const browser = newBrowser();
    const url = await tampered(browser, (q) => {
      q.delete('code');
      q.set('error', 'access_denied');
      q.set('error_description', '<img src=x onerror="alert(document.cookie)"><script>alert(1)</script>');
    });
    const page = await browser.get(url);
    assertErrorPage(page, 400, 'AUTHORIZATION_ERROR', /&lt;img src=x onerror=&quot;alert\(document\.cookie\)&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.ok(!page.body.includes('<img') && !page.body.includes('<script'), 'no markup from the URL');
  });
});

describe('hostile callbacks: size and encoding', () => {
  it('answers a 100 KB callback URL with a 431 page, and keeps serving', async () => {
    const browser = newBrowser();
    const url = await tampered(browser, (q) => q.set('junk', 'x'.repeat(100 * 1024)));
    const page = await browser.get(url);
    assert.equal(page.status, 431);
    assert.match(page.headers.get('content-type')!, /^text\/html; charset=utf-8$/);
    assert.match(page.body, /<h1>Request Header Fields Too Large<\/h1>/);
    assert.match(page.body, /too long \(over 16 KB\)/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('connection'), 'close');
    assertNoInternals(page);
  });

  it('answers a 15 KB callback URL (under Node\'s limit) with a check page (STATE_MISSING)', async () => {
    const page = await newBrowser().get(`${stack.app.url}/login/callback?code=x&junk=${'%41'.repeat(5000)}`);
    assertErrorPage(page, 400, 'STATE_MISSING');
  });

  it('answers a request line Node cannot parse with a 400 page', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(stack.app.url).port), '127.0.0.1', () => {
        socket.write('GET /login/callback?state=a b\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      });
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('latin1')));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(raw, /\r\ncontent-security-policy: default-src 'none';/);
    assert.match(raw, /<h1>Bad Request<\/h1>/);
  });

  it('passes broken percent-encoding in code on to the tenant, and shows its refusal (TOKEN_ERROR_RESPONSE)', async () => {
    const browser = newBrowser();
    const url = await withRawQuery(browser, (state) => `code=%E0%A4%A%zz&state=${encodeURIComponent(state)}`);
    const page = await browser.get(url);
    assertErrorPage(page, 502, 'TOKEN_ERROR_RESPONSE', /The tenant refused to exchange the code \(HTTP 401, invalid_grant: The authorization code is unknown/);
  });

  it('passes odd characters in code on to the tenant, escaped, and shows its refusal (TOKEN_ERROR_RESPONSE)', async () => {
    const browser = newBrowser();
    const url = await tampered(browser, (q) => q.set('code', '<b>"\'&\u0000\u202e😀 ü\r\n'));
    const page = await browser.get(url);
    assertErrorPage(page, 502, 'TOKEN_ERROR_RESPONSE', /<h1>The tenant did not give this app a token<\/h1>/);
    assert.match(page.body, /invalid_grant: The authorization code is unknown/);
    assert.ok(!page.body.includes('<b>'));
  });
});

describe('hostile requests: where the app sends the browser', () => {
  /** One raw request line, for targets fetch() would never send. */
  function rawGet(target: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(stack.app.url).port), '127.0.0.1', () => {
        socket.end(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      });
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('utf8')));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
  }

  it('never redirects to an address taken from the request (no open redirector, RFC 9700 §4.11)', async () => {
    const browser = newBrowser();
    const evil = encodeURIComponent('https://evil.example/steal');
    const login = await browser.get(`${stack.app.url}/login?redirect_uri=${evil}&next=${evil}&return_to=${evil}`);
    assert.equal(login.status, 302);
    const authorize = new URL(login.location!);
    assert.equal(authorize.origin + authorize.pathname, stack.app.metadata.authorizationEndpoint);
    assert.equal(authorize.searchParams.get('redirect_uri'), stack.app.redirectUri);
    assert.ok(!login.location!.includes('evil'));

    const url = await tampered(browser, (q) => {
      q.set('next', 'https://evil.example/steal');
      q.set('redirect_uri', 'https://evil.example/steal');
    });
    const back = await browser.get(url);
    assert.equal(back.status, 302);
    assert.equal(back.headers.get('location'), '/');

    for (const target of ['//evil.example/login', 'http://evil.example/login', 'https://evil.example/']) {
      const answer = await rawGet(target);
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/, target);
      assert.doesNotMatch(answer, /\r\nlocation:/i, target);
    }
  });
});
