import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { discover, expectedIssuer, processDiscoveryResponse, DISCOVERY_CHECKS } from '../src/3.1-discovery.ts';
import { QlikOAuthError } from '../src/errors.ts';
import { type CheckCode } from '../src/checks.ts';
import { TENANT, mockTenant, qlikMetadataDocument, result } from './helpers/tenant.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

const OIDC = `${TENANT}/.well-known/openid-configuration`;
const RFC8414 = `${TENANT}/.well-known/oauth-authorization-server`;

function serveMetadata(doc: Record<string, unknown>, path = RFC8414) {
  server.use(http.get(path, () => HttpResponse.json(doc)));
}

/** Runs processDiscoveryResponse on a Qlik document with some fields changed. */
function processWith(changes: Record<string, unknown>) {
  return processDiscoveryResponse(result(200, { ...qlikMetadataDocument(), ...changes }), TENANT);
}

function throwsCode(fn: () => unknown, code: CheckCode) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof QlikOAuthError, String(e));
    assert.equal(e.code, code);
    assert.ok(e.hint.length > 0, 'every error says what to do next');
    return true;
  });
}

test('discover() reads Qlik\'s document, as documented, and adds /api/v1/users/me', async () => {
  serveMetadata(qlikMetadataDocument());
  const metadata = await discover(TENANT);
  assert.equal(metadata.issuer, TENANT);
  assert.equal(metadata.authorizationEndpoint, `${TENANT}/oauth/authorize`);
  assert.equal(metadata.tokenEndpoint, `${TENANT}/oauth/token`);
  assert.equal(metadata.revocationEndpoint, `${TENANT}/oauth/revoke`);
  assert.equal(metadata.usersMeEndpoint, `${TENANT}/api/v1/users/me`);
  assert.equal(metadata.issParameterSupported, false);
});

test('discover() forgives a trailing slash on the configured tenant URL', async () => {
  serveMetadata(qlikMetadataDocument());
  const metadata = await discover(`${TENANT}/`);
  assert.equal(metadata.issuer, TENANT);
});

test('discover() asks the documented RFC 8414 path first, and stops there when it answers metadata', async () => {
  let tutorialAsked = false;
  server.use(http.get(OIDC, () => { tutorialAsked = true; return HttpResponse.json(qlikMetadataDocument()); }));
  serveMetadata(qlikMetadataDocument(), RFC8414);
  const heard: string[] = [];
  await discover(TENANT, { onExchange: (exchange) => heard.push(exchange.request.url) });
  assert.deepEqual(heard, [RFC8414]);
  assert.equal(tutorialAsked, false);
});

for (const [what, answer] of [
  ['a 404', () => new HttpResponse('not found', { status: 404 })],
  ['a 401', () => HttpResponse.json({ errors: [{ code: 'HTTP-401' }] }, { status: 401 })],
  ['a 403', () => new HttpResponse('forbidden', { status: 403 })],
  ['a 500', () => new HttpResponse('oops', { status: 500 })],
  ['a redirect to a login page', () => HttpResponse.redirect(`${TENANT}/login?returnto=x`, 302)],
  ['an HTML page with 200', () => new HttpResponse('<!doctype html><title>Sign in</title>', { status: 200, headers: { 'content-type': 'text/html' } })],
  ['broken JSON', () => new HttpResponse('{"issuer":', { status: 200, headers: { 'content-type': 'application/json' } })],
  ['JSON without an issuer', () => HttpResponse.json({ hello: 'world' })],
] as const) {
  test(`discover() falls back to the tutorial's openid-configuration on ${what} at the documented path; both show in the transcript`, async () => {
    server.use(http.get(RFC8414, answer));
    server.use(http.get(OIDC, () => HttpResponse.json(qlikMetadataDocument())));
    const heard: string[] = [];
    const metadata = await discover(TENANT, { onExchange: (exchange) => heard.push(exchange.request.url) });
    assert.equal(metadata.tokenEndpoint, `${TENANT}/oauth/token`);
    assert.deepEqual(heard, [RFC8414, OIDC]);
  });
}

test('discover() puts RFC 8414\'s well-known part before an issuer\'s path (§3.1)', async () => {
  const issuer = `${TENANT}/tenant-a`;
  server.use(http.get(`${TENANT}/.well-known/oauth-authorization-server/tenant-a`, () => HttpResponse.json(qlikMetadataDocument(issuer))));
  assert.equal((await discover(issuer)).issuer, issuer);
});

test('discover() does not fall back from metadata that fails a check: another issuer is final', async () => {
  let fallbackCalled = false;
  server.use(
    http.get(RFC8414, () => HttpResponse.json(qlikMetadataDocument('https://evil.example.com'))),
    http.get(OIDC, () => { fallbackCalled = true; return HttpResponse.json(qlikMetadataDocument()); }),
  );
  await assert.rejects(discover(TENANT), { code: 'ISSUER_MISMATCH' });
  assert.equal(fallbackCalled, false);
});

