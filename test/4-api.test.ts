import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { getCurrentUser, processUserResponse, parseWwwAuthenticate } from '../src/3.4-api.ts';
import { type CheckCode } from '../src/checks.ts';
import { METADATA, QLIK_USER, mockTenant, result } from './helpers/tenant.ts';
import { TenantError, parseRetryAfter } from '../src/tenant-error.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

function apiFails(res: ReturnType<typeof result>, code: CheckCode): TenantError {
  let caught: TenantError | undefined;
  assert.throws(() => processUserResponse(res), (e: unknown) => {
    assert.equal((e as TenantError).code, code);
    caught = e as TenantError;
    return true;
  });
  return caught!;
}

test('getCurrentUser sends the token as Authorization: Bearer, to /api/v1/users/me, and nowhere else', async () => {
  let seen: { url: string; authorization: string | null } | undefined;
  server.use(http.get(METADATA.usersMeEndpoint, ({ request }) => {
    seen = { url: request.url, authorization: request.headers.get('authorization') };
    return HttpResponse.json(QLIK_USER);
  }));
  const user = await getCurrentUser(METADATA, 'at-0123456789');
  assert.equal(seen?.url, METADATA.usersMeEndpoint, 'no token in the URL');
  assert.equal(seen?.authorization, 'Bearer at-0123456789');
  assert.equal(user.id, QLIK_USER.id);
  assert.equal(user.name, 'Ada Lovelace');
  assert.equal(user.subject, QLIK_USER.subject);
  assert.equal(user.tenantId, QLIK_USER.tenantId);
  assert.equal(user.email, 'ada@example.com');
  assert.deepEqual(user.raw, QLIK_USER);
});

test('USER_INVALID: a 200 without id, name, subject or tenantId', () => {
  for (const field of ['id', 'name', 'subject', 'tenantId']) {
    apiFails(result(200, { ...QLIK_USER, [field]: undefined }), 'USER_INVALID');
    apiFails(result(200, { ...QLIK_USER, [field]: 7 }), 'USER_INVALID');
  }
});

test('USER_INVALID: an empty id, name, subject or tenantId', () => {
  for (const field of ['id', 'name', 'subject', 'tenantId']) apiFails(result(200, { ...QLIK_USER, [field]: '' }), 'USER_INVALID');
});

test('API_ERROR: only a 200 is the user (a 201 or 204 is not)', () => {
  apiFails(result(201, QLIK_USER), 'API_ERROR');
  apiFails(result(204, ''), 'API_ERROR');
});

test('NOT_JSON / JSON_NOT_OBJECT on a 200', () => {
  apiFails(result(200, '<html></html>', { 'content-type': 'text/html' }), 'NOT_JSON');
  apiFails(result(200, { data: [QLIK_USER] }.data), 'JSON_NOT_OBJECT');
});

test('API_UNAUTHORIZED: 401 invalid_token, with WWW-Authenticate and Qlik\'s body read', () => {
  const error = apiFails(
    result(401, { errors: [{ code: 'HTTP-401', title: 'Unauthorized', status: '401' }], traceId: 'tr-1' }, {
      'www-authenticate': 'Bearer realm="qlik", error="invalid_token", error_description="The access token expired"',
    }),
    'API_UNAUTHORIZED',
  );
  assert.equal(error.status, 401);
  assert.equal(error.wwwAuthenticate.error, 'invalid_token');
  assert.equal(error.wwwAuthenticate.error_description, 'The access token expired');
  assert.equal(error.tenantError?.code, 'HTTP-401');
  assert.equal(error.tenantError?.traceId, 'tr-1');
  assert.match(error.hint, /Sign in again/);
});

test('API_FORBIDDEN: 403 insufficient_scope names the scope to add', () => {
  const error = apiFails(
    result(403, { errors: [{ code: 'HTTP-403', title: 'Forbidden' }] }, { 'www-authenticate': 'Bearer error="insufficient_scope", scope="admin.users"' }),
    'API_FORBIDDEN',
  );
  assert.match(error.hint, /admin\.users/);
});

test('API_RATE_LIMITED: 429 with retry-after in seconds', () => {
  const error = apiFails(result(429, { errors: [{ code: 'HTTP-429', title: 'Too Many Requests' }] }, { 'retry-after': '17' }), 'API_RATE_LIMITED');
  assert.equal(error.retryAfter, 17);
  assert.match(error.hint, /wait 17 s/);
});

test('API_ERROR: 500 with an HTML page, and a Qlik error with traceId', () => {
  apiFails(result(500, '<html>Internal error</html>', { 'content-type': 'text/html' }), 'API_ERROR');
  const error = apiFails(result(404, { errors: [{ code: 'USERS-7', title: 'Not found', status: '404' }], traceId: 'abc123' }), 'API_ERROR');
  assert.equal(error.tenantError?.code, 'USERS-7');
  assert.match(error.message, /USERS-7.*traceId abc123/);
});

test('parseWwwAuthenticate reads quoted and token values (RFC 6750 §3)', () => {
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="example", error="invalid_token", error_description="The access token expired"'), {
    realm: 'example',
    error: 'invalid_token',
    error_description: 'The access token expired',
  });
  assert.deepEqual(parseWwwAuthenticate('Bearer error=invalid_token'), { error: 'invalid_token' });
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="a \\"quoted\\" realm"'), { realm: 'a "quoted" realm' });
  assert.deepEqual(parseWwwAuthenticate('Bearer'), {});
  assert.deepEqual(parseWwwAuthenticate(null), {});
  assert.deepEqual(parseWwwAuthenticate('Bearer ,,,=== "'), {});
});

test('parseRetryAfter: seconds or an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});
