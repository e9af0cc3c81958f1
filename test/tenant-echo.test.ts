// A tenant that repeats what it was sent must not get it into a message, a hint, a page or a log:
// an answer that is not a success loses every secret of its own request in httpRequest().
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { exchangeCode } from '../src/3.3-token.ts';
import { getCurrentUser } from '../src/3.4-api.ts';
import { revokeToken } from '../src/lifecycle.ts';
import { QlikOAuthError } from '../src/errors.ts';
import type { HttpExchange } from '../src/http.ts';
import { CLIENT, METADATA, mockTenant } from './helpers/tenant.ts';
import { TenantError } from '../src/tenant-error.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

const CODE = 'code-abcdefghijklmnop';
const VERIFIER = 'v'.repeat(43);
const TOKEN = 'at-live-token-0123456789';

test('a token error whose description repeats the code, the verifier and the client secret shows none of them', async () => {
  server.use(
    http.post(METADATA.tokenEndpoint, async ({ request }) => {
      const form = new URLSearchParams(await request.text());
      const echo = `bad code ${form.get('code')} for secret ${form.get('client_secret')} and ${form.get('code_verifier')}`;
      return HttpResponse.json({ error: 'invalid_grant', error_description: echo }, { status: 400 });
    }),
  );
  const exchanges: HttpExchange[] = [];
  await assert.rejects(exchangeCode(METADATA, CLIENT, { code: CODE, codeVerifier: VERIFIER }, { onExchange: (e) => exchanges.push(e) }), (e: unknown) => {
    assert.ok(e instanceof TenantError);
    const shown = [e.message, e.hint, JSON.stringify(e.tenantError), exchanges[0]!.result?.body].join(' ');
    for (const secret of [CODE, VERIFIER, CLIENT.clientSecret]) assert.ok(!shown.includes(secret), `${secret} leaked: ${shown}`);
    assert.match(e.message, /bad code \[redacted\] for secret \[redacted\]/);
    return true;
  });
});

test('a 403 whose challenge repeats the bearer token: not in the message, the parsed challenge, nor the exchange', async () => {
  server.use(
    http.get(METADATA.usersMeEndpoint, ({ request }) =>
      new HttpResponse(null, { status: 403, headers: { 'www-authenticate': `Bearer error="insufficient_scope", error_description="token ${request.headers.get('authorization')} lacks scope"` } }),
    ),
  );
  const exchanges: HttpExchange[] = [];
  await assert.rejects(getCurrentUser(METADATA, TOKEN, { onExchange: (e) => exchanges.push(e) }), (e: unknown) => {
    assert.ok(e instanceof TenantError && e.code === 'API_FORBIDDEN');
    const shown = [e.message, e.hint, JSON.stringify(e.wwwAuthenticate), JSON.stringify(Object.fromEntries(exchanges[0]!.result!.headers))].join(' ');
    assert.ok(!shown.includes(TOKEN), shown);
    return true;
  });
});

test('a revocation error that names the refresh token it was asked to revoke does not show it', async () => {
  const refresh = `rt-${'x'.repeat(900)}`;
  server.use(http.post(`${METADATA.revocationEndpoint}`, async ({ request }) => HttpResponse.json({ error: 'invalid_request', error_description: `unknown ${new URLSearchParams(await request.text()).get('token')}` }, { status: 400 })));
  await assert.rejects(revokeToken(METADATA, CLIENT, { token: refresh, hint: 'refresh_token' }), (e: unknown) => e instanceof QlikOAuthError && e.code === 'REVOKE_FAILED' && !e.message.includes(refresh.slice(0, 40)));
});

test('a success is never scrubbed: a refresh answer that repeats the refresh token (no rotation) keeps it', async () => {
  const { refreshTokens } = await import('../src/lifecycle.ts');
  server.use(http.post(METADATA.tokenEndpoint, async ({ request }) => HttpResponse.json({ access_token: 'at-new-0123456789', token_type: 'bearer', refresh_token: new URLSearchParams(await request.text()).get('refresh_token') })));
  const tokens = { accessToken: 'at', tokenType: 'bearer' as const, expiresAt: undefined, lifetimeMs: undefined, refreshToken: 'rt-same-0123456789', scope: undefined };
  assert.equal((await refreshTokens(METADATA, CLIENT, tokens)).refreshToken, 'rt-same-0123456789');
});

test('with client_secret_basic, a tenant that echoes the decoded secret, form-encoded or JSON-escaped, shows none of it', async () => {
  const secret = 'sec ret+/with"quote';
  server.use(http.post(METADATA.tokenEndpoint, () => HttpResponse.json({ error: 'invalid_client', error_description: `no ${secret} / ${encodeURIComponent(secret)}` }, { status: 401 })));
  await assert.rejects(exchangeCode(METADATA, { ...CLIENT, clientSecret: secret, authMethod: 'client_secret_basic' }, { code: CODE, codeVerifier: VERIFIER }), (e: unknown) => {
    assert.ok(e instanceof TenantError);
    assert.ok(!e.message.includes(secret) && !e.message.includes(encodeURIComponent(secret)), e.message);
    return true;
  });
});

test('httpRequest scrubs the secrets its caller names, in any header and the body, and nothing else', async () => {
  const { httpRequest } = await import('../src/http.ts');
  const secret = 'named-secret-0123456789';
  server.use(http.post(METADATA.tokenEndpoint, () => HttpResponse.json({ error: 'invalid_request', error_description: `${secret} for client-id-visible` }, { status: 400, headers: { 'x-echo': secret } })));
  const result = await httpRequest({ method: 'POST', url: METADATA.tokenEndpoint, body: 'x=1', secrets: [secret, 'short'] });
  assert.equal(JSON.parse(result.body).error_description, '[redacted] for client-id-visible');
  assert.equal(result.headers.get('x-echo'), '[redacted]');
});

test('httpRequest always scrubs the credentials of an Authorization header, named or not', async () => {
  const { httpRequest } = await import('../src/http.ts');
  server.use(http.get(METADATA.usersMeEndpoint, ({ request }) => new HttpResponse(`no ${request.headers.get('authorization')}`, { status: 401, headers: { 'www-authenticate': `Bearer error_description="${TOKEN} expired"` } })));
  const result = await httpRequest({ method: 'GET', url: METADATA.usersMeEndpoint, headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.ok(!result.body.includes(TOKEN) && !result.headers.get('www-authenticate')!.includes(TOKEN), result.body);
});

test('a client assertion and a subject token (JSON body) are named as secrets by the token request', async () => {
  const { clientPost } = await import('../src/client.ts');
  const assertion = `eyJ${'a'.repeat(60)}`;
  const subject = `st-${'s'.repeat(30)}`;
  server.use(http.post(METADATA.tokenEndpoint, async ({ request }) => HttpResponse.json({ error: 'invalid_grant', error_description: await request.text() }, { status: 400 })));
  const result = await clientPost(METADATA, { clientId: 'm2m', assertion: () => assertion }, METADATA.tokenEndpoint, { grant_type: 'x', subject_token: subject }, {}, true);
  assert.ok(!result.body.includes(assertion) && !result.body.includes(subject), result.body);
  assert.match(result.body, /m2m/, 'the client id is no secret: it stays');
});
