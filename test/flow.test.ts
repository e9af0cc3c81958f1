// The four tutorial steps in a row against a mocked Qlik tenant: what the tenant receives at each
// step, and that the steps hand each other the right values.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState, discover, exchangeCode, getCurrentUser, validateCallback, type HttpExchange } from '../src/index.ts';
import { CLIENT, QLIK_USER, TENANT, mockTenant, qlikMetadataDocument } from './helpers/tenant.ts';

const server = mockTenant();
after(() => server.close());

test('3.1 → 3.4: discover, authorize, callback + exchange, users/me', async () => {
  const issued = { code: 'qlik-code-abc', accessToken: 'qlik-at-xyz' };
  let challengeSent: string | undefined;
  const tokenRequests: URLSearchParams[] = [];
  server.use(
    http.get(`${TENANT}/.well-known/oauth-authorization-server`, () => HttpResponse.json(qlikMetadataDocument())),
    http.post(`${TENANT}/oauth/token`, async ({ request }) => {
      const form = new URLSearchParams(await request.text());
      tokenRequests.push(form);
      // What a real tenant checks: the code it issued, and the verifier matching the challenge.
      if (form.get('code') !== issued.code || codeChallengeS256(form.get('code_verifier')!) !== challengeSent) {
        return HttpResponse.json({ errors: [{ code: 'OAUTH-4', title: 'Invalid code_verifier' }] }, { status: 400 });
      }
      return HttpResponse.json({ access_token: issued.accessToken, token_type: 'bearer', expires_in: 21600, scope: 'user_default' });
    }),
    http.get(`${TENANT}/api/v1/users/me`, ({ request }) =>
      request.headers.get('authorization') === `Bearer ${issued.accessToken}`
        ? HttpResponse.json(QLIK_USER)
        : HttpResponse.json({ errors: [{ code: 'HTTP-401' }] }, { status: 401 }),
    ),
  );
  const exchanges: HttpExchange[] = [];
  const options = { onExchange: (e: HttpExchange) => exchanges.push(e) };

  // 3.1
  const metadata = await discover(TENANT, options);
  // 3.2
  const verifier = createCodeVerifier();
  const state = createState();
  const authUrl = buildAuthorizationUrl(metadata, CLIENT, { scope: 'user_default', state, codeChallenge: codeChallengeS256(verifier) });
  challengeSent = authUrl.searchParams.get('code_challenge')!;
  assert.ok(!authUrl.href.includes(verifier), 'the verifier never travels in the authorization URL');
  // (the user signs in; the tenant redirects back)
  const callbackUrl = `${CLIENT.redirectUri}?code=${issued.code}&state=${authUrl.searchParams.get('state')}&iss=${encodeURIComponent(TENANT)}`;
  // 3.3
  const { code } = validateCallback(callbackUrl, { expectedState: state, issuer: metadata.issuer, issRequired: metadata.issParameterSupported });
  const tokens = await exchangeCode(metadata, CLIENT, { code, codeVerifier: verifier }, options);
  assert.equal(tokenRequests.length, 1);
  assert.equal(tokenRequests[0]!.get('code_verifier'), verifier);
  // 3.4
  const user = await getCurrentUser(metadata, tokens.accessToken, options);
  assert.equal(user.name, QLIK_USER.name);

  // The whole conversation with the tenant, in order; no secret ever in a URL.
  assert.deepEqual(exchanges.map((e) => `${e.request.method} ${new URL(e.request.url).pathname} ${e.result?.status}`), [
    'GET /.well-known/oauth-authorization-server 200',
    'POST /oauth/token 200',
    'GET /api/v1/users/me 200',
  ]);
  for (const e of exchanges) {
    for (const secret of [CLIENT.clientSecret, verifier, issued.code, issued.accessToken]) assert.ok(!e.request.url.includes(secret));
  }
});
