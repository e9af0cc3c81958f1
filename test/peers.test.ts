// Cases from the peers' own test suites (panva/oauth4webapi, panva/openid-client, golang/oauth2)
// where this client once differed from them and the RFC sides with them. Each title names the
// peer's case.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { discover, expectedIssuer, metadataUrls, processDiscoveryResponse } from '../src/3.1-discovery.ts';
import { exchangeCode } from '../src/3.3-token.ts';
import { parseWwwAuthenticate } from '../src/3.4-api.ts';
import { refreshTokens } from '../src/lifecycle.ts';
import { clientCredentialsToken } from '../src/machine.ts';
import { QlikOAuthError } from '../src/errors.ts';
import { CLIENT, METADATA, mockTenant, qlikMetadataDocument, result } from './helpers/tenant.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

test('oauth4webapi discovery "issuer with a path and a trailing slash": https://op.example/path/ is kept to the letter (RFC 8414 §3.3)', () => {
  const issuer = 'https://op.example/path/';
  assert.equal(expectedIssuer(issuer), issuer);
  assert.deepEqual(metadataUrls(issuer), ['https://op.example/.well-known/oauth-authorization-server/path', 'https://op.example/path/.well-known/openid-configuration']);
  const metadata = processDiscoveryResponse(result(200, { ...qlikMetadataDocument('https://op.example/path'), issuer }), issuer);
  assert.equal(metadata.issuer, issuer);
  // …and the issuer without the slash is another issuer.
  assert.throws(() => processDiscoveryResponse(result(200, { ...qlikMetadataDocument('https://op.example/path'), issuer: 'https://op.example/path' }), issuer), { code: 'ISSUER_MISMATCH' });
});

test('a bare tenant address keeps forgiving its slash: https://acme.eu.qlikcloud.com/ names the issuer https://acme.eu.qlikcloud.com', async () => {
  assert.equal(expectedIssuer('https://acme.eu.qlikcloud.com/'), 'https://acme.eu.qlikcloud.com');
  server.use(http.get('http://127.0.0.1:9/.well-known/oauth-authorization-server', () => HttpResponse.json(qlikMetadataDocument())));
  assert.equal((await discover('http://127.0.0.1:9/')).issuer, 'http://127.0.0.1:9');
});

test('openid-client "metadata without token_endpoint": exchangeCode, refreshTokens and clientCredentialsToken fail with a named error, not a TypeError', async () => {
  const metadata = { ...METADATA, tokenEndpoint: undefined as unknown as string };
  const tokens = { accessToken: 'at', tokenType: 'bearer' as const, expiresAt: undefined, lifetimeMs: undefined, refreshToken: 'rt-0123456789', scope: undefined };
  const named = (e: unknown) => e instanceof QlikOAuthError && e.code === 'INSECURE_URL' && /not an absolute URL/.test(e.message);
  await assert.rejects(exchangeCode(metadata, CLIENT, { code: 'c', codeVerifier: 'v'.repeat(43) }), named);
  await assert.rejects(refreshTokens(metadata, CLIENT, tokens), named);
  await assert.rejects(clientCredentialsToken(metadata, CLIENT), named);
});

// RFC 9110 §11.3: challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]; §5.6.1.2: a recipient
// MUST parse and ignore a reasonable number of empty list elements. The inputs are oauth4webapi's.
const challenges: [string, Record<string, string>][] = [
  ['Scheme , realm="foo"', { realm: 'foo' }],
  [',Scheme realm="basic"', { realm: 'basic' }],
  ['Scheme realm="foo", bar="xyz",, a=b,,,c=d', { realm: 'foo', bar: 'xyz', a: 'b', c: 'd' }],
  ['Bearer realm="foo",', { realm: 'foo' }],
  ['Bearer   realm =   "something"   ,error="bad_token" ,  error_description = " spaced "', { realm: 'something', error: 'bad_token', error_description: ' spaced ' }],
  ['Basic dGVzdA==', {}],
  ['Bearer error=', {}],
  ['Negotiate abc123==, Basic realm="test"', {}],
  ['Bearer error="invalid_token", error_description="The token was \\"tampered\\"", Basic realm="simple"', { error: 'invalid_token', error_description: 'The token was "tampered"' }],
  ['Scheme foo="realm=nottherealm", realm="basic"', { foo: 'realm=nottherealm', realm: 'basic' }],
  ['SCHEME REALM="foo"', { realm: 'foo' }],
];
for (const [header, params] of challenges) {
  test(`oauth4webapi www_authenticate ${JSON.stringify(header)}: RFC 9110 §11.3, §5.6.1.2`, () => {
    assert.deepEqual(parseWwwAuthenticate(header), params);
  });
}

test('golang/oauth2 "expires_in 0" and oauth4webapi "huge expires_in": unknown, and capped (tests in test/3-token.test.ts)', async () => {
  const { processTokenResponse } = await import('../src/3.3-token.ts');
  const zero = processTokenResponse(result(200, { access_token: 'a', token_type: 'bearer', expires_in: 0 }), 0);
  assert.equal(zero.expiresAt, undefined);
  const huge = processTokenResponse(result(200, { access_token: 'a', token_type: 'bearer', expires_in: 1e308 }), 0);
  assert.ok(Number.isFinite(huge.expiresAt));
});
