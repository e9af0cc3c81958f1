// The loopback sign-in (src/native-login.ts) on a real listener on 127.0.0.1, with the token
// endpoint answered by an injected fetch: what the exchange sends, and which callbacks end the wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DEFAULT_CALLBACK_PATH, loopbackRedirectUri, startLoopbackSignIn } from '../src/native-login.ts';
import { QlikOAuthError, ConfigurationError } from '../src/errors.ts';
import { TenantError } from '../src/tenant-error.ts';
import { METADATA } from './helpers/tenant.ts';

interface TokenCall {
  headers: Headers;
  form: URLSearchParams;
}

/** A token endpoint: records each request, answers with `status` and `body`. Only the token endpoint is expected. */
function tokenEndpoint(status = 200, body: unknown = { access_token: 'at-native-1', token_type: 'bearer', expires_in: 21600, refresh_token: 'rt-native-1' }) {
  const calls: TokenCall[] = [];
  const fake: typeof fetch = async (input, init) => {
    assert.equal(String(input), METADATA.tokenEndpoint);
    calls.push({ headers: new Headers(init?.headers), form: new URLSearchParams(String(init?.body)) });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  return { calls, fetch: fake };
}

test('a public client: the listener takes the callback and exchanges the code with the PKCE verifier and no secret', async () => {
  const endpoint = tokenEndpoint();
  const login = await startLoopbackSignIn(METADATA, { clientId: 'native-app' }, { scope: 'user_default offline_access' }, { fetch: endpoint.fetch });
  const auth = login.authorizationUrl.searchParams;
  assert.equal(auth.get('redirect_uri'), login.redirectUri);
  assert.match(login.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  const page = await fetch(`${login.redirectUri}?code=the-code&state=${auth.get('state')}`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /You can close this tab/);
  const tokens = await login.tokens;
  assert.equal(tokens.accessToken, 'at-native-1');

  assert.equal(endpoint.calls.length, 1);
  const { form, headers } = endpoint.calls[0]!;
  assert.deepEqual([...form.keys()].sort(), ['client_id', 'code', 'code_verifier', 'grant_type', 'redirect_uri']);
  assert.equal(form.get('client_id'), 'native-app');
  assert.equal(form.get('redirect_uri'), login.redirectUri);
  assert.equal(createHash('sha256').update(form.get('code_verifier')!).digest('base64url'), auth.get('code_challenge'));
  assert.equal(headers.get('authorization'), null, 'a public client sends no Authorization header');
});

test('a confidential client sends its secret in the exchange (client_secret_post)', async () => {
  const endpoint = tokenEndpoint();
  const login = await startLoopbackSignIn(METADATA, { clientId: 'web', clientSecret: 'web-secret-123' }, { scope: 'user_default' }, { fetch: endpoint.fetch });
  await fetch(`${login.redirectUri}?code=c&state=${login.authorizationUrl.searchParams.get('state')}`);
  await login.tokens;
  assert.equal(endpoint.calls[0]!.form.get('client_secret'), 'web-secret-123');
});

test('wrong requests do not end the wait: another path (404), a forged state (400), a repeated parameter (400)', async () => {
  const endpoint = tokenEndpoint();
  const ignored: string[] = [];
  const login = await startLoopbackSignIn(METADATA, { clientId: 'native-app' }, { scope: 'user_default', onIgnoredRequest: (what) => ignored.push(what) }, { fetch: endpoint.fetch });
  const state = login.authorizationUrl.searchParams.get('state')!;
  assert.equal((await fetch(new URL('/', login.redirectUri))).status, 404);
  assert.equal((await fetch(login.redirectUri, { method: 'POST' })).status, 404);
  assert.equal((await fetch(`${login.redirectUri}?code=x&state=forged`)).status, 400);
  assert.equal((await fetch(`${login.redirectUri}?code=x&code=y&state=${state}`)).status, 400);
  assert.equal(endpoint.calls.length, 0, 'nothing was exchanged');
  assert.equal(ignored.length, 4);
  assert.ok(ignored.some((line) => line.includes('STATE_MISMATCH')));
  assert.equal((await fetch(`${login.redirectUri}?code=real&state=${state}`)).status, 200);
  await login.tokens;
  assert.equal(endpoint.calls[0]!.form.get('code'), 'real');
});

test('the tenant’s own error (state matching) ends the sign-in with AUTHORIZATION_ERROR', async () => {
  const login = await startLoopbackSignIn(METADATA, { clientId: 'native-app' }, { scope: 'user_default' }, { fetch: tokenEndpoint().fetch });
  const page = await fetch(`${login.redirectUri}?error=access_denied&state=${login.authorizationUrl.searchParams.get('state')}`);
  assert.equal(page.status, 400);
  await assert.rejects(login.tokens, (e: unknown) => e instanceof TenantError && e.code === 'AUTHORIZATION_ERROR' && e.tenantError?.code === 'access_denied');
});

test('a refused exchange ends the sign-in with the TenantError, and the browser is told', async () => {
  const login = await startLoopbackSignIn(METADATA, { clientId: 'native-app' }, { scope: 'user_default' }, {
    fetch: tokenEndpoint(401, { errors: [{ title: 'Unauthorized', code: 'OAUTH-5', status: '401' }], traceId: 't' }).fetch,
  });
  const page = await fetch(`${login.redirectUri}?code=c&state=${login.authorizationUrl.searchParams.get('state')}`);
  assert.equal(page.status, 502);
  assert.match(await page.text(), /Sign-in failed/);
  await assert.rejects(login.tokens, (e: unknown) => e instanceof TenantError && e.status === 401);
});

test('LOOPBACK_TIMEOUT: no callback within the time limit ends the wait and frees the port', async () => {
  const login = await startLoopbackSignIn(METADATA, { clientId: 'native-app' }, { scope: 'user_default', timeoutMs: 100 });
  await assert.rejects(login.tokens, (e: unknown) => e instanceof QlikOAuthError && e.code === 'LOOPBACK_TIMEOUT' && e.rule === 'Robustness: every call is bounded');
  await assert.rejects(fetch(login.redirectUri), 'nothing listens any more');
});

test('close() stops the listener and the sign-in', async () => {
  const login = await startLoopbackSignIn(METADATA, { clientId: 'native-app' }, { scope: 'user_default' });
  login.close();
  await assert.rejects(login.tokens, (e: unknown) => e instanceof QlikOAuthError);
  await assert.rejects(fetch(login.redirectUri));
});

test('REDIRECT_NOT_LOOPBACK: a registered redirect URI must be http on a loopback address, without query or fragment', () => {
  assert.deepEqual(loopbackRedirectUri(undefined, 0), { host: '127.0.0.1', port: 0, path: DEFAULT_CALLBACK_PATH });
  assert.deepEqual(loopbackRedirectUri('http://127.0.0.1:8765/oauth/cb'), { host: '127.0.0.1', port: 8765, path: '/oauth/cb' });
  assert.deepEqual(loopbackRedirectUri('http://localhost/callback', 0), { host: '127.0.0.1', port: 0, path: '/callback' });
  assert.deepEqual(loopbackRedirectUri('http://[::1]:9000/cb'), { host: '::1', port: 9000, path: '/cb' });
  for (const bad of ['https://app.example.com/callback', 'http://192.168.1.2:80/cb', 'https://127.0.0.1/cb', 'http://127.0.0.1/cb#x', 'http://127.0.0.1/cb?x=1', 'not a url']) {
    assert.throws(() => loopbackRedirectUri(bad), (e: unknown) => e instanceof ConfigurationError && e.code === 'REDIRECT_NOT_LOOPBACK' && e.rule === 'RFC 8252 §7.3', bad);
  }
});
