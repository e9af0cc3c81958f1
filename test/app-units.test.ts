// The app's parts on their own: the session store's limits, the status of each failure, escaping,
// and reading the settings. Fast, no network.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QlikOAuthError } from '../src/errors.ts';
import { CHECKS } from '../src/checks.ts';
import { errorReply, statusFor } from '../src/app/error-page.ts';
import { html } from '../src/app/html.ts';
import { readConfig } from '../src/app/config.ts';
import { createSessionStore, findSession, markStateUsed, startSession } from '../src/app/sessions.ts';
import { MAX_SIGN_IN_COOKIES, bindingOf, expireOldSignInCookies, parseCookies, pendingCookie, readPendingCookie, sessionIdFrom, usedPendingCookie } from '../src/app/cookies.ts';
import { seal, sealKeyFrom, unseal } from '../src/app/seal.ts';
import { TenantError } from '../src/tenant-error.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const KEY = sealKeyFrom(undefined);
const STATE = 'abcdefgh-the-rest-of-a-43-character-state-x';
const login = { state: STATE, codeVerifier: 'verifier-verifier-verifier-verifier-verifi', createdAt: 1, binding: bindingOf('x'.repeat(43)) };
/** The Set-Cookie line as the browser would send it back. */
const sent = (line: string) => parseCookies(line.split(';')[0]);

describe('pending sign-ins: sealed cookies', () => {
  it('open with the key and name they were sealed with, and with nothing else', () => {
    const sealed = seal(KEY, 'signin-abcdefgh', { a: 1 });
    assert.deepEqual(unseal(KEY, 'signin-abcdefgh', sealed), { a: 1 });
    assert.equal(unseal(KEY, 'signin-other', sealed), undefined, 'another cookie name');
    assert.equal(unseal(sealKeyFrom(undefined), 'signin-abcdefgh', sealed), undefined, 'another process key');
    const raw = Buffer.from(sealed, 'base64url');
    raw[raw.length - 1]! ^= 1;
    assert.equal(unseal(KEY, 'signin-abcdefgh', raw.toString('base64url')), undefined, 'one bit flipped');
    assert.equal(unseal(KEY, 'signin-abcdefgh', 'not sealed'), undefined);
  });

  it('derive one key from one SESSION_SECRET: another process opens the cookie', () => {
    const secret = 's'.repeat(40);
    assert.deepEqual(unseal(sealKeyFrom(secret), 'n', seal(sealKeyFrom(secret), 'n', 'v')), 'v');
    assert.equal(unseal(sealKeyFrom(`${secret}!`), 'n', seal(sealKeyFrom(secret), 'n', 'v')), undefined);
  });

  it('hold the state and verifier, encrypted: neither shows in the cookie', () => {
    const line = pendingCookie(KEY, login, false);
    assert.match(line, /^signin-abcdefgh=[A-Za-z0-9_-]+; Path=\/login; Max-Age=900; HttpOnly; SameSite=Lax$/);
    assert.ok(!line.includes(login.codeVerifier) && !line.includes(STATE));
    assert.deepEqual(readPendingCookie(KEY, sent(line), STATE, false), { kind: 'pending', login });
    assert.match(pendingCookie(KEY, login, true), /^__Secure-signin-abcdefgh=.*; Secure$/);
  });

  it('are found for their own state only, and a duplicated or foreign cookie counts as none', () => {
    const line = pendingCookie(KEY, login, false);
    const sameFirstEight = `abcdefgh${'y'.repeat(35)}`;
    assert.deepEqual(readPendingCookie(KEY, sent(line), sameFirstEight, false), { kind: 'none' });
    const pair = line.split(';')[0]!;
    assert.deepEqual(readPendingCookie(KEY, parseCookies(`${pair}; ${pair}`), STATE, false), { kind: 'none' });
    assert.deepEqual(readPendingCookie(sealKeyFrom(undefined), sent(line), STATE, false), { kind: 'none' });
  });

  it('become a "used" marker once the callback has run', () => {
    assert.deepEqual(readPendingCookie(KEY, sent(usedPendingCookie(KEY, STATE, false)), STATE, false), { kind: 'used' });
  });

  it('are capped at GET /login: the oldest pending ones go first, after used markers and cookies that do not open', () => {
    const pending = Array.from({ length: 6 }, (_, i) => pendingCookie(KEY, { ...login, state: `state${i}-${'s'.repeat(37)}`, createdAt: 1_000 + i }, false));
    const marker = usedPendingCookie(KEY, `marker-${'m'.repeat(36)}`, false);
    const junk = 'signin-junkjunk=not-sealed';
    // In the order a browser may send them: not by age.
    const header = [pending[3], marker, pending[0], junk, pending[5], pending[1], pending[4], pending[2]].map((line) => line!.split(';')[0]).join('; ');
    const expired = expireOldSignInCookies(KEY, parseCookies(header), false);
    const names = expired.map((line) => line.split('=')[0]);
    assert.deepEqual(names.sort(), ['signin-junkjunk', 'signin-marker-m', 'signin-state0-s', 'signin-state1-s']);
    for (const line of expired) assert.match(line, /^signin-[\w-]{8}=; Path=\/login; Max-Age=0; HttpOnly; SameSite=Lax$/);
    // With the one /login adds, the browser keeps MAX_SIGN_IN_COOKIES: the four newest and the new one.
    assert.equal(8 - expired.length + 1, MAX_SIGN_IN_COOKIES);
    assert.deepEqual(expireOldSignInCookies(KEY, parseCookies(pending.slice(0, 4).map((line) => line.split(';')[0]).join('; ')), false), [], 'four: none expired');
  });

  it('are single use on the server too: a state is marked used once, and forgotten after the lifetime', () => {
    const time = clock();
    const store = createSessionStore({ pendingLifetimeMs: 1_000, maxUsedStates: 2 }, time.now);
    assert.equal(markStateUsed(store, 'state-1', time.now()), true);
    assert.equal(markStateUsed(store, 'state-1', time.now()), false);
    time.advance(1_001);
    markStateUsed(store, 'state-2', time.now());
    assert.deepEqual([...store.usedStates.keys()], ['state-2'], 'the expired one was swept');
    markStateUsed(store, 'state-3', time.now());
    markStateUsed(store, 'state-4', time.now());
    assert.equal(store.usedStates.size, 2, 'capped');
  });
});

