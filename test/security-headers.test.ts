// Security headers and cookie flags on every route the app has, for every kind of answer: pages,
// JSON, redirects, errors, 404, 405, and the 431 Node's parser triggers. Once on plain http
// (localhost), once behind https (APP_URL=https://…), where the cookie must also be Secure.
//
// test/app.e2e.test.ts checks the headers of a sign-in's pages and the cookie at /login and at the
// callback; this file walks every route and every Set-Cookie.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Browser, consentCallback, signIn, startStack, type Page, type RequestOptions, type Stack } from './helpers/browser.ts';

/** A browser for an app behind an https proxy: it opens `publicOrigin` URLs at the app's local address. */
class BehindProxy extends Browser {
  readonly publicOrigin: string;
  readonly localOrigin: string;
  constructor(publicOrigin: string, localOrigin: string) {
    super();
    this.publicOrigin = publicOrigin;
    this.localOrigin = localOrigin;
  }
  override request(url: string, options: RequestOptions = {}): Promise<Page> {
    return super.request(url.startsWith(this.publicOrigin) ? this.localOrigin + url.slice(this.publicOrigin.length) : url, options);
  }
}

/** Every route, each answer kind once: [label, page, is it an answer to the callback URL]. */
async function everyRoute(stack: Stack, browser: Browser, publicOrigin: string): Promise<[string, Page, boolean][]> {
  const app = publicOrigin;
  const local = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  const answers: [string, Page, boolean][] = [];
  const add = (label: string, page: Page, callback = false) => answers.push([label, page, callback]);

  add('GET / (not signed in)', await browser.get(`${app}/`));
  add('HEAD /', await browser.request(`${app}/`, { method: 'HEAD' }));
  add('GET /api/me (not signed in)', await browser.get(`${app}/api/me`));
  add('GET /trace (empty)', await browser.get(`${app}/trace`));
  const failed = await consentCallback(browser, stack.app);
  failed.searchParams.set('state', 'x'.repeat(43));
  add('GET /login/callback (error page)', await browser.get(failed.href), true);

  const run = await signIn(browser, stack.app, 'ada');
  add('GET /login', run.toConsent[0]!);
  add('GET /login/callback (success, 302)', run.afterCallback[0]!, true);
  add('GET / (signed in)', run.final);
  add('GET /login/callback (replayed)', await browser.get(run.decision.location!), true);
  add('GET /api/me (signed in)', await browser.get(`${app}/api/me`));
  add('GET /trace', await browser.get(`${app}/trace`));
  add('GET /trace?format=json', await browser.get(`${app}/trace?format=json`));
  add('GET /nope (404)', await browser.get(`${app}/nope`));
  add('GET /logout (405)', await browser.get(`${app}/logout`));
  add('POST /logout (403, foreign origin)', await browser.request(`${app}/logout`, { method: 'POST', origin: 'https://evil.example' }));
  add('POST /logout (302)', await browser.request(`${app}/logout`, { method: 'POST', origin: app }));
  add('GET / (signed out, with its message)', await browser.get(`${app}/`));
  const tooLong = await fetch(`${local}/login/callback?junk=${'x'.repeat(20_000)}`);
  add('GET /login/callback (20 KB, 431)', { url: tooLong.url, method: 'GET', status: tooLong.status, headers: tooLong.headers, body: await tooLong.text(), location: undefined }, true);
  return answers;
}

function assertHeaders(answers: [string, Page, boolean][], tenantOrigin: string, secure: boolean): void {
  const statuses = answers.map(([label, page]) => `${label}: ${page.status}`);
  assert.deepEqual(
    answers.map(([, page]) => page.status),
    [200, 200, 401, 200, 400, 302, 302, 200, 400, 200, 200, 200, 404, 405, 403, 302, 200, 431],
    statuses.join('\n'),
  );
  const setting: string[] = [];
  for (const [label, page, callback] of answers) {
    const header = (name: string) => page.headers.get(name);
    // CSP: no script at all (default-src 'none', no script-src), nothing inline but style, no framing.
    const csp = header('content-security-policy') ?? '';
    assert.equal(csp, `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${tenantOrigin}; frame-ancestors 'none'; base-uri 'none'`, label);
    assert.doesNotMatch(csp, /script-src/, label);
    assert.equal(header('x-content-type-options'), 'nosniff', label);
    assert.equal(header('x-frame-options'), 'DENY', label);
    assert.equal(header('cache-control'), 'no-store', label);
    // RFC 9700 §4.2.4: no Referer from an answer to the callback URL; same-origin elsewhere (reply.ts says why).
    assert.equal(header('referrer-policy'), callback ? 'no-referrer' : 'same-origin', label);
    assert.ok(!/<script\b|\son[a-z]+\s*=/i.test(page.body), `${label}: no script, no inline handler`);
    for (const cookie of page.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split('; ');
      const secureAttribute = secure ? ['Secure'] : [];
      if (/^(__Host-)?sid=/.test(pair!)) {
        setting.push(`${label}: session`);
        // Behind https the __Host- name: no sibling subdomain or http answer can plant it (src/app/cookies.ts).
        assert.match(pair!, secure ? /^__Host-sid=[A-Za-z0-9_-]{43}$/ : /^sid=[A-Za-z0-9_-]{43}$/, label);
        assert.deepEqual(attributes, ['Path=/', 'HttpOnly', 'SameSite=Lax', ...secureAttribute], `${label}: ${cookie}`);
      } else {
        setting.push(`${label}: sign-in`);
        // A sign-in's sealed cookie, sent to /login (which counts them) and its callback only, gone after 15 minutes.
        assert.match(pair!, secure ? /^__Secure-signin-[A-Za-z0-9_-]{8}=[A-Za-z0-9_-]+$/ : /^signin-[A-Za-z0-9_-]{8}=[A-Za-z0-9_-]+$/, label);
        assert.deepEqual(attributes, ['Path=/login', 'Max-Age=900', 'HttpOnly', 'SameSite=Lax', ...secureAttribute], `${label}: ${cookie}`);
      }
    }
  }
  // At /login the sign-in's cookie (the browser has a session already); at the callback it becomes a
  // "used" marker, and the session gets a new id (session fixation); a fresh session at sign-out.
  assert.deepEqual(setting, [
    'GET /login: sign-in',
    'GET /login/callback (success, 302): sign-in',
    'GET /login/callback (success, 302): session',
    'GET /login/callback (replayed): sign-in',
    'POST /logout (302): session',
  ]);
}

describe('security headers and cookies on plain http (localhost)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it('sends CSP, nosniff, no-store, the right Referrer-Policy and HttpOnly SameSite=Lax cookies on every route', async () => {
    const answers = await everyRoute(stack, new Browser(), stack.app.url);
    assertHeaders(answers, new URL(stack.app.metadata.authorizationEndpoint).origin, false);
  });
});

describe('security headers and cookies behind https (APP_URL=https://…)', () => {
  const publicOrigin = 'https://app.example';
  let stack: Stack;
  before(async () => {
    stack = await startStack({ app: { appUrl: publicOrigin, host: '127.0.0.1' } });
  });
  after(() => stack.close());

  it('adds Secure to every session cookie, and keeps every other header', async () => {
    const { port } = stack.app.server.address() as AddressInfo;
    const browser = new BehindProxy(publicOrigin, `http://127.0.0.1:${port}`);
    assert.equal(stack.app.redirectUri, `${publicOrigin}/login/callback`);
    const answers = await everyRoute(stack, browser, publicOrigin);
    assertHeaders(answers, new URL(stack.app.metadata.authorizationEndpoint).origin, true);
  });
});
