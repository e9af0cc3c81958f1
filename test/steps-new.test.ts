// The rules this round added to the steps: one secure-URL rule where requests leave, an injectable
// fetch, expiry against the tenant's clock, a refresh margin that fits every lifetime, a callback
// refused before any work when it is absurd, configuration errors that are not the user's fault,
// and Qlik's optional authorize parameters.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { httpRequest, insecureUrlReason } from '../src/http.ts';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from '../src/3.2-authorize.ts';
import { exchangeCode, processTokenResponse, validateCallback } from '../src/3.3-token.ts';
import { isExpired, refreshMarginMs } from '../src/lifecycle.ts';
import { QlikOAuthError, ConfigurationError } from '../src/errors.ts';
import { CLIENT, METADATA, TENANT, mockTenant, result } from './helpers/tenant.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

test('INSECURE_URL: the one rule — https anywhere, http only to loopback and only for a loopback http tenant', () => {
  assert.equal(insecureUrlReason(new URL('https://acme.eu.qlikcloud.com/oauth/token'), 'https://acme.eu.qlikcloud.com'), undefined);
  assert.equal(insecureUrlReason(new URL('http://127.0.0.1:8080/oauth/token'), 'http://127.0.0.1:8080'), undefined);
  assert.equal(insecureUrlReason(new URL('http://localhost:8080/x')), undefined, 'no issuer known yet: a local tenant');
  assert.match(insecureUrlReason(new URL('http://127.0.0.1:8080/token'), 'https://acme.eu.qlikcloud.com')!, /not a local http one/);
  assert.match(insecureUrlReason(new URL('http://acme.eu.qlikcloud.com/token'))!, /plain http/);
  assert.match(insecureUrlReason(new URL('ftp://127.0.0.1/token'))!, /ftp/);
});

test('INSECURE_URL: httpRequest refuses an http token endpoint for an https tenant, and sends nothing', async () => {
  let sent = false;
  const fetchSpy = (async () => {
    sent = true;
    return new Response('{}');
  }) as typeof fetch;
  const https = { ...METADATA, issuer: 'https://acme.eu.qlikcloud.com', tokenEndpoint: 'http://127.0.0.1:8080/oauth/token' };
  await assert.rejects(exchangeCode(https, CLIENT, { code: 'c', codeVerifier: 'v'.repeat(43) }, { fetch: fetchSpy }), (e: unknown) => {
    assert.ok(e instanceof QlikOAuthError);
    assert.equal(e.code, 'INSECURE_URL');
    assert.doesNotMatch(e.message, new RegExp(CLIENT.clientSecret));
    return true;
  });
  assert.equal(sent, false);
});

test('fetch can be injected: every request of a step goes through it, the global fetch is not used', async () => {
  const seen: string[] = [];
  const canned = (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push(`${init?.method} ${String(input)}`);
    return Response.json(
      { access_token: 'at-canned-123', token_type: 'bearer', expires_in: 3600 },
      { headers: { 'content-type': 'application/json' } },
    );
  }) as typeof fetch;
  // msw fails any request it does not handle: a request through the global fetch would reject.
  const tokens = await exchangeCode(METADATA, CLIENT, { code: 'c', codeVerifier: 'v'.repeat(43) }, { fetch: canned });
  assert.equal(tokens.accessToken, 'at-canned-123');
  assert.deepEqual(seen, [`POST ${TENANT}/oauth/token`]);
});

test('a caller signal stops a request early, as TIMEOUT with its own message', async () => {
  const hanging = ((_input: unknown, init?: RequestInit) =>
    new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)))) as typeof fetch;
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(httpRequest({ method: 'GET', url: `${TENANT}/x` }, { fetch: hanging, signal: controller.signal }), (e: QlikOAuthError) => {
    assert.equal(e.code, 'TIMEOUT');
    assert.match(e.message, /ran out of time/);
    return true;
  });
});

// ---------------------------------------------------------------- expiry

const tokenBody = (extra: Record<string, unknown>) => ({ access_token: 'at-1234567890', token_type: 'bearer', ...extra });

test('expires_at is read against the tenant\'s clock (Date header): a local clock 10 minutes fast or slow changes nothing', () => {
  const tenantNow = Date.parse('2026-11-30T12:00:00Z');
  const date = new Date(tenantNow).toUTCString();
  const body = tokenBody({ expires_at: new Date(tenantNow + 6 * 3600_000).toISOString() });
  for (const skew of [-10 * 60_000, 0, 10 * 60_000]) {
    const localNow = tenantNow + skew;
    const tokens = processTokenResponse(result(200, body, { date }), localNow);
    assert.equal(tokens.lifetimeMs, 6 * 3600_000, `skew ${skew}`);
    assert.equal(tokens.expiresAt, localNow + 6 * 3600_000, 'expiry on OUR clock, 6 h from receipt');
  }
});

