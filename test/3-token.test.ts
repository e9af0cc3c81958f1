import { test, after, afterEach, mock } from 'node:test';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { validateCallback, exchangeCode, processTokenResponse, CALLBACK_CHECKS } from '../src/3.3-token.ts';
import { QlikOAuthError } from '../src/errors.ts';
import { type CheckCode } from '../src/checks.ts';
import { createState } from '../src/3.2-authorize.ts';
import { CLIENT, METADATA, TENANT, mockTenant, qlikTokens, result } from './helpers/tenant.ts';
import { TenantError } from '../src/tenant-error.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

// ---------------------------------------------------------------- validateCallback

const STATE = createState();
const expected = { expectedState: STATE, issuer: TENANT, issRequired: false };
const callback = (query: string) => `http://localhost:3000/login/callback?${query}`;
const ok = (extra = '') => callback(`code=the-code&state=${STATE}${extra}`);

function callbackFails(url: string, code: CheckCode, exp = expected) {
  assert.throws(() => validateCallback(url, exp), (e: unknown) => {
    assert.ok(e instanceof QlikOAuthError, String(e));
    assert.equal(e.code, code);
    return true;
  });
}

test('a good callback gives the code', () => {
  assert.deepEqual(validateCallback(ok(), expected), { code: 'the-code' });
  assert.deepEqual(validateCallback(new URL(ok(`&iss=${encodeURIComponent(TENANT)}`)), expected), { code: 'the-code' });
});

test('CALLBACK_PARAM_REPEATED: any parameter twice', () => {
  callbackFails(callback(`code=a&code=b&state=${STATE}`), 'CALLBACK_PARAM_REPEATED');
  callbackFails(callback(`code=a&state=${STATE}&state=${STATE}`), 'CALLBACK_PARAM_REPEATED');
  callbackFails(callback(`code=a&state=${STATE}&iss=x&iss=y`), 'CALLBACK_PARAM_REPEATED');
});

test('STATE_MISSING: no state, or an empty one', () => {
  callbackFails(callback('code=a'), 'STATE_MISSING');
  callbackFails(callback('code=a&state='), 'STATE_MISSING');
});

test('STATE_MISMATCH: another state, a prefix of ours, ours with a character added', () => {
  callbackFails(callback(`code=a&state=${createState()}`), 'STATE_MISMATCH');
  callbackFails(callback(`code=a&state=${STATE.slice(0, -1)}`), 'STATE_MISMATCH');
  callbackFails(callback(`code=a&state=${STATE}x`), 'STATE_MISMATCH');
});

test('STATE_MISMATCH is checked before the error: a forged error is not believed', () => {
  callbackFails(callback(`error=access_denied&state=${createState()}`), 'STATE_MISMATCH');
  callbackFails(callback('error=access_denied'), 'STATE_MISSING');
});

test('ISS_MISMATCH: a callback naming another issuer (mix-up)', () => {
  callbackFails(ok(`&iss=${encodeURIComponent('https://evil.example')}`), 'ISS_MISMATCH');
  callbackFails(ok(`&iss=${encodeURIComponent(`${TENANT}/`)}`), 'ISS_MISMATCH');
  callbackFails(ok('&iss='), 'ISS_MISMATCH');
});

test('ISS_MISSING: no iss when the tenant promises it', () => {
  callbackFails(ok(), 'ISS_MISSING', { ...expected, issRequired: true });
  assert.deepEqual(validateCallback(ok(`&iss=${encodeURIComponent(TENANT)}`), { ...expected, issRequired: true }), { code: 'the-code' });
});

