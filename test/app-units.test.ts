// The app's parts on their own: the session store's limits, the status of each failure, escaping,
// and reading the settings. Fast, no network.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, AuthorizationError, CallbackError, DiscoveryError, HttpError, TokenError } from '../src/errors.ts';
import { errorReply, statusFor } from '../src/app/error-page.ts';
import { html } from '../src/app/html.ts';
import { readConfig } from '../src/app/config.ts';
import {
  addPendingLogin,
  createSessionStore,
  findSession,
  renewSessionId,
  startSession,
  takePendingLogin,
} from '../src/app/sessions.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const login = (n: number) => ({ state: `state-${n}`, codeVerifier: `verifier-${n}` });

describe('sessions: pending sign-ins', () => {
  it('are single use: the second take of a state finds it used', () => {
    const store = createSessionStore();
    const session = startSession(store);
    addPendingLogin(store, session, login(1));
    const first = takePendingLogin(store, session, 'state-1');
    assert.equal(first.kind, 'found');
    assert.equal(first.kind === 'found' && first.login.codeVerifier, 'verifier-1');
    assert.deepEqual(takePendingLogin(store, session, 'state-1'), { kind: 'used-or-expired' });
    assert.equal(store.pendingLogins.size, 0);
  });

  it('belong to one session: another session cannot take them, and does not destroy them', () => {
    const store = createSessionStore();
    const alice = startSession(store);
    const bob = startSession(store);
    addPendingLogin(store, alice, login(1));
    assert.deepEqual(takePendingLogin(store, bob, 'state-1'), { kind: 'unknown' });
    assert.deepEqual(takePendingLogin(store, undefined, 'state-1'), { kind: 'unknown' });
    assert.equal(takePendingLogin(store, alice, 'state-1').kind, 'found');
  });

  it('expire after pendingLifetimeMs', () => {
    const time = clock();
    const store = createSessionStore({ pendingLifetimeMs: 1_000 }, time.now);
    const session = startSession(store);
    addPendingLogin(store, session, login(1));
    time.advance(1_001);
    assert.deepEqual(takePendingLogin(store, session, 'state-1'), { kind: 'used-or-expired' });
  });

  it('are swept when expired, oldest first, as new ones arrive', () => {
    const time = clock();
    const store = createSessionStore({ pendingLifetimeMs: 1_000 }, time.now);
    const session = startSession(store);
    addPendingLogin(store, session, login(1));
    time.advance(600);
    addPendingLogin(store, session, login(2));
    time.advance(600);
    addPendingLogin(store, session, login(3));
    assert.deepEqual([...store.pendingLogins.keys()], ['state-2', 'state-3']);
    assert.deepEqual(session.pendingStates, ['state-2', 'state-3']);
  });

  it('are capped per session: the oldest goes first', () => {
    const store = createSessionStore({ maxPendingPerSession: 5 });
    const session = startSession(store);
    for (let n = 1; n <= 6; n += 1) addPendingLogin(store, session, login(n));
    assert.deepEqual(session.pendingStates, ['state-2', 'state-3', 'state-4', 'state-5', 'state-6']);
    assert.deepEqual(takePendingLogin(store, session, 'state-1'), { kind: 'used-or-expired' });
    assert.equal(takePendingLogin(store, session, 'state-6').kind, 'found');
  });

  it('are capped in total: the oldest of any session goes first', () => {
    const store = createSessionStore({ maxPendingLogins: 3 });
    const sessions = [1, 2, 3, 4].map(() => startSession(store));
    sessions.forEach((session, i) => addPendingLogin(store, session, login(i)));
    assert.deepEqual([...store.pendingLogins.keys()], ['state-1', 'state-2', 'state-3']);
    assert.deepEqual(sessions[0]!.pendingStates, []);
  });

  it('follow the session when its id is renewed at sign-in', () => {
    const store = createSessionStore();
    const session = startSession(store);
    const oldId = session.id;
    addPendingLogin(store, session, login(1));
    renewSessionId(store, session);
    assert.notEqual(session.id, oldId);
    assert.equal(findSession(store, oldId), undefined);
    assert.equal(findSession(store, session.id), session);
    assert.equal(takePendingLogin(store, session, 'state-1').kind, 'found');
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
    ['a failed callback check', new CallbackError('STATE_MISMATCH', 'm', 'h'), 400],
    ['a declined sign-in', new AuthorizationError({ error: 'access_denied' }), 400],
    ['a refused token request', new TokenError('TOKEN_ERROR_RESPONSE', 'm', 'h', { status: 401 }), 502],
    ['a failed API call', new ApiError('API_ERROR', 'm', 'h', { status: 500 }), 502],
    ['bad tenant metadata', new DiscoveryError('ISSUER_MISMATCH', 'm', 'h'), 502],
    ['an unreachable tenant', new HttpError('NETWORK_ERROR', 'm', 'h'), 502],
    ['a tenant too slow', new HttpError('TIMEOUT', 'm', 'h'), 504],
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
    const reply = errorReply(new CallbackError('ISS_MISMATCH', 'issuer "<b>x</b>"', 'fix & retry'), () => {});
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
      scope: 'user_default offline_access',
      port: 3000,
      appUrl: undefined,
    });
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