test('expires_at already past by the tenant\'s clock is EXPIRY_INVALID even when our clock is 10 minutes slow', () => {
  const tenantNow = Date.parse('2026-11-30T12:00:00Z');
  const body = tokenBody({ expires_at: new Date(tenantNow - 60_000).toISOString() });
  assert.throws(() => processTokenResponse(result(200, body, { date: new Date(tenantNow).toUTCString() }), tenantNow - 10 * 60_000), { code: 'EXPIRY_INVALID' });
});

test('without a Date header, expires_at is read against our clock', () => {
  const now = Date.now();
  const tokens = processTokenResponse(result(200, tokenBody({ expires_at: new Date(now + 90_000).toISOString() })), now);
  assert.equal(tokens.lifetimeMs, 90_000);
});

test('refresh margin: 60 s for a 6 h token, half the lifetime for short ones; a fresh token is never "expired"', () => {
  const issue = (seconds: number, at = 1_000_000) => processTokenResponse(result(200, tokenBody({ expires_in: seconds })), at);
  const sixHours = issue(21600);
  assert.equal(refreshMarginMs(sixHours), 60_000);
  assert.equal(isExpired(sixHours, 1_000_000 + 3 * 3600_000), false, 'not refreshed for hours');
  assert.equal(isExpired(sixHours, 1_000_000 + 21600_000 - 59_000), true);
  const ninety = issue(90);
  assert.equal(refreshMarginMs(ninety), 45_000);
  assert.equal(isExpired(ninety, 1_000_000 + 1), false, 'just issued');
  assert.equal(isExpired(ninety, 1_000_000 + 44_000), false);
  assert.equal(isExpired(ninety, 1_000_000 + 45_000), true);
  const three = issue(3);
  assert.equal(refreshMarginMs(three), 1500);
  assert.equal(isExpired(three, 1_000_000), false, 'a 3 s token is not refreshed the moment it arrives');
  assert.equal(isExpired(three, 1_000_000 + 1499), false);
  assert.equal(isExpired(three, 1_000_000 + 1500), true, 'in its last half');
});

// ---------------------------------------------------------------- callback and authorize

test('CALLBACK_TOO_LARGE: a callback with thousands of parameters is refused before any other check', () => {
  const state = createState();
  const many = Array.from({ length: 2600 }, (_, i) => `p${i}=x`).join('&');
  assert.throws(
    () => validateCallback(`http://localhost:3000/login/callback?code=c&state=${state}&${many}`, { expectedState: state, issuer: TENANT, issRequired: false }),
    (e: unknown) => e instanceof QlikOAuthError && e.code === 'CALLBACK_TOO_LARGE',
  );
  // A dozen unusual parameters are fine.
  const few = Array.from({ length: 10 }, (_, i) => `p${i}=x`).join('&');
  assert.deepEqual(validateCallback(`http://localhost:3000/login/callback?code=c&state=${state}&${few}`, { expectedState: state, issuer: TENANT, issRequired: false }), { code: 'c' });
});

test('configuration mistakes in 3.2 are ConfigurationErrors (the app is misconfigured, not the user)', () => {
  const params = { scope: 'user_default', state: createState(), codeChallenge: codeChallengeS256(createCodeVerifier()) };
  for (const [change, code] of [
    [{ state: 'short' }, 'STATE_TOO_SHORT'],
    [{ scope: 'a"b' }, 'SCOPE_INVALID'],
    [{ prompt: 'select_account' }, 'PROMPT_INVALID'],
    [{ scope: '' }, 'SCOPE_INVALID'],
    [{ maxAge: -1 }, 'PROMPT_INVALID'],
    [{ maxAge: 1.5 }, 'PROMPT_INVALID'],
  ] as const) {
    assert.throws(() => buildAuthorizationUrl(METADATA, CLIENT, { ...params, ...(change as object) }), (e: unknown) => e instanceof ConfigurationError && e.code === code, JSON.stringify(change));
  }
  assert.throws(() => createCodeVerifier('too-short'), (e: unknown) => e instanceof ConfigurationError && e.code === 'VERIFIER_INVALID');
});

test('prompt, login_hint and max_age go into the authorization URL when given, and only then', () => {
  const params = { scope: 'user_default', state: createState(), codeChallenge: codeChallengeS256(createCodeVerifier()) };
  const plain = buildAuthorizationUrl(METADATA, CLIENT, params);
  for (const name of ['prompt', 'login_hint', 'max_age']) assert.equal(plain.searchParams.has(name), false, name);
  const url = buildAuthorizationUrl(METADATA, CLIENT, { ...params, prompt: 'login', loginHint: 'ana@example.com', maxAge: 300 });
  assert.equal(url.searchParams.get('prompt'), 'login');
  assert.equal(url.searchParams.get('login_hint'), 'ana@example.com');
  assert.equal(url.searchParams.get('max_age'), '300');
  assert.equal(buildAuthorizationUrl(METADATA, CLIENT, { ...params, prompt: 'none' }).searchParams.get('prompt'), 'none');
});
