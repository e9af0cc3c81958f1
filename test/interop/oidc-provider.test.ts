// Interop: the step modules against an OAuth server we did not write — panva's oidc-provider, a
// certified, RFC-strict implementation — on 127.0.0.1. The sandbox shares our assumptions; this
// server does not. It serves both well-known documents, lists every auth method it supports, sends
// `iss` on the callback (RFC 9207) and advertises it, requires PKCE S256, and its clients pick ONE
// token endpoint auth method each (a Basic-only client refuses client_secret_post).
//
// Its own login and consent pages (devInteractions) are driven with fetch and a cookie jar.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { discover, type TenantMetadata } from '../../src/3.1-discovery.ts';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from '../../src/3.2-authorize.ts';
import { exchangeCode, validateCallback, type TokenSet } from '../../src/3.3-token.ts';
import { closeSession, refreshSession, type QlikSession } from '../../src/lifecycle.ts';
import type { ClientConfig } from '../../src/client.ts';
import type { HttpExchange } from '../../src/http.ts';
import { QlikOAuthError } from '../../src/errors.ts';
import { clientCredentialsToken } from '../../src/machine.ts';
import { privateKeyJwt } from '../../src/private-key-jwt.ts';
import { generateKeyPairSync } from 'node:crypto';
import { TenantError } from '../../src/tenant-error.ts';

const REDIRECT_URI = 'http://127.0.0.1:1/login/callback';
const SCOPE = 'openid offline_access';
let server: Server;
let issuer: string;

const clients: Record<string, ClientConfig & { method: string }> = {
  basic: { clientId: 'interop-basic', clientSecret: 'interop-basic-secret-0123456789', redirectUri: REDIRECT_URI, method: 'client_secret_basic', authMethod: 'client_secret_basic' },
  post: { clientId: 'interop-post', clientSecret: 'interop-post-secret-0123456789', redirectUri: REDIRECT_URI, method: 'client_secret_post' },
  public: { clientId: 'interop-public', redirectUri: REDIRECT_URI, method: 'none' },
};

// A machine client that proves itself with a key (RFC 7523 §2.2): the provider holds its public key.
const jwtKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const JWT_CLIENT = 'interop-jwt';

before(async () => {
  // Port first, then the issuer: oidc-provider needs its own URL up front.
  const probe = (await import('node:net')).createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      ...Object.values(clients).map((c) => ({
        client_id: c.clientId,
        ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: c.method,
      })),
      { client_id: JWT_CLIENT, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...jwtKey.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'ES256' }] }, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
    ],
    pkce: { required: () => true },
    features: { revocation: { enabled: true }, devInteractions: { enabled: true }, clientCredentials: { enabled: true } },
    // Refresh tokens for every client that asks for offline_access (the default also wants prompt=consent).
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
  });
  provider.on('server_error', () => {});
  server = provider.listen(port, '127.0.0.1');
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A browser for the provider's own pages: cookies kept, redirects followed by hand until the redirect URI. */
async function signInAtProvider(authorizationUrl: URL): Promise<string> {
  const jar = new Map<string, string>();
  const send = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      jar.set(name!.trim(), value.join('='));
    }
    return response;
  };
  let url = authorizationUrl.href;
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(REDIRECT_URI)) return url;
    const response = await send(url);
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      continue;
    }
    // A devInteractions page: a login form (login + password) or a consent form. Submit it.
    const page = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    assert.ok(action, `a form on ${url}: ${page.slice(0, 300)}`);
    const fields = new URLSearchParams();
    for (const [input] of page.matchAll(/<input[^>]*>/g)) {
      const name = /name="([^"]+)"/.exec(input)?.[1];
      if (name) fields.set(name, /value="([^"]*)"/.exec(input)?.[1] ?? '');
    }
    if (fields.has('login')) fields.set('login', 'ada');
    if (fields.has('password')) fields.set('password', 'any');
    const posted = await send(new URL(action, url).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields });
    const next = posted.headers.get('location');
    assert.ok(next, `the provider answered the form on ${url} with ${posted.status}: ${(await posted.text()).slice(0, 300)}`);
    url = new URL(next, url).href;
  }
  throw new Error('too many hops at the provider');
}

async function signIn(metadata: TenantMetadata, client: ClientConfig, exchanges: { url: string; authorization?: string; body?: string }[] = []) {
  const codeVerifier = createCodeVerifier();
  const state = createState();
  const url = buildAuthorizationUrl(metadata, client, { scope: SCOPE, state, codeChallenge: codeChallengeS256(codeVerifier) });
  const callback = await signInAtProvider(url);
  const { code } = validateCallback(callback, { expectedState: state, issuer: metadata.issuer, issRequired: metadata.issParameterSupported });
  const record = { onExchange: ({ request }: HttpExchange) => exchanges.push({ url: request.url, authorization: request.headers.authorization, body: request.body }) };
  return { tokens: await exchangeCode(metadata, client, { code, codeVerifier }, record), callback };
}