describe('the session cookie', () => {
  const id = 'i'.repeat(43);
  it('is read by its name: sid on http, __Host-sid on https', () => {
    assert.equal(sessionIdFrom(parseCookies(`sid=${id}`), false), id);
    assert.equal(sessionIdFrom(parseCookies(`sid=${id}`), true), undefined);
    assert.equal(sessionIdFrom(parseCookies(`__Host-sid=${id}`), true), id);
  });

  it('counts as none when the request carries two (one of them was planted)', () => {
    assert.equal(sessionIdFrom(parseCookies(`sid=${id}; sid=${'j'.repeat(43)}`), false), undefined);
    assert.equal(sessionIdFrom(parseCookies(`__Host-sid=${id}; __Host-sid=${id}`), true), undefined);
  });
});

describe('sessions: the sessions themselves', () => {
  it('have unguessable ids: 43 base64url characters, all different', () => {
    const store = createSessionStore();
    const ids = new Set([1, 2, 3, 4, 5].map(() => startSession(store).id));
    assert.equal(ids.size, 5);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{43}$/);
  });

  it('expire when idle, and are capped in number (the longest idle goes first)', () => {
    const time = clock();
    const store = createSessionStore({ sessionIdleMs: 1_000, maxSessions: 2 }, time.now);
    const a = startSession(store);
    const b = startSession(store);
    time.advance(500);
    assert.equal(findSession(store, a.id), a); // a is now the most recently used
    startSession(store); // over the cap: b goes
    assert.equal(findSession(store, b.id), undefined);
    assert.equal(findSession(store, a.id), a);
    time.advance(1_001);
    assert.equal(findSession(store, a.id), undefined);
  });
});

describe('error pages: status by failure', () => {
  const cases: [string, unknown, number][] = [
    ['a failed callback check', new QlikOAuthError(CHECKS.STATE_MISMATCH, 'm', { hint: 'h' }), 400],
    ['a declined sign-in', new TenantError(CHECKS.AUTHORIZATION_ERROR, 'm', { code: 'access_denied', message: undefined, traceId: undefined }, {}), 400],
    ['a refused token request', new TenantError(CHECKS.TOKEN_ERROR_RESPONSE, 'm', undefined, { hint: 'h', status: 401 }), 502],
    ['a failed API call', new TenantError(CHECKS.API_ERROR, 'm', undefined, { hint: 'h', status: 500 }), 502],
    ['bad tenant metadata', new QlikOAuthError(CHECKS.ISSUER_MISMATCH, 'm', { hint: 'h' }), 502],
    ['an unreachable tenant', new QlikOAuthError(CHECKS.NETWORK_ERROR, 'm', { hint: 'h' }), 502],
    ['a tenant too slow', new QlikOAuthError(CHECKS.TIMEOUT, 'm', { hint: 'h' }), 504],
    ['a bug', new TypeError('x is undefined'), 500],
    ['a thrown string', 'oops', 500],
  ];
  for (const [what, error, status] of cases) {
    it(`${what} → ${status}`, () => assert.equal(statusFor(error), status));
  }

  it('a bug shows a generic 500 page and logs only its name and message', () => {
    const logs: string[] = [];
    const reply = errorReply(new TypeError('cannot read "x" of undefined'), (line) => logs.push(line));
    assert.equal(reply.status, 500);
    assert.match(reply.body, /<h1>Something went wrong<\/h1>/);
    assert.ok(!reply.body.includes('cannot read'), 'no internals in the page');
    assert.ok(!reply.body.includes('.ts:'), 'no stack in the page');
    assert.deepEqual(logs, ['500 unexpected TypeError: cannot read "x" of undefined']);
  });

  it('a failed step shows its message, hint, code and rule, escaped', () => {
    const reply = errorReply(new QlikOAuthError(CHECKS.ISS_MISMATCH, 'issuer "<b>x</b>"', { hint: 'fix & retry' }), () => {});
    assert.equal(reply.status, 400);
    assert.ok(reply.body.includes('issuer &quot;&lt;b&gt;x&lt;/b&gt;&quot;'));
    assert.ok(reply.body.includes('fix &amp; retry'));
    assert.ok(reply.body.includes('<dd><code>ISS_MISMATCH</code></dd>'));
    assert.ok(reply.body.includes('<dd>RFC 9207 §2.4</dd>'));
  });
});

