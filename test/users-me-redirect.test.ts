// Qlik documents GET /api/v1/users/me as a 301 to the user resource. The client follows a redirect
// for an API GET, to the tenant's own origin only, keeping the bearer token; it never follows one
// from the token, revocation or discovery endpoints, and never sends the token to another origin.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { getCurrentUser } from '../src/3.4-api.ts';
import { qlikFetch } from '../src/lifecycle.ts';
import { exchangeCode } from '../src/3.3-token.ts';
import { QlikOAuthError } from '../src/errors.ts';
import type { HttpExchange } from '../src/http.ts';
import { CLIENT, METADATA, QLIK_USER, TENANT, mockTenant } from './helpers/tenant.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

const USER_URL = `${TENANT}/api/v1/users/${QLIK_USER.id}`;
const moved = (location: string) => new HttpResponse('<html>Moved</html>', { status: 301, headers: { location, 'content-type': 'text/html' } });

test("users/me's documented 301 is followed to the user resource, with the bearer token, and each hop is its own exchange", async () => {
  const seen: string[] = [];
  server.use(
    http.get(METADATA.usersMeEndpoint, ({ request }) => {
      seen.push(`me ${request.headers.get('authorization')}`);
      return moved(`/api/v1/users/${QLIK_USER.id}`);
    }),
    http.get(USER_URL, ({ request }) => {
      seen.push(`user ${request.headers.get('authorization')}`);
      return HttpResponse.json(QLIK_USER);
    }),
  );
  const exchanges: HttpExchange[] = [];
  const checks: string[] = [];
  const user = await getCurrentUser(METADATA, 'at-0123456789', { onExchange: (e) => exchanges.push(e), onCheck: (c) => checks.push(c.code) });
  assert.equal(user.id, QLIK_USER.id);
  assert.deepEqual(seen, ['me Bearer at-0123456789', 'user Bearer at-0123456789']);
  assert.deepEqual(exchanges.map((e) => [e.result?.status, e.request.url]), [[301, METADATA.usersMeEndpoint], [200, USER_URL]]);
  assert.equal(checks[0], 'REDIRECT_REFUSED', 'the followed redirect is reported as a check that held');
});

test('an absolute Location on the same origin is followed too; qlikFetch follows it as getCurrentUser does', async () => {
  server.use(http.get(METADATA.usersMeEndpoint, () => moved(USER_URL)), http.get(USER_URL, () => HttpResponse.json(QLIK_USER)));
  const tokens = { accessToken: 'at-1', tokenType: 'bearer' as const, expiresAt: undefined, lifetimeMs: undefined, refreshToken: undefined, scope: undefined };
  const body = await qlikFetch({ metadata: METADATA, client: CLIENT, tokens }, '/api/v1/users/me');
  assert.equal(body.id, QLIK_USER.id);
});

test('REDIRECT_REFUSED: a redirect to another origin is refused, and the token is never sent there', async () => {
  let foreign = 0;
  server.use(
    http.get(METADATA.usersMeEndpoint, () => moved('http://127.0.0.2:9/api/v1/users/x')),
    http.get('http://127.0.0.2:9/api/v1/users/x', () => {
      foreign++;
      return HttpResponse.json(QLIK_USER);
    }),
  );
  await assert.rejects(getCurrentUser(METADATA, 'at-0123456789'), (e: unknown) => e instanceof QlikOAuthError && e.code === 'REDIRECT_REFUSED' && /same origin/.test(e.message));
  assert.equal(foreign, 0);
});

test('REDIRECT_REFUSED: a third hop is refused (a loop of redirects ends)', async () => {
  let asked = 0;
  server.use(
    http.get(METADATA.usersMeEndpoint, () => {
      asked++;
      return moved('/api/v1/users/me');
    }),
  );
  await assert.rejects(getCurrentUser(METADATA, 'at-0123456789'), { code: 'REDIRECT_REFUSED' });
  assert.equal(asked, 3, 'the first request and two followed hops');
});

test('REDIRECT_REFUSED: a write is never redirected, nor the token endpoint (a 307 would re-post the code and the secret)', async () => {
  let posted = 0;
  server.use(
    http.post(`${TENANT}/api/v1/spaces`, () => new HttpResponse(null, { status: 307, headers: { location: `${TENANT}/api/v1/other` } })),
    http.post(METADATA.tokenEndpoint, () => new HttpResponse(null, { status: 307, headers: { location: `${TENANT}/oauth/token2` } })),
    http.post(`${TENANT}/oauth/token2`, () => {
      posted++;
      return HttpResponse.json({});
    }),
  );
  const tokens = { accessToken: 'at-1', tokenType: 'bearer' as const, expiresAt: undefined, lifetimeMs: undefined, refreshToken: undefined, scope: undefined };
  await assert.rejects(qlikFetch({ metadata: METADATA, client: CLIENT, tokens }, '/api/v1/spaces', { method: 'POST', json: { name: 'x' } }), (e: unknown) => e instanceof QlikOAuthError && e.cause instanceof QlikOAuthError && e.cause.code === 'REDIRECT_REFUSED');
  await assert.rejects(exchangeCode(METADATA, CLIENT, { code: 'code-0123456789', codeVerifier: 'v'.repeat(43) }), { code: 'REDIRECT_REFUSED' });
  assert.equal(posted, 0);
});

test('users/me lives at the tenant origin, whatever path the issuer has', async () => {
  const { usersMeEndpoint } = await import('../src/3.1-discovery.ts');
  assert.equal(usersMeEndpoint('https://acme.eu.qlikcloud.com'), 'https://acme.eu.qlikcloud.com/api/v1/users/me');
  assert.equal(usersMeEndpoint('https://op.example/api/oidc'), 'https://op.example/api/v1/users/me');
});