test('discover() does not fall back when the tenant cannot be reached (no second wait)', async () => {
  let fallbackCalled = false;
  server.use(
    http.get(RFC8414, () => HttpResponse.error()),
    http.get(OIDC, () => { fallbackCalled = true; return HttpResponse.json(qlikMetadataDocument()); }),
  );
  await assert.rejects(discover(TENANT), { code: 'NETWORK_ERROR' });
  assert.equal(fallbackCalled, false);
});

test('DISCOVERY_FAILED: neither path answers metadata; the error names both URLs and what each answered', async () => {
  server.use(
    http.get(RFC8414, () => new HttpResponse(null, { status: 404 })),
    http.get(OIDC, () => HttpResponse.redirect(`${TENANT}/login`, 302)),
  );
  await assert.rejects(discover(TENANT), (e: QlikOAuthError) => {
    assert.equal(e.code, 'DISCOVERY_FAILED');
    assert.ok(e.message.includes(`${RFC8414} → HTTP 404`), e.message);
    assert.ok(e.message.includes(`${OIDC} →`) && /redirect/.test(e.message), e.message);
    return true;
  });
});

test('REDIRECT_REFUSED: a redirect from the well-known URL is not followed', async () => {
  let followed = false;
  server.use(
    http.get(RFC8414, () => HttpResponse.redirect('http://127.0.0.1:9/login', 302)),
    http.get(OIDC, () => HttpResponse.redirect('http://127.0.0.1:9/login', 302)),
    http.get('http://127.0.0.1:9/login', () => { followed = true; return HttpResponse.json(qlikMetadataDocument()); }),
  );
  const heard: (string | undefined)[] = [];
  await assert.rejects(discover(TENANT, { onExchange: (exchange) => heard.push(exchange.error?.code) }), { code: 'DISCOVERY_FAILED' });
  assert.deepEqual(heard, ['REDIRECT_REFUSED', 'REDIRECT_REFUSED']);
  assert.equal(followed, false);
});

test('TENANT_URL_INVALID: not a URL, or a URL with a query, fragment or credentials', () => {
  for (const url of ['acme.eu.qlikcloud.com', '', 'https://acme.eu.qlikcloud.com/?x=1', 'https://acme.eu.qlikcloud.com/#a', 'https://u:p@acme.eu.qlikcloud.com', 'https://:secret@acme.eu.qlikcloud.com']) {
    throwsCode(() => expectedIssuer(url), 'TENANT_URL_INVALID');
  }
});