test('AUTHORIZATION_ERROR: the tenant\'s error, its description and Qlik\'s error_detail and error_code in tenantError', () => {
  const url = callback(
    `error=access_denied&error_description=${encodeURIComponent('The user denied <b>access</b>')}&error_uri=${encodeURIComponent('https://help.qlik.com/x')}&error_code=OAUTH-9&error_detail=denied&state=${STATE}`,
  );
  assert.throws(() => validateCallback(url, expected), (e: unknown) => {
    assert.ok(e instanceof TenantError);
    assert.equal(e.code, 'AUTHORIZATION_ERROR');
    assert.equal(e.tenantError?.code, 'access_denied');
    assert.equal(e.tenantError?.message, 'The user denied <b>access</b> — denied — OAUTH-9', "Qlik's error_detail and error_code kept");
    assert.equal(e.message, 'The tenant refused the sign-in: access_denied (The user denied <b>access</b> — denied — OAUTH-9).');
    assert.match(e.hint, /Allow/);
    return true;
  });
});

test('ISS_MISMATCH / ISS_MISSING are checked before an error is believed (RFC 9207 §2.4)', () => {
  callbackFails(callback(`error=access_denied&state=${STATE}&iss=${encodeURIComponent('https://evil.example')}`), 'ISS_MISMATCH');
  callbackFails(callback(`error=access_denied&state=${STATE}`), 'ISS_MISSING', { ...expected, issRequired: true });
});

test('STATE_MISMATCH: a state of our length is compared with crypto.timingSafeEqual, whatever it holds', () => {
  // Equal and unequal states of the same length alike go through the constant-time compare, so no
  // timing tells how much matched. Only a state of another length is refused before it: a length is
  // no secret (every state is 43 characters, and ours was in the authorization URL).
  const spy = mock.method(crypto, 'timingSafeEqual');
  syncBuiltinESMExports();
  try {
    validateCallback(ok(), expected);
    assert.throws(() => validateCallback(callback(`code=a&state=${createState()}`), expected));
    assert.equal(spy.mock.callCount(), 2);
    callbackFails(callback(`code=a&state=${STATE}x`), 'STATE_MISMATCH');
    assert.equal(spy.mock.callCount(), 2);
  } finally {
    spy.mock.restore();
    syncBuiltinESMExports();
  }
});

test('AUTHORIZATION_ERROR wins over a code sent alongside it', () => {
  callbackFails(ok('&error=server_error'), 'AUTHORIZATION_ERROR');
});

test('CODE_MISSING: neither code nor error, or an empty code', () => {
  callbackFails(callback(`state=${STATE}`), 'CODE_MISSING');
  callbackFails(callback(`code=&state=${STATE}`), 'CODE_MISSING');
});

test('odd characters and broken percent-encoding in code are passed through, not crashed on', () => {
  assert.deepEqual(validateCallback(callback(`code=%E0%A4%A&state=${STATE}`), expected).code.length > 0, true);
  assert.deepEqual(validateCallback(callback(`code=a%2Bb+c&state=${STATE}`), expected), { code: 'a+b c' });
});

test('onCheck hears every callback check once the callback passes', () => {
  const heard: string[] = [];
  validateCallback(ok(), expected, { onCheck: (check) => heard.push(check.code) });
  assert.deepEqual(heard, Object.keys(CALLBACK_CHECKS), 'every callback check, in the order the code makes them');
});

// ---------------------------------------------------------------- exchangeCode

const TOKEN_URL = `${TENANT}/oauth/token`;

test('exchangeCode posts exactly the client_secret_post form, and nothing secret in the URL', async () => {
  let received: { url: string; contentType: string | null; authorization: string | null; form: URLSearchParams } | undefined;
  server.use(
    http.post(TOKEN_URL, async ({ request }) => {
      received = {
        url: request.url,
        contentType: request.headers.get('content-type'),
        authorization: request.headers.get('authorization'),
        form: new URLSearchParams(await request.text()),
      };
      return HttpResponse.json(qlikTokens());
    }),
  );
  const tokens = await exchangeCode(METADATA, CLIENT, { code: 'the-code', codeVerifier: 'v'.repeat(43) });
  assert.ok(received);
  assert.equal(received.url, TOKEN_URL, 'no query on the token URL');
  assert.equal(received.contentType, 'application/x-www-form-urlencoded');
  assert.equal(received.authorization, null, 'client_secret_post: no Basic header');
  assert.deepEqual(Object.fromEntries(received.form), {
    grant_type: 'authorization_code',
    code: 'the-code',
    redirect_uri: CLIENT.redirectUri,
    code_verifier: 'v'.repeat(43),
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
  });
  assert.equal(tokens.accessToken, 'at-0123456789');
  assert.equal(tokens.refreshToken, 'rt-0123456789');
  assert.equal(tokens.scope, 'user_default offline_access');
  assert.equal(tokens.tokenType, 'bearer');
  assert.ok(tokens.expiresAt! > Date.now() + 5 * 3600_000);
});