describe('html`…`', () => {
  it('escapes every value, and keeps nested html`…` as markup', () => {
    const name = `<img src=x onerror="alert('1')">&`;
    assert.equal(
      html`<p title="${name}">${name}${html`<b>${'<i>'}</b>`}${[1, '<', false, undefined]}</p>`.text,
      '<p title="&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;">&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;<b>&lt;i&gt;</b>1&lt;</p>',
    );
  });
});

describe('readConfig', () => {
  it('fills in the defaults', () => {
    assert.deepEqual(readConfig({}), {
      tenantUrl: undefined,
      clientId: undefined,
      clientSecret: undefined,
      clientAssertion: undefined,
      scope: 'user_default offline_access',
      port: 3000,
      appUrl: undefined,
      sessionSecret: undefined,
    });
  });

  it('takes a private key (QLIK_CLIENT_PRIVATE_KEY_FILE + QLIK_CLIENT_KEY_ID) instead of a secret, and sends no secret then', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = `${mkdtempSync(`${tmpdir()}/key-`)}/key.pem`;
    writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const env = { QLIK_TENANT_URL: 'https://acme.eu.qlikcloud.com', QLIK_CLIENT_ID: 'id', QLIK_CLIENT_SECRET: 'also-set', QLIK_CLIENT_PRIVATE_KEY_FILE: file, QLIK_CLIENT_KEY_ID: 'k1' };
    const config = readConfig(env);
    assert.equal(config.clientSecret, undefined, 'never a secret beside the assertion');
    const [header] = config.clientAssertion!('https://acme.eu.qlikcloud.com/oauth/token').split('.');
    assert.deepEqual(JSON.parse(Buffer.from(header!, 'base64url').toString()), { alg: 'ES256', typ: 'JWT', kid: 'k1' });
    assert.throws(() => readConfig({ ...env, QLIK_CLIENT_KEY_ID: undefined }), /QLIK_CLIENT_KEY_ID/);
    assert.throws(() => readConfig({ ...env, QLIK_CLIENT_PRIVATE_KEY_FILE: `${file}.missing` }), /cannot be read \(ENOENT\)/);
  });

  it('takes a SESSION_SECRET of 32 characters or more, and refuses a shorter one', () => {
    assert.equal(readConfig({ SESSION_SECRET: 'k'.repeat(32) }).sessionSecret, 'k'.repeat(32));
    assert.throws(() => readConfig({ SESSION_SECRET: 'short' }), /SESSION_SECRET is 5 characters long; it must be at least 32/);
  });

  it('reduces the tenant to its issuer and APP_URL to its origin', () => {
    const config = readConfig({
      QLIK_TENANT_URL: ' https://acme.eu.qlikcloud.com/ ',
      QLIK_CLIENT_ID: 'id',
      QLIK_CLIENT_SECRET: 'secret',
      APP_URL: 'https://app.example.com/',
      PORT: '0',
    });
    assert.equal(config.tenantUrl, 'https://acme.eu.qlikcloud.com');
    assert.equal(config.appUrl, 'https://app.example.com');
    assert.equal(config.port, 0);
  });

  it('allows plain http for a tenant and an app on loopback', () => {
    const config = readConfig({ QLIK_TENANT_URL: 'http://127.0.0.1:4000', QLIK_CLIENT_ID: 'i', QLIK_CLIENT_SECRET: 's', APP_URL: 'http://[::1]:3000' });
    assert.equal(config.tenantUrl, 'http://127.0.0.1:4000');
    assert.equal(config.appUrl, 'http://[::1]:3000');
  });
});