test('discovery: the documented RFC 8414 document is read; iss support and the auth methods are taken from it', async () => {
  const metadata = await discover(issuer);
  assert.equal(metadata.issuer, issuer);
  assert.equal(metadata.issParameterSupported, true);
  assert.ok(metadata.tokenEndpointAuthMethods.includes('client_secret_basic'));
  assert.ok(metadata.revocationEndpoint);
});

for (const kind of ['basic', 'post', 'public'] as const) {
  test(`a whole sign-in with a ${clients[kind]!.method} client: code + PKCE, iss checked, refresh, revoke`, async () => {
    const metadata = await discover(issuer);
    const client = clients[kind]!;
    const exchanges: { url: string; authorization?: string; body?: string }[] = [];
    const { tokens, callback } = await signIn(metadata, client, exchanges);
    assert.ok(new URL(callback).searchParams.get('iss'), 'the provider sent iss, and validateCallback checked it');
    assert.ok(tokens.accessToken.length > 10);
    assert.ok(tokens.refreshToken, 'offline_access gave a refresh token');
    assert.ok(tokens.lifetimeMs! > 0);
    // On the wire: the secret only where the client's method puts it; a public client sends none.
    const tokenRequest = exchanges[0]!;
    if (kind === 'basic') {
      assert.match(tokenRequest.authorization ?? '', /^Basic /);
      assert.doesNotMatch(tokenRequest.body ?? '', /client_secret/);
    } else {
      assert.equal(tokenRequest.authorization, undefined);
      assert.equal(/client_secret=/.test(tokenRequest.body ?? ''), kind === 'post');
    }

    const session: QlikSession = { metadata, client, tokens };
    const refreshed: TokenSet = await refreshSession(session, tokens.accessToken);
    assert.notEqual(refreshed.accessToken, tokens.accessToken);
    assert.ok(session.tokens!.refreshToken);
    assert.deepEqual(await closeSession(session), [], 'the provider revoked both tokens');
  });
}

test('a wrong client secret is refused by the provider as invalid_client, and the hint names the client only', async () => {
  const metadata = await discover(issuer);
  for (const client of [clients.basic!, clients.post!]) {
    const wrongSecret = { ...client, clientSecret: 'not-the-secret-0123456789' };
    await assert.rejects(signIn(metadata, wrongSecret), (e: unknown) => {
      assert.ok(e instanceof TenantError, String(e));
      assert.equal(e.tenantError?.code, 'invalid_client');
      assert.match(e.hint, /client ID and client secret/);
      assert.doesNotMatch(`${e.message} ${e.hint}`, /not-the-secret/);
      return true;
    });
  }
});

test('a tampered state never reaches the provider\'s token endpoint (STATE_MISMATCH)', async () => {
  const metadata = await discover(issuer);
  const codeVerifier = createCodeVerifier();
  const url = buildAuthorizationUrl(metadata, clients.post!, { scope: SCOPE, state: createState(), codeChallenge: codeChallengeS256(codeVerifier) });
  const callback = await signInAtProvider(url);
  assert.throws(() => validateCallback(callback, { expectedState: createState(), issuer: metadata.issuer, issRequired: true }), (e: unknown) => e instanceof QlikOAuthError && e.code === 'STATE_MISMATCH');
});

test('a callback naming another issuer is refused before the code is used (ISS_MISMATCH)', async () => {
  const metadata = await discover(issuer);
  const state = createState();
  const url = buildAuthorizationUrl(metadata, clients.post!, { scope: SCOPE, state, codeChallenge: codeChallengeS256(createCodeVerifier()) });
  const callback = new URL(await signInAtProvider(url));
  callback.searchParams.set('iss', 'http://127.0.0.1:9');
  assert.throws(() => validateCallback(callback, { expectedState: state, issuer: metadata.issuer, issRequired: true }), (e: unknown) => e instanceof QlikOAuthError && e.code === 'ISS_MISMATCH');
});

test('private key JWT (RFC 7523 §2.2): a client_credentials grant with a signed assertion is accepted; one signed with another key is not', async () => {
  const metadata = await discover(issuer);
  const sent: string[] = [];
  const tokens = await clientCredentialsToken(metadata, { clientId: JWT_CLIENT, assertion: privateKeyJwt(JWT_CLIENT, jwtKey.privateKey, 'k1') }, {}, { onExchange: (e) => sent.push(e.request.body ?? '') });
  assert.ok(tokens.accessToken.length > 10);
  const form = new URLSearchParams(sent[0]);
  assert.equal(form.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  assert.equal(form.get('client_secret'), null, 'no secret beside the assertion');
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  await assert.rejects(clientCredentialsToken(metadata, { clientId: JWT_CLIENT, assertion: privateKeyJwt(JWT_CLIENT, otherKey, 'k1') }), (e: unknown) => e instanceof TenantError && e.status === 401);
});