function tokenFails(res: ReturnType<typeof result>, code: CheckCode) {
  assert.throws(() => processTokenResponse(res, Date.now()), (e: unknown) => {
    assert.ok(e instanceof QlikOAuthError, String(e));
    assert.equal(e.code, code);
    return true;
  });
}

test('TOKEN_ERROR_RESPONSE: a tenant that names the secret gets a hint about the client only', () => {
  const res = result(401, { errors: [{ code: 'OAUTH-22', title: 'Invalid client_secret', detail: 'x', status: '401' }] });
  assert.throws(() => processTokenResponse(res, Date.now()), (e: unknown) => {
    assert.ok(e instanceof TenantError);
    assert.equal(e.code, 'TOKEN_ERROR_RESPONSE');
    assert.equal(e.status, 401);
    assert.equal(e.tenantError?.code, 'OAUTH-22');
    assert.match(e.message, /OAUTH-22: Invalid client_secret/);
    assert.match(e.hint, /client ID and client secret/);
    assert.deepEqual(e.settings, ['clientId', 'clientSecret']);
    assert.doesNotMatch(e.hint, /QLIK_/, 'steps name no app variable');
    return true;
  });
});

test('TOKEN_ERROR_RESPONSE: real Qlik 401 "Unauthorized" (OAUTH-5) lists the causes in order, with the traceId', () => {
  const res = result(401, { errors: [{ title: 'Unauthorized', code: 'OAUTH-5', status: '401' }], traceId: '7f1c2d3e4b5a6978' });
  assert.throws(() => processTokenResponse(res, Date.now()), (e: unknown) => {
    assert.ok(e instanceof TenantError);
    assert.equal(e.traceId, '7f1c2d3e4b5a6978');
    assert.match(e.message, /OAUTH-5: Unauthorized, traceId 7f1c2d3e4b5a6978/);
    const order = ['client secret', 'redirect URI', 'single-use', 'PKCE'].map((word) => e.hint.indexOf(word));
    assert.ok(order.every((at) => at >= 0), e.hint);
    assert.deepEqual([...order].sort((x, y) => x - y), order, 'secret, redirect URI, used code, PKCE — in that order');
    return true;
  });
});

test('TOKEN_ERROR_RESPONSE: 403 at the token endpoint says user disabled or token limit', () => {
  const res = result(403, { errors: [{ title: 'Forbidden', code: 'OAUTH-14', status: '403' }], traceId: 't-1' });
  assert.throws(() => processTokenResponse(res, Date.now()), (e: TenantError) => /disabled/.test(e.hint) && /token limit/.test(e.hint));
});

test('TOKEN_ERROR_RESPONSE: RFC 6749 §5.2 error body is read', () => {
  const res = result(400, { error: 'invalid_grant', error_description: 'code expired' });
  assert.throws(() => processTokenResponse(res, Date.now()), (e: TenantError) => {
    assert.equal(e.code, 'TOKEN_ERROR_RESPONSE');
    assert.equal(e.tenantError?.code, 'invalid_grant');
    assert.match(e.message, /invalid_grant: code expired/);
    assert.match(e.hint, /Start the sign-in again/);
    return true;
  });
});

test('TOKEN_ERROR_RESPONSE: an HTML error page or an empty 401 with WWW-Authenticate', () => {
  tokenFails(result(502, '<html><body>Bad gateway</body></html>', { 'content-type': 'text/html' }), 'TOKEN_ERROR_RESPONSE');
  tokenFails(result(401, '', { 'www-authenticate': 'Basic realm="qlik"' }), 'TOKEN_ERROR_RESPONSE');
});