test('TENANT_URL_NOT_HTTPS: http tenants are refused, loopback excepted', () => {
  throwsCode(() => expectedIssuer('http://acme.eu.qlikcloud.com'), 'TENANT_URL_NOT_HTTPS');
  throwsCode(() => expectedIssuer('ftp://acme.eu.qlikcloud.com'), 'TENANT_URL_NOT_HTTPS');
  throwsCode(() => expectedIssuer('http://localhost.evil.example'), 'TENANT_URL_NOT_HTTPS');
  throwsCode(() => expectedIssuer('ftp://localhost:2121'), 'TENANT_URL_NOT_HTTPS'); // loopback may use http, nothing else
  assert.equal(expectedIssuer('https://acme.eu.qlikcloud.com/'), 'https://acme.eu.qlikcloud.com');
  assert.equal(expectedIssuer('http://localhost:8080'), 'http://localhost:8080');
  assert.equal(expectedIssuer('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080');
});

test('TENANT_URL_NOT_HTTPS: discover() sends nothing to an http tenant', async () => {
  // msw is set to fail on any unhandled request: a request here would surface as NETWORK_ERROR.
  await assert.rejects(discover('http://acme.eu.qlikcloud.com'), { code: 'TENANT_URL_NOT_HTTPS' });
});

test('DISCOVERY_HTTP_STATUS: only 200 is metadata', () => {
  throwsCode(() => processDiscoveryResponse(result(201, qlikMetadataDocument()), TENANT), 'DISCOVERY_HTTP_STATUS');
});

test('NOT_JSON / JSON_INVALID / JSON_NOT_OBJECT: the document must be a JSON object', () => {
  throwsCode(() => processDiscoveryResponse(result(200, '<html></html>', { 'content-type': 'text/html' }), TENANT), 'NOT_JSON');
  throwsCode(() => processDiscoveryResponse(result(200, '{"issuer":', { 'content-type': 'application/json' }), TENANT), 'JSON_INVALID');
  throwsCode(() => processDiscoveryResponse(result(200, [qlikMetadataDocument()]), TENANT), 'JSON_NOT_OBJECT');
});

test('ISSUER_MISMATCH: another tenant, a trailing slash, letter case, a missing issuer', () => {
  throwsCode(() => processWith({ issuer: 'http://127.0.0.1:10' }), 'ISSUER_MISMATCH');
  throwsCode(() => processWith({ issuer: `${TENANT}/` }), 'ISSUER_MISMATCH');
  throwsCode(() => processDiscoveryResponse(result(200, qlikMetadataDocument('https://acme.eu.qlikcloud.com')), 'https://ACME.eu.qlikcloud.com'), 'ISSUER_MISMATCH');
  throwsCode(() => processDiscoveryResponse(result(200, qlikMetadataDocument('https://ACME.eu.qlikcloud.com')), 'https://acme.eu.qlikcloud.com'), 'ISSUER_MISMATCH');
  throwsCode(() => processWith({ issuer: undefined }), 'ISSUER_MISMATCH');
});

test('ENDPOINT_MISSING: no authorization_endpoint, or no token_endpoint', () => {
  throwsCode(() => processWith({ authorization_endpoint: undefined }), 'ENDPOINT_MISSING');
  throwsCode(() => processWith({ token_endpoint: '' }), 'ENDPOINT_MISSING');
  throwsCode(() => processWith({ token_endpoint: 42 }), 'ENDPOINT_MISSING');
});

test('a missing revocation_endpoint is fine (it is optional)', () => {
  assert.equal(processWith({ revocation_endpoint: undefined }).revocationEndpoint, undefined);
});

test('ENDPOINT_INVALID: a relative endpoint', () => {
  throwsCode(() => processWith({ token_endpoint: '/oauth/token' }), 'ENDPOINT_INVALID');
  throwsCode(() => processWith({ revocation_endpoint: 'oauth/revoke' }), 'ENDPOINT_INVALID');
});

test('ENDPOINT_NOT_HTTPS: an http endpoint on a real host', () => {
  const doc = qlikMetadataDocument('https://acme.eu.qlikcloud.com');
  const process = (changes: Record<string, unknown>) =>
    processDiscoveryResponse(result(200, { ...doc, ...changes }), 'https://acme.eu.qlikcloud.com');
  assert.equal(process({}).tokenEndpoint, 'https://acme.eu.qlikcloud.com/oauth/token');
  throwsCode(() => process({ token_endpoint: 'http://acme.eu.qlikcloud.com/oauth/token' }), 'ENDPOINT_NOT_HTTPS');
  throwsCode(() => process({ authorization_endpoint: 'http://acme.eu.qlikcloud.com/oauth/authorize' }), 'ENDPOINT_NOT_HTTPS');
  throwsCode(() => process({ revocation_endpoint: 'javascript:alert(1)' }), 'ENDPOINT_NOT_HTTPS');
});

test('S256_NOT_SUPPORTED: a listed code_challenge_methods_supported without S256', () => {
  throwsCode(() => processWith({ code_challenge_methods_supported: ['plain'] }), 'S256_NOT_SUPPORTED');
  throwsCode(() => processWith({ code_challenge_methods_supported: 'S256' }), 'S256_NOT_SUPPORTED');
  assert.ok(processWith({ code_challenge_methods_supported: ['plain', 'S256'] }));
  assert.ok(processWith({ code_challenge_methods_supported: [] }), 'an empty list says nothing');
});

test('CODE_FLOW_NOT_SUPPORTED: a non-empty response_types_supported without code', () => {
  throwsCode(() => processWith({ response_types_supported: ['token'] }), 'CODE_FLOW_NOT_SUPPORTED');
  assert.ok(processWith({ response_types_supported: ['code'] }));
  assert.ok(processWith({ response_types_supported: [] }), 'Qlik sends it empty');
});

test('AUTH_METHOD_NOT_SUPPORTED: a listed token_endpoint_auth_methods_supported with none of post, basic, private_key_jwt, none', () => {
  assert.ok(processWith({ token_endpoint_auth_methods_supported: ['private_key_jwt'] }), 'a client with a key can use it');
  throwsCode(() => processWith({ token_endpoint_auth_methods_supported: ['tls_client_auth', 'client_secret_jwt'] }), 'AUTH_METHOD_NOT_SUPPORTED');
  assert.deepEqual(processWith({ token_endpoint_auth_methods_supported: ['client_secret_basic'] }).tokenEndpointAuthMethods, ['client_secret_basic']);
  assert.ok(processWith({ token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'] }));
  assert.deepEqual(processWith({ token_endpoint_auth_methods_supported: undefined }).tokenEndpointAuthMethods, []);
});

test('issParameterSupported follows authorization_response_iss_parameter_supported (RFC 9207 §3)', () => {
  assert.equal(processWith({ authorization_response_iss_parameter_supported: true }).issParameterSupported, true);
  assert.equal(processWith({ authorization_response_iss_parameter_supported: 'true' }).issParameterSupported, false);
});

test('onCheck hears every discovery check once the document passes', async () => {
  serveMetadata(qlikMetadataDocument());
  const heard: string[] = [];
  await discover(TENANT, { onCheck: (check, passed) => heard.push(`${check.code}:${passed}`) });
  for (const code of Object.keys(DISCOVERY_CHECKS).filter((code) => code !== 'DISCOVERY_FAILED')) assert.ok(heard.includes(`${code}:true`), code);
});

test('onCheck hears each check of a metadata response once it holds, in the order the code makes them', () => {
  const heard: string[] = [];
  processDiscoveryResponse(result(200, qlikMetadataDocument()), TENANT, { onCheck: (check) => heard.push(check.code) });
  const order = ['DISCOVERY_HTTP_STATUS', 'NOT_JSON', 'JSON_INVALID', 'JSON_NOT_OBJECT', ...Object.keys(DISCOVERY_CHECKS).slice(4)];
  assert.deepEqual([...new Set(heard)], order);
});
