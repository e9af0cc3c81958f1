// Hostile token and API responses, end to end: the app signs a browser in against a tenant on
// 127.0.0.1 whose token endpoint or users API misbehaves (test/helpers/hostile-tenant.ts). Each case
// asserts the status of the app's answer, the check's code on the page and that the page names the
// problem; after each, the app still serves, nobody is signed in, and no secret reached a page or
// the log. Unit-level cases of the same responses: tenant-responses.test.ts.

import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, type Page } from '../helpers/browser.ts';
import { HOSTILE_CLIENT_SECRET, drip, hostileSignIn, huge, json, redirect, reset, startHostileStack, text, tokenResponse, type HostileStack } from '../helpers/hostile-tenant.ts';
import { assertErrorPage } from '../helpers/pages.ts';

let stack: HostileStack;
const browsers: Browser[] = [];
before(async () => {
  stack = await startHostileStack({ timeoutMs: 400 });
});
beforeEach(() => stack.tenant.reset());
after(() => stack.close());

afterEach(async () => {
  const pages = browsers.flatMap((b) => b.pages).filter((p) => p.url.startsWith(stack.app.url));
  const verifiers = stack.tenant.requests.map((r) => new URLSearchParams(r.body).get('code_verifier')).filter((v): v is string => !!v);
  const secrets = [HOSTILE_CLIENT_SECRET, ...verifiers];
  for (const text of [...pages.map((p) => `${p.body}\n${[...p.headers].join('\n')}`), ...stack.logs]) {
    assert.doesNotMatch(text, /hst_(at|rt)_/, 'no token on a page or in the log');
    for (const secret of secrets) assert.ok(!text.includes(secret), 'no client secret or verifier on a page or in the log');
  }
  assert.ok(!stack.logs.some((line) => line.startsWith('500')), stack.logs.join('\n'));
  // The app keeps serving, and the failed sign-in left nobody signed in.
  stack.tenant.reset();
  const home = await browsers.at(-1)!.get(`${stack.app.url}/`);
  assert.equal(home.status, 200);
  assert.match(home.body, /Not signed in/);
});

/** Signs a new browser in; the last page is the app's answer to the callback. */
async function signInFails(): Promise<Page> {
  const browser = new Browser();
  browsers.push(browser);
  const { callback, final } = await hostileSignIn(browser, stack.app);
  assert.equal(final, callback, 'the callback did not redirect home');
  return final;
}