test('TOKEN_UNEXPECTED_STATUS: a 201 is not a token response', () => {
  tokenFails(result(201, qlikTokens()), 'TOKEN_UNEXPECTED_STATUS');
  tokenFails(result(204, ''), 'TOKEN_UNEXPECTED_STATUS');
});

test('NOT_JSON / JSON_INVALID / JSON_NOT_OBJECT on a 200', () => {
  tokenFails(result(200, 'access_token=x', { 'content-type': 'application/x-www-form-urlencoded' }), 'NOT_JSON');
  tokenFails(result(200, '{"access_token":"x","tok', { 'content-type': 'application/json' }), 'JSON_INVALID');
  tokenFails(result(200, [qlikTokens()]), 'JSON_NOT_OBJECT');
});

test('ACCESS_TOKEN_MISSING: absent, empty, or not a string', () => {
  tokenFails(result(200, qlikTokens({ access_token: undefined })), 'ACCESS_TOKEN_MISSING');
  tokenFails(result(200, qlikTokens({ access_token: '' })), 'ACCESS_TOKEN_MISSING');
  tokenFails(result(200, qlikTokens({ access_token: 12345 })), 'ACCESS_TOKEN_MISSING');
});

test('TOKEN_TYPE_NOT_BEARER: mac, DPoP, or none; Bearer in any case is fine', () => {
  tokenFails(result(200, qlikTokens({ token_type: 'mac' })), 'TOKEN_TYPE_NOT_BEARER');
  tokenFails(result(200, qlikTokens({ token_type: 'DPoP' })), 'TOKEN_TYPE_NOT_BEARER');
  tokenFails(result(200, qlikTokens({ token_type: undefined })), 'TOKEN_TYPE_NOT_BEARER');
  for (const type of ['bearer', 'Bearer', 'BEARER']) {
    assert.equal(processTokenResponse(result(200, qlikTokens({ token_type: type })), Date.now()).tokenType, 'bearer');
  }
});

test('EXPIRY_INVALID: expires_in non-numeric or negative; expires_at unparsable or past', () => {
  for (const expires_in of ['soon', -5, '3600s', '', null, true, Number.NaN]) {
    tokenFails(result(200, qlikTokens({ expires_in })), 'EXPIRY_INVALID');
  }
  for (const expires_at of ['tomorrow', '2001-01-01T00:00:00Z', 12345]) {
    tokenFails(result(200, qlikTokens({ expires_at })), 'EXPIRY_INVALID');
  }
});

test('golang/oauth2 TestExpiresInZero-like: expires_in 0 says nothing usable, the expiry is unknown (RFC 6749 App. A.14 allows it)', () => {
  const tokens = processTokenResponse(result(200, qlikTokens({ expires_in: 0, expires_at: undefined })), 1_000_000);
  assert.equal(tokens.expiresAt, undefined);
  assert.equal(tokens.lifetimeMs, undefined);
});

test('oauth4webapi-like: an absurd expires_in (1e308) gives a capped lifetime, never an infinite one', () => {
  const tokens = processTokenResponse(result(200, qlikTokens({ expires_in: 1e308, expires_at: undefined })), 1_000_000);
  assert.ok(Number.isFinite(tokens.expiresAt), String(tokens.expiresAt));
  assert.equal(tokens.lifetimeMs, 365 * 24 * 3600 * 1000);
});

test('expiry from expires_in (number or numeric string) or Qlik\'s expires_at; none means unknown', () => {
  const now = 1_000_000;
  assert.equal(processTokenResponse(result(200, qlikTokens({ expires_in: 3600, expires_at: undefined })), now).expiresAt, now + 3_600_000);
  assert.equal(processTokenResponse(result(200, qlikTokens({ expires_in: '3600', expires_at: undefined })), now).expiresAt, now + 3_600_000);
  const at = '2099-01-01T00:00:00.000Z';
  assert.equal(processTokenResponse(result(200, qlikTokens({ expires_at: at })), now).expiresAt, Date.parse(at));
  assert.equal(processTokenResponse(result(200, qlikTokens({ expires_at: undefined })), now).expiresAt, undefined);
  // Both: expires_in, relative, cannot be bent by a clock that is off.
  assert.equal(processTokenResponse(result(200, qlikTokens({ expires_in: 3600, expires_at: at })), now).expiresAt, now + 3_600_000);
});

