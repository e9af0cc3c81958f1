// Refresh and revocation, at the wire (src/lifecycle.ts): what goes to the token and revocation
// endpoints, for each way a client authenticates.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { refreshTokens, revokeToken, closeSession, refreshSession, type QlikSession } from '../src/lifecycle.ts';
import { QlikOAuthError } from '../src/errors.ts';
import type { TokenSet } from '../src/3.3-token.ts';
import { CLIENT, METADATA, TENANT, mockTenant, qlikTokens } from './helpers/tenant.ts';
import { TenantError } from '../src/tenant-error.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

const TOKEN_URL = `${TENANT}/oauth/token`;
const tokens = (refreshToken: string | undefined = 'rt-old'): TokenSet => ({ // tokens(undefined) gives the default
  accessToken: 'at-old', tokenType: 'bearer', expiresAt: Date.now() + 3600_000, lifetimeMs: 3600_000, refreshToken, scope: 'user_default offline_access',
});

test('refreshTokens posts grant_type=refresh_token and keeps a rotated refresh token', async () => {
  let form: URLSearchParams | undefined;
  server.use(http.post(TOKEN_URL, async ({ request }) => {
    form = new URLSearchParams(await request.text());
    return HttpResponse.json(qlikTokens({ access_token: 'at-new', refresh_token: 'rt-new' }));
  }));
  const refreshed = await refreshTokens(METADATA, CLIENT, tokens());
  assert.deepEqual(Object.fromEntries(form!), {
    grant_type: 'refresh_token',
    refresh_token: 'rt-old',
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
  });
  assert.equal(refreshed.accessToken, 'at-new');
  assert.equal(refreshed.refreshToken, 'rt-new');
});

test('refreshTokens keeps the old refresh token, and the old scope, when none comes back', async () => {
  server.use(http.post(TOKEN_URL, () => HttpResponse.json(qlikTokens({ access_token: 'at-new', refresh_token: undefined, scope: undefined }))));
  const refreshed = await refreshTokens(METADATA, CLIENT, tokens());
  assert.equal(refreshed.refreshToken, 'rt-old');
  assert.equal(refreshed.scope, 'user_default offline_access');
});

test('refreshTokens reports invalid_grant as TOKEN_ERROR_RESPONSE; refreshSession makes it REFRESH_FAILED, sign in again', async () => {
  server.use(http.post(TOKEN_URL, () => HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })));
  await assert.rejects(refreshTokens(METADATA, CLIENT, tokens()), (e: TenantError) => e.code === 'TOKEN_ERROR_RESPONSE' && e.tenantError?.code === 'invalid_grant');
  const session: QlikSession = { metadata: METADATA, client: CLIENT, tokens: tokens() };
  await assert.rejects(refreshSession(session, 'at-old'), (e: unknown) => e instanceof QlikOAuthError && e.code === 'REFRESH_FAILED' && e.signInAgain && e.cause instanceof TenantError);
});

test('REFRESH_FAILED: a 429 from the token endpoint keeps the grant and passes the wait on', async () => {
  server.use(http.post(TOKEN_URL, () => HttpResponse.json({ errors: [{ code: 'HTTP-429', title: 'Too Many Requests' }] }, { status: 429, headers: { 'retry-after': '13' } })));
  const session: QlikSession = { metadata: METADATA, client: CLIENT, tokens: tokens() };
  await assert.rejects(refreshSession(session, 'at-old'), (e: unknown) => e instanceof QlikOAuthError && !e.signInAgain && e.retryAfter === 13);
});

test('NO_REFRESH_TOKEN: nothing to refresh with is a QlikOAuthError that says sign in again', async () => {
  await assert.rejects(refreshTokens(METADATA, CLIENT, { ...tokens(), refreshToken: undefined }), (e: unknown) => e instanceof QlikOAuthError && e.code === 'NO_REFRESH_TOKEN' && e.signInAgain);
});

test('client_secret_basic: the secret goes in a Basic header (RFC 6749 §2.3.1), form-encoded, and not in the body', async () => {
  let seen: { authorization: string | null; form: URLSearchParams } | undefined;
  server.use(http.post(TOKEN_URL, async ({ request }) => {
    seen = { authorization: request.headers.get('authorization'), form: new URLSearchParams(await request.text()) };
    return HttpResponse.json(qlikTokens());
  }));
  const client = { ...CLIENT, clientId: 'id:with space', clientSecret: 's3cr:et+/=', authMethod: 'client_secret_basic' as const };
  await refreshTokens(METADATA, client, tokens());
  const decoded = Buffer.from(seen!.authorization!.replace(/^Basic /, ''), 'base64').toString();
  assert.equal(decoded, 'id%3Awith+space:s3cr%3Aet%2B%2F%3D');
  assert.equal(seen!.form.get('client_secret'), null);
  assert.equal(seen!.form.get('client_id'), null);
});