describe('hostile token responses through the app', () => {
  it('shows 502 for a 201 (TOKEN_UNEXPECTED_STATUS)', async () => {
    stack.tenant.on.token = json(201, tokenResponse());
    assertErrorPage(await signInFails(), 502, 'TOKEN_UNEXPECTED_STATUS', /The token endpoint answered 201, expected 200\./);
  });

  it('shows 502 for a redirect to another host, and sends nothing there (REDIRECT_REFUSED)', async () => {
    stack.tenant.on.token = redirect(307, '/collect-secrets');
    const page = await signInFails();
    assertErrorPage(page, 502, 'REDIRECT_REFUSED', /answered 307, a redirect to http:\/\/127\.0\.0\.1:\d+\/collect-secrets/);
    assert.match(page.body, /<h1>The tenant sent an answer this app cannot use<\/h1>/);
    assert.ok(!stack.tenant.requests.some((r) => r.path === '/collect-secrets'));
  });

  it('shows 502 for a token response without access_token (ACCESS_TOKEN_MISSING)', async () => {
    stack.tenant.on.token = json(200, tokenResponse({ access_token: undefined }));
    assertErrorPage(await signInFails(), 502, 'ACCESS_TOKEN_MISSING', /The token response has no access_token\./);
  });

  it('shows 502 for token_type mac (TOKEN_TYPE_NOT_BEARER)', async () => {
    stack.tenant.on.token = json(200, tokenResponse({ token_type: 'mac' }));
    assertErrorPage(await signInFails(), 502, 'TOKEN_TYPE_NOT_BEARER', /token_type &quot;mac&quot;, expected &quot;bearer&quot;/);
  });

  it('shows 502 for a negative expires_in (EXPIRY_INVALID)', async () => {
    stack.tenant.on.token = json(200, tokenResponse({ expires_in: -1 }));
    assertErrorPage(await signInFails(), 502, 'EXPIRY_INVALID', /expires_in -1 is not a number of seconds/);
  });

  it('shows 502 for an HTML error page (TOKEN_ERROR_RESPONSE, no details)', async () => {
    stack.tenant.on.token = text(503, 'text/html', '<html><body><h1>Service Unavailable</h1><script>alert(1)</script></body></html>');
    const page = await signInFails();
    assertErrorPage(page, 502, 'TOKEN_ERROR_RESPONSE', /HTTP 503, no error details/);
    assert.ok(!page.body.includes('Service Unavailable'), 'the tenant\'s HTML is not shown');
  });

  it('shows 502 naming Qlik\'s error code (TOKEN_ERROR_RESPONSE, OAUTH-22)', async () => {
    stack.tenant.on.token = json(401, { errors: [{ code: 'OAUTH-22', title: 'Invalid client_secret', status: '401' }] });
    assertErrorPage(await signInFails(), 502, 'TOKEN_ERROR_RESPONSE', /HTTP 401, OAUTH-22: Invalid client_secret[\s\S]*Check the client ID and client secret[\s\S]*QLIK_CLIENT_ID, QLIK_CLIENT_SECRET/);
  });

  it('shows 502 naming RFC 6749\'s error (TOKEN_ERROR_RESPONSE, invalid_grant)', async () => {
    stack.tenant.on.token = json(400, { error: 'invalid_grant', error_description: 'Code <b>expired</b>' });
    const page = await signInFails();
    assertErrorPage(page, 502, 'TOKEN_ERROR_RESPONSE', /HTTP 400, invalid_grant: Code &lt;b&gt;expired&lt;\/b&gt;/);
  });

  it('shows 502 for an empty 401 with WWW-Authenticate (TOKEN_ERROR_RESPONSE)', async () => {
    stack.tenant.on.token = text(401, undefined, '', { 'www-authenticate': 'Basic realm="tenant"' });
    assertErrorPage(await signInFails(), 502, 'TOKEN_ERROR_RESPONSE', /HTTP 401, no error details/);
  });

  it('shows 502 for truncated JSON (JSON_INVALID)', async () => {
    stack.tenant.on.token = json(200, JSON.stringify(tokenResponse()).slice(0, 30));
    assertErrorPage(await signInFails(), 502, 'JSON_INVALID', /The token response is not valid JSON \(30 characters\)\./);
  });

  it('shows 502 for a 30 MB body, read only up to the cap (BODY_TOO_LARGE)', async () => {
    stack.tenant.on.token = huge(30 * 1024 * 1024, false);
    assertErrorPage(await signInFails(), 502, 'BODY_TOO_LARGE', /is larger than 1048576 bytes; it was not read/);
  });

  it('shows 504 for a body that drips past the timeout, in time (TIMEOUT)', async () => {
    stack.tenant.on.token = drip(JSON.stringify(tokenResponse()), 50);
    const started = performance.now();
    const page = await signInFails();
    const took = performance.now() - started;
    assertErrorPage(page, 504, 'TIMEOUT', /did not finish within 400 ms/);
    assert.ok(took < 2_000, `answered after ${Math.round(took)} ms`);
  });

  it('shows 502 when the tenant cuts the connection (NETWORK_ERROR)', async () => {
    stack.tenant.on.token = reset();
    assertErrorPage(await signInFails(), 502, 'NETWORK_ERROR', /<h1>The tenant could not be reached<\/h1>/);
  });
});

describe('hostile API responses at sign-in, through the app', () => {
  /** The tokens the app got were revoked at the tenant: nobody will use them. */
  async function assertRevoked(): Promise<void> {
    for (let i = 0; i < 50 && stack.tenant.requests.filter((r) => r.path === '/oauth/revoke').length < 2; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(stack.tenant.requests.filter((r) => r.path === '/oauth/revoke').length, 2, 'both tokens revoked');
  }

  it('shows 502 for 401 invalid_token, and revokes the unused tokens (API_UNAUTHORIZED)', async () => {
    stack.tenant.requests.length = 0;
    stack.tenant.on.usersMe = json(401, { errors: [{ code: 'HTTP-401', title: 'Unauthorized' }] }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    assertErrorPage(await signInFails(), 502, 'API_UNAUTHORIZED', /the tenant did not accept the access token \(HTTP 401, Unauthorized\)/);
    await assertRevoked();
  });

  it('shows 502 naming the missing scope for 403 insufficient_scope (API_FORBIDDEN)', async () => {
    stack.tenant.requests.length = 0;
    stack.tenant.on.usersMe = text(403, undefined, '', { 'www-authenticate': 'Bearer error="insufficient_scope", scope="user_default"' });
    assertErrorPage(await signInFails(), 502, 'API_FORBIDDEN', /Add the scope &quot;user_default&quot; to the OAuth client and to the scope this app asks for[\s\S]*QLIK_SCOPE/);
    await assertRevoked();
  });

  it('shows 503 with the wait for 429 retry-after (API_RATE_LIMITED)', async () => {
    stack.tenant.on.usersMe = json(429, { errors: [{ code: 'HTTP-429', title: 'Too many requests' }] }, { 'retry-after': '7' });
    assertErrorPage(await signInFails(), 503, 'API_RATE_LIMITED', /retry after 7 s[\s\S]*Qlik asks us to wait 7 s\./);
  });

  it('shows 502 for a 500 HTML page (API_ERROR)', async () => {
    stack.tenant.on.usersMe = text(500, 'text/html', '<h1>Internal Server Error</h1>');
    assertErrorPage(await signInFails(), 502, 'API_ERROR', /the tenant answered HTTP 500 \(no code: no details\)/);
  });
});