test('TOKEN_FIELD_INVALID: a refresh_token or scope that is not a string', () => {
  tokenFails(result(200, qlikTokens({ refresh_token: 42 })), 'TOKEN_FIELD_INVALID');
  tokenFails(result(200, qlikTokens({ scope: ['user_default'] })), 'TOKEN_FIELD_INVALID');
});

test('no refresh_token without offline_access; the granted (narrower) scope is kept', () => {
  const tokens = processTokenResponse(result(200, qlikTokens({ refresh_token: undefined, scope: 'user_default' })), Date.now());
  assert.equal(tokens.refreshToken, undefined);
  assert.equal(tokens.scope, 'user_default');
});

test('REDIRECT_REFUSED: a token endpoint that redirects to another host gets nothing more', async () => {
  let followed = false;
  server.use(
    http.post(TOKEN_URL, () => new HttpResponse(null, { status: 307, headers: { location: 'http://127.0.0.2:9/steal' } })),
    http.post('http://127.0.0.2:9/steal', () => { followed = true; return HttpResponse.json(qlikTokens()); }),
  );
  await assert.rejects(exchangeCode(METADATA, CLIENT, { code: 'c', codeVerifier: 'v'.repeat(43) }), { code: 'REDIRECT_REFUSED' });
  assert.equal(followed, false, 'the code and secret were not re-posted elsewhere');
});

test('BODY_TOO_LARGE: a 30 MB token response is not read into memory', async () => {
  server.use(http.post(TOKEN_URL, () => new HttpResponse('x'.repeat(30 * 1024 * 1024), { headers: { 'content-type': 'application/json' } })));
  await assert.rejects(exchangeCode(METADATA, CLIENT, { code: 'c', codeVerifier: 'v'.repeat(43) }), { code: 'BODY_TOO_LARGE' });
});

test('TOKEN_ERROR_RESPONSE hints: a refusal that is not a 401 (unsupported_grant_type, Qlik 400, 404) gets the general hint, not the 401 list', () => {
  for (const res of [result(400, { error: 'unsupported_grant_type' }), result(400, { errors: [{ code: 'OAUTH-14', status: '400' }] }), result(404, {})]) {
    assert.throws(() => processTokenResponse(res, Date.now()), (e: TenantError) => /redirect URI, scopes/.test(e.hint) && !/PKCE/.test(e.hint) && e.settings.join() === 'redirectUri,scope');
  }
});

test('TOKEN_ERROR_RESPONSE hints: a refused scope points at the scope setting only', () => {
  const res = result(400, { error: 'invalid_scope', error_description: 'scope admin.apps is not allowed' });
  assert.throws(() => processTokenResponse(res, Date.now()), (e: TenantError) => /scope/.test(e.hint) && !/secret/.test(e.hint) && e.settings.join() === 'scope');
});

test('TOKEN_ERROR_RESPONSE hints: a bad code is not blamed on the secret; a 429 says to wait', () => {
  const badCode = result(400, { error: 'invalid_grant', error_description: 'The code was issued to another client' });
  assert.throws(() => processTokenResponse(badCode, Date.now()), (e: TenantError) => !/secret/.test(e.hint) && /Start the sign-in again/.test(e.hint));
  const limited = result(429, { errors: [{ code: 'HTTP-429', title: 'Too Many Requests' }] }, { 'retry-after': '17' });
  assert.throws(() => processTokenResponse(limited, Date.now()), (e: TenantError) => /wait 17 s/.test(e.hint) && e.retryAfter === 17);
  const limitedAt = result(429, {}, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() });
  assert.throws(() => processTokenResponse(limitedAt, Date.now()), (e: TenantError) => e.retryAfter! >= 29 && e.retryAfter! <= 31, 'retry-after as an HTTP date');
});