test('a public client sends its client_id and no secret at all', async () => {
  let seen: { authorization: string | null; body: string } | undefined;
  server.use(http.post(TOKEN_URL, async ({ request }) => {
    seen = { authorization: request.headers.get('authorization'), body: await request.text() };
    return HttpResponse.json(qlikTokens());
  }));
  await refreshTokens(METADATA, { clientId: 'native-app' }, tokens());
  assert.equal(seen!.authorization, null);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(seen!.body)), { grant_type: 'refresh_token', refresh_token: 'rt-old', client_id: 'native-app' });
});

test('revokeToken posts the token with its hint to the revocation endpoint (RFC 7009 §2.1)', async () => {
  let form: URLSearchParams | undefined;
  server.use(http.post(`${TENANT}/oauth/revoke`, async ({ request }) => {
    form = new URLSearchParams(await request.text());
    return new HttpResponse(null, { status: 200 });
  }));
  await revokeToken(METADATA, CLIENT, { token: 'rt-1', hint: 'refresh_token' });
  assert.deepEqual(Object.fromEntries(form!), {
    token: 'rt-1',
    token_type_hint: 'refresh_token',
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
  });
});

test('REVOKE_FAILED: revokeToken falls back to /oauth/revoke and reports a failure with the tenant error as cause', async () => {
  server.use(http.post(`${TENANT}/oauth/revoke`, () => HttpResponse.json({ errors: [{ code: 'OAUTH-5', title: 'bad' }], traceId: 'tr-9' }, { status: 400 })));
  await assert.rejects(
    revokeToken({ ...METADATA, revocationEndpoint: undefined }, CLIENT, { token: 'rt-1', hint: 'refresh_token' }),
    (e: unknown) => e instanceof QlikOAuthError && e.code === 'REVOKE_FAILED' && /revoke/.test(e.message) && e.traceId === 'tr-9',
  );
});

test('closeSession sends nothing for a session that never got a token (an unused machine session)', async () => {
  // msw fails any request it has no handler for: a revocation here would reject.
  const session: QlikSession = { metadata: METADATA, client: CLIENT, tokens: undefined };
  assert.deepEqual(await closeSession(session), []);
  assert.equal(session.closed, true);
});

test('SESSION_CLOSED: closeSession revokes refresh then access token, and no refresh starts after it', async () => {
  const revoked: string[] = [];
  let refreshes = 0;
  server.use(
    http.post(`${TENANT}/oauth/revoke`, async ({ request }) => {
      revoked.push(new URLSearchParams(await request.text()).get('token_type_hint')!);
      return new HttpResponse(null, { status: 200 });
    }),
    http.post(TOKEN_URL, () => {
      refreshes++;
      return HttpResponse.json(qlikTokens());
    }),
  );
  const session: QlikSession = { metadata: METADATA, client: CLIENT, tokens: tokens() };
  assert.deepEqual(await closeSession(session), []);
  assert.deepEqual(revoked, ['refresh_token', 'access_token']);
  await assert.rejects(refreshSession(session, 'at-old'), (e: unknown) => e instanceof QlikOAuthError && e.code === 'SESSION_CLOSED');
  assert.equal(refreshes, 0);
});

test('closeSession waits for a refresh in flight, then revokes what it brought (no refresh token left unrevoked)', async () => {
  const revoked: string[] = [];
  let release!: () => void;
  server.use(
    http.post(TOKEN_URL, async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return HttpResponse.json(qlikTokens({ access_token: 'at-new', refresh_token: 'rt-new' }));
    }),
    http.post(`${METADATA.revocationEndpoint}`, async ({ request }) => {
      revoked.push(new URLSearchParams(await request.text()).get('token')!);
      return new HttpResponse(null, { status: 200 });
    }),
  );
  const session: QlikSession = { metadata: METADATA, client: CLIENT, tokens: tokens() };
  const refreshing = refreshSession(session, session.tokens!.accessToken);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const closing = closeSession(session);
  release();
  await refreshing;
  assert.deepEqual(await closing, []);
  assert.deepEqual(revoked, ['rt-new', 'at-new']);
});
