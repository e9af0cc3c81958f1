// Hostile input, unit level: a tenant that answers discovery, the token request or the users API
// with something wrong, mocked with msw at the fetch boundary. Each case goes through the whole step
// (discover, exchangeCode, getCurrentUser: the request, src/http.ts, then the checks) and asserts the
// exact error class and code — and that no message carries the client secret or a token.
//
// The same misbehaviour through the running app: discovery-app.test.ts and tenant-app.test.ts.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse, delay } from 'msw';
import { discover, processDiscoveryResponse } from '../../src/3.1-discovery.ts';
import { exchangeCode } from '../../src/3.3-token.ts';
import { getCurrentUser } from '../../src/3.4-api.ts';
import { QlikOAuthError } from '../../src/errors.ts';
import { type CheckCode } from '../../src/checks.ts';
import { CLIENT, METADATA, QLIK_USER, TENANT, mockTenant, qlikMetadataDocument, result } from '../helpers/tenant.ts';
import { TenantError } from '../../src/tenant-error.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

type ErrorClass = new (...args: never[]) => QlikOAuthError;

/** The promise fails with exactly this class and code; the message and hint say something and hold no secret. */
async function failsWith<E extends QlikOAuthError>(promise: Promise<unknown>, kind: new (...args: never[]) => E, code: CheckCode): Promise<E> {
  const error = await promise.then(
    (value) => assert.fail(`expected ${kind.name} ${code}, got ${JSON.stringify(value).slice(0, 200)}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof (kind as ErrorClass), `expected ${kind.name}, got ${String(error)}`);
  assert.equal(error.constructor, kind, `exactly ${kind.name}`);
  assert.equal((error as QlikOAuthError).code, code, (error as Error).message);
  const { message, hint } = error as QlikOAuthError;
  assert.ok(message.length > 0 && hint.length > 0);
  for (const secret of [CLIENT.clientSecret, VERIFIER, ACCESS_TOKEN]) {
    assert.ok(!message.includes(secret) && !hint.includes(secret), 'no secret in the message or hint');
  }
  return error as E;
}

// ---------------------------------------------------------------- discovery

const RFC8414 = `${TENANT}/.well-known/oauth-authorization-server`;
const OIDC = `${TENANT}/.well-known/openid-configuration`;
const serveDocument = (changes: Record<string, unknown>, issuer = TENANT) =>
  server.use(http.get(`${issuer}/.well-known/oauth-authorization-server`, () => HttpResponse.json({ ...qlikMetadataDocument(issuer), ...changes })));
/** The same answer at both well-known paths: discovery falls back from one to the other. */
const atBothPaths = (resolver: Parameters<typeof http.get>[1]) => server.use(http.get(RFC8414, resolver), http.get(OIDC, resolver));

test('discovery: a document naming another issuer is refused (QlikOAuthError ISSUER_MISMATCH)', async () => {
  serveDocument({ issuer: 'https://evil.example' });
  const error = await failsWith(discover(TENANT), QlikOAuthError, 'ISSUER_MISMATCH');
  assert.match(error.message, /"https:\/\/evil\.example", but we asked "http:\/\/127\.0\.0\.1:9"/);
});

test('discovery: an issuer that differs only by a trailing slash is refused (ISSUER_MISMATCH)', async () => {
  serveDocument({ issuer: `${TENANT}/` });
  await failsWith(discover(TENANT), QlikOAuthError, 'ISSUER_MISMATCH');
});

test('discovery: an issuer that differs only in letter case is refused (ISSUER_MISMATCH)', async () => {
  const tenant = 'http://localhost:9';
  serveDocument({ issuer: 'http://LOCALHOST:9' }, tenant);
  await failsWith(discover(tenant), QlikOAuthError, 'ISSUER_MISMATCH');
});

test('discovery: an http token endpoint on a real host is refused (ENDPOINT_NOT_HTTPS)', async () => {
  serveDocument({ token_endpoint: 'http://acme.example/oauth/token' });
  const error = await failsWith(discover(TENANT), QlikOAuthError, 'ENDPOINT_NOT_HTTPS');
  assert.match(error.message, /token_endpoint "http:\/\/acme\.example\/oauth\/token"/);
});

test('discovery: an http authorization endpoint on a real host is refused (ENDPOINT_NOT_HTTPS)', async () => {
  serveDocument({ authorization_endpoint: 'http://acme.example/oauth/authorize' });
  await failsWith(discover(TENANT), QlikOAuthError, 'ENDPOINT_NOT_HTTPS');
});

test('discovery: an HTML page instead of the document is refused (QlikOAuthError NOT_JSON)', async () => {
  atBothPaths(() => HttpResponse.html('<!doctype html><title>Sign in</title>'));
  const error = await failsWith(discover(TENANT), QlikOAuthError, 'DISCOVERY_FAILED');
  assert.match(error.message, /text\/html.*not application\/json/);
});

test('discovery: a JSON array is refused (QlikOAuthError JSON_NOT_OBJECT)', async () => {
  atBothPaths(() => HttpResponse.json([qlikMetadataDocument()]));
  const error = await failsWith(discover(TENANT), QlikOAuthError, 'DISCOVERY_FAILED');
  assert.match(error.message, /JSON but not an object/);
});

test('discovery: truncated JSON is refused (QlikOAuthError JSON_INVALID)', async () => {
  atBothPaths(() => new HttpResponse('{"issuer":"http://127.0.0.1:9","authorization_', { headers: { 'content-type': 'application/json' } }));
  const error = await failsWith(discover(TENANT), QlikOAuthError, 'DISCOVERY_FAILED');
  assert.match(error.message, /not valid JSON/);
});

test('discovery: a document over the 1 MiB cap is not read (QlikOAuthError BODY_TOO_LARGE)', async () => {
  let chunks = 0;
  atBothPaths(
    () => {
      const stream = new ReadableStream({
        pull(controller) {
          chunks += 1;
          controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
          if (chunks === 200) controller.close(); // 12.5 MB if anyone read it all
        },
      });
      return new HttpResponse(stream, { headers: { 'content-type': 'application/json' } });
    },
  );
  const error = await failsWith(discover(TENANT), QlikOAuthError, 'DISCOVERY_FAILED');
  assert.match(error.message, /larger than 1048576 bytes/);
  assert.ok(chunks < 80, `stopped reading at the cap (${chunks} chunks of 64 KB were pulled)`);
});

test('discovery: a document without token_endpoint is refused (ENDPOINT_MISSING)', async () => {
  serveDocument({ token_endpoint: undefined });
  const error = await failsWith(discover(TENANT), QlikOAuthError, 'ENDPOINT_MISSING');
  assert.match(error.message, /no token_endpoint/);
});

test('discovery: a document without authorization_endpoint is refused (ENDPOINT_MISSING)', async () => {
  serveDocument({ authorization_endpoint: null });
  await failsWith(discover(TENANT), QlikOAuthError, 'ENDPOINT_MISSING');
});

test('discovery: code_challenge_methods_supported without S256 is refused (S256_NOT_SUPPORTED)', async () => {
  serveDocument({ code_challenge_methods_supported: ['plain'] });
  await failsWith(discover(TENANT), QlikOAuthError, 'S256_NOT_SUPPORTED');
});

test('discovery: a redirect from the well-known URL is refused and not followed (QlikOAuthError REDIRECT_REFUSED)', async () => {
  let followed = false;
  server.use(
    http.get(RFC8414, () => HttpResponse.redirect('http://127.0.0.2:9/.well-known/openid-configuration', 301)),
    http.get(OIDC, () => HttpResponse.redirect('http://127.0.0.2:9/.well-known/openid-configuration', 301)),
    http.get('http://127.0.0.2:9/.well-known/openid-configuration', () => {
      followed = true;
      return HttpResponse.json(qlikMetadataDocument('http://127.0.0.2:9'));
    }),
  );
  const error = await failsWith(discover(TENANT), QlikOAuthError, 'DISCOVERY_FAILED');
  assert.equal(followed, false);
  assert.match(error.message, /answered 301, a redirect to http:\/\/127\.0\.0\.2:9/);
});

test('discovery: a 500 at both paths is refused, each answer named (DISCOVERY_FAILED)', async () => {
  atBothPaths(() => new HttpResponse('<h1>oops</h1>', { status: 500, headers: { 'content-type': 'text/html' } }));
  const error = await failsWith(discover(TENANT), QlikOAuthError, 'DISCOVERY_FAILED');
  assert.match(error.message, /oauth-authorization-server → HTTP 500; .*openid-configuration → HTTP 500/);
});

test('DISCOVERY_HTTP_STATUS: processDiscoveryResponse takes only a 200 for metadata', () => {
  assert.throws(() => processDiscoveryResponse(result(500, '<h1>oops</h1>'), TENANT), (e: QlikOAuthError) => e.code === 'DISCOVERY_HTTP_STATUS' && /answered 500, expected 200/.test(e.message));
});

// ---------------------------------------------------------------- the token response

const TOKEN_URL = `${TENANT}/oauth/token`;
const VERIFIER = 'v'.repeat(43);
const ACCESS_TOKEN = 'qlik_at_hostile_0123456789abcdef';
const exchange = () => exchangeCode(METADATA, CLIENT, { code: 'the-code', codeVerifier: VERIFIER });
const goodTokens = (changes: Record<string, unknown> = {}) => ({
  access_token: ACCESS_TOKEN,
  token_type: 'bearer',
  expires_in: 21600,
  refresh_token: 'qlik_rt_hostile_0123456789abcdef',
  scope: 'user_default offline_access',
  ...changes,
});
const answerToken = (response: () => Response | Promise<Response>) => server.use(http.post(TOKEN_URL, response));

test('token: a 201 is not a token response (QlikOAuthError TOKEN_UNEXPECTED_STATUS)', async () => {
  answerToken(() => HttpResponse.json(goodTokens(), { status: 201 }));
  const error = await failsWith(exchange(), QlikOAuthError, 'TOKEN_UNEXPECTED_STATUS');
  assert.equal(error.status, 201);
});

test('token: a 302 is refused and not followed (QlikOAuthError REDIRECT_REFUSED)', async () => {
  answerToken(() => new HttpResponse(null, { status: 302, headers: { location: `${TENANT}/elsewhere` } }));
  await failsWith(exchange(), QlikOAuthError, 'REDIRECT_REFUSED');
});

test('token: a 307 to another host does not re-post the code and secret there (REDIRECT_REFUSED, RFC 9700 §4.12)', async () => {
  let reposted = false;
  answerToken(() => new HttpResponse(null, { status: 307, headers: { location: 'http://127.0.0.3:9/collect' } }));
  server.use(http.post('http://127.0.0.3:9/collect', () => { reposted = true; return HttpResponse.json(goodTokens()); }));
  await failsWith(exchange(), QlikOAuthError, 'REDIRECT_REFUSED');
  assert.equal(reposted, false);
});

test('token: a 200 without access_token is refused (QlikOAuthError ACCESS_TOKEN_MISSING)', async () => {
  answerToken(() => HttpResponse.json(goodTokens({ access_token: undefined })));
  await failsWith(exchange(), QlikOAuthError, 'ACCESS_TOKEN_MISSING');
});

test('token: token_type mac is refused (QlikOAuthError TOKEN_TYPE_NOT_BEARER)', async () => {
  answerToken(() => HttpResponse.json(goodTokens({ token_type: 'mac' })));
  const error = await failsWith(exchange(), QlikOAuthError, 'TOKEN_TYPE_NOT_BEARER');
  assert.match(error.message, /token_type "mac"/);
});

test('token: expires_in that is not a number is refused (QlikOAuthError EXPIRY_INVALID)', async () => {
  answerToken(() => HttpResponse.json(goodTokens({ expires_in: 'soon' })));
  const error = await failsWith(exchange(), QlikOAuthError, 'EXPIRY_INVALID');
  assert.match(error.message, /expires_in "soon"/);
});

test('token: a negative expires_in is refused (QlikOAuthError EXPIRY_INVALID)', async () => {
  answerToken(() => HttpResponse.json(goodTokens({ expires_in: -60 })));
  await failsWith(exchange(), QlikOAuthError, 'EXPIRY_INVALID');
});

test('token: a refresh_token that is not a string is refused (QlikOAuthError TOKEN_FIELD_INVALID)', async () => {
  answerToken(() => HttpResponse.json(goodTokens({ refresh_token: { value: 'x' } })));
  await failsWith(exchange(), QlikOAuthError, 'TOKEN_FIELD_INVALID');
});

test('token: an HTML error page is an error without details (TenantError TOKEN_ERROR_RESPONSE)', async () => {
  answerToken(() => new HttpResponse('<html><body><h1>502 Bad Gateway</h1></body></html>', { status: 502, headers: { 'content-type': 'text/html' } }));
  const error = await failsWith(exchange(), TenantError, 'TOKEN_ERROR_RESPONSE');
  assert.equal(error.status, 502);
  assert.equal(error.tenantError, undefined);
  assert.match(error.message, /HTTP 502, no error details/);
  assert.match(error.hint, /Try again in a moment/);
});

test('token: an HTML page with 200 is not taken for tokens (QlikOAuthError NOT_JSON)', async () => {
  answerToken(() => HttpResponse.html('<html><body>Welcome</body></html>'));
  await failsWith(exchange(), QlikOAuthError, 'NOT_JSON');
});

test('token: Qlik\'s error body is read (TenantError TOKEN_ERROR_RESPONSE, OAUTH-22)', async () => {
  answerToken(() =>
    HttpResponse.json({ errors: [{ code: 'OAUTH-22', title: 'Invalid client_secret', detail: 'The secret does not match.', status: '401' }] }, { status: 401 }),
  );
  const error = await failsWith(exchange(), TenantError, 'TOKEN_ERROR_RESPONSE');
  assert.deepEqual(error.tenantError, { code: 'OAUTH-22', message: 'Invalid client_secret: The secret does not match.', traceId: undefined });
  assert.match(error.hint, /client ID and client secret/);
});

test('token: RFC 6749\'s error body is read (TenantError TOKEN_ERROR_RESPONSE, invalid_grant)', async () => {
  answerToken(() => HttpResponse.json({ error: 'invalid_grant', error_description: 'The code has expired.' }, { status: 400 }));
  const error = await failsWith(exchange(), TenantError, 'TOKEN_ERROR_RESPONSE');
  assert.equal(error.tenantError?.code, 'invalid_grant');
  assert.match(error.message, /HTTP 400, invalid_grant: The code has expired\./);
  assert.match(error.hint, /Start the sign-in again/);
});

test('token: an empty 401 with WWW-Authenticate points at the client credentials (TenantError TOKEN_ERROR_RESPONSE)', async () => {
  answerToken(() => new HttpResponse(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="qlik"' } }));
  const error = await failsWith(exchange(), TenantError, 'TOKEN_ERROR_RESPONSE');
  assert.equal(error.status, 401);
  assert.equal(error.tenantError, undefined);
  assert.match(error.hint, /\(1\) the client secret and client ID/);
  assert.deepEqual(error.settings.slice(0, 2), ['clientSecret', 'clientId']);
});

test('token: truncated JSON is refused (QlikOAuthError JSON_INVALID)', async () => {
  answerToken(() => new HttpResponse(JSON.stringify(goodTokens()).slice(0, 40), { headers: { 'content-type': 'application/json' } }));
  const error = await failsWith(exchange(), QlikOAuthError, 'JSON_INVALID');
  assert.ok(!error.message.includes('qlik_at_'), 'not even part of the token is quoted');
});

test('token: a 30 MB body streamed without a length is cut at the cap (QlikOAuthError BODY_TOO_LARGE)', async () => {
  let pulled = 0;
  answerToken(() => {
    const stream = new ReadableStream({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
        if (pulled * 64 * 1024 >= 30 * 1024 * 1024) controller.close();
      },
    });
    return new HttpResponse(stream, { headers: { 'content-type': 'application/json' } });
  });
  await failsWith(exchange(), QlikOAuthError, 'BODY_TOO_LARGE');
  assert.ok(pulled < 40, `read ${pulled} chunks of 64 KB, not 480`);
});

test('token: a declared 30 MB content-length is refused before reading (QlikOAuthError BODY_TOO_LARGE)', async () => {
  answerToken(() => new HttpResponse(new Uint8Array(16), { headers: { 'content-type': 'application/json', 'content-length': String(30 * 1024 * 1024) } }));
  await failsWith(exchange(), QlikOAuthError, 'BODY_TOO_LARGE');
});

test('token: a body that drips past the timeout is abandoned (QlikOAuthError TIMEOUT)', async () => {
  answerToken(() => {
    const body = new TextEncoder().encode(JSON.stringify(goodTokens()));
    let i = 0;
    const stream = new ReadableStream({
      async pull(controller) {
        await delay(40);
        if (i < body.length) controller.enqueue(body.subarray(i, ++i));
        else controller.close();
      },
    });
    return new HttpResponse(stream, { headers: { 'content-type': 'application/json' } });
  });
  const started = performance.now();
  await failsWith(exchangeCode(METADATA, CLIENT, { code: 'the-code', codeVerifier: VERIFIER }, { timeoutMs: 250 }), QlikOAuthError, 'TIMEOUT');
  assert.ok(performance.now() - started < 2_000, 'gave up at the timeout, not at the end of the body');
});

// ---------------------------------------------------------------- the users API

const ME = `${TENANT}/api/v1/users/me`;
const me = () => getCurrentUser(METADATA, ACCESS_TOKEN);

test('API: 401 invalid_token is API_UNAUTHORIZED, with the WWW-Authenticate parameters read (TenantError)', async () => {
  server.use(
    http.get(ME, () =>
      HttpResponse.json(
        { errors: [{ code: 'HTTP-401', title: 'Unauthorized' }], traceId: 'tr-401' },
        { status: 401, headers: { 'www-authenticate': 'Bearer realm="qlik", error="invalid_token", error_description="The access token expired"' } },
      ),
    ),
  );
  const error = await failsWith(me(), TenantError, 'API_UNAUTHORIZED');
  assert.equal(error.wwwAuthenticate.error, 'invalid_token');
  assert.equal(error.tenantError?.traceId, 'tr-401');
  assert.match(error.hint, /Sign in again/);
});

test('API: 403 insufficient_scope is API_FORBIDDEN, and the hint names the scope (TenantError)', async () => {
  server.use(http.get(ME, () => new HttpResponse(null, { status: 403, headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="user_default"' } })));
  const error = await failsWith(me(), TenantError, 'API_FORBIDDEN');
  assert.match(error.hint, /Add the scope "user_default" to the OAuth client and to the scope this app asks for/);
  assert.deepEqual(error.settings, ['scope']);
});

test('API: 429 with retry-after is API_RATE_LIMITED with the wait in seconds (TenantError)', async () => {
  server.use(http.get(ME, () => HttpResponse.json({ errors: [{ code: 'HTTP-429', title: 'Too many requests' }] }, { status: 429, headers: { 'retry-after': '7' } })));
  const error = await failsWith(me(), TenantError, 'API_RATE_LIMITED');
  assert.equal(error.retryAfter, 7);
  assert.match(error.hint, /wait 7 s/);
});

test('API: 429 with an HTTP-date retry-after is read as seconds from now (TenantError API_RATE_LIMITED)', async () => {
  const at = new Date(Date.now() + 30_000).toUTCString();
  server.use(http.get(ME, () => new HttpResponse(null, { status: 429, headers: { 'retry-after': at } })));
  const error = await failsWith(me(), TenantError, 'API_RATE_LIMITED');
  assert.ok(error.retryAfter !== undefined && error.retryAfter >= 28 && error.retryAfter <= 31, String(error.retryAfter));
});

test('API: 500 with an HTML page is API_ERROR, without details (TenantError)', async () => {
  server.use(http.get(ME, () => new HttpResponse('<html><body><h1>Internal error</h1></body></html>', { status: 500, headers: { 'content-type': 'text/html' } })));
  const error = await failsWith(me(), TenantError, 'API_ERROR');
  assert.equal(error.status, 500);
  assert.equal(error.tenantError, undefined);
  assert.match(error.message, /HTTP 500 \(no code: no details\)/);
  assert.match(error.hint, /Try again in a moment/);
});

test('API: a 200 user without a name is refused (QlikOAuthError USER_INVALID)', async () => {
  server.use(http.get(ME, () => HttpResponse.json({ ...QLIK_USER, name: '' })));
  await failsWith(me(), QlikOAuthError, 'USER_INVALID');
});
