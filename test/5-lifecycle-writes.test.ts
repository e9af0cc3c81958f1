// qlikFetch for writes (RFC 9110 §9.2.2): a write is sent again only when the tenant cannot have
// acted on it (401 before a refresh, 429), never after a timeout, a broken connection or a 5xx.
// Also: the rate-limit budget, and links too long to follow.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse, delay } from 'msw';
import { qlikFetch, paginate, MAX_URL_LENGTH, type QlikSession } from '../src/lifecycle.ts';
import { QlikOAuthError } from '../src/errors.ts';
import { CLIENT, METADATA, TENANT, mockTenant } from './helpers/tenant.ts';
import { TenantError } from '../src/tenant-error.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

const SPACES = `${TENANT}/api/v1/spaces`;

function session(extra: Partial<QlikSession> = {}): QlikSession {
  return {
    metadata: METADATA,
    client: CLIENT,
    tokens: { accessToken: 'at-1', tokenType: 'bearer', expiresAt: Date.now() + 3600_000, lifetimeMs: 3600_000, refreshToken: 'rt-1', scope: undefined },
    ...extra,
  };
}

test('a POST sends JSON with the bearer token and returns the 201 body; a DELETE\'s 204 is an empty object', async () => {
  let seen: { type: string | null; auth: string | null; body: unknown } | undefined;
  server.use(
    http.post(SPACES, async ({ request }) => {
      seen = { type: request.headers.get('content-type'), auth: request.headers.get('authorization'), body: await request.json() };
      return HttpResponse.json({ id: 'sp-1', name: 'Sales' }, { status: 201 });
    }),
    http.delete(`${SPACES}/sp-1`, () => new HttpResponse(null, { status: 204 })),
  );
  const created = await qlikFetch(session(), '/api/v1/spaces', { method: 'POST', json: { name: 'Sales', type: 'shared' } });
  assert.deepEqual(created, { id: 'sp-1', name: 'Sales' });
  assert.deepEqual(seen, { type: 'application/json', auth: 'Bearer at-1', body: { name: 'Sales', type: 'shared' } });
  assert.deepEqual(await qlikFetch(session(), '/api/v1/spaces/sp-1', { method: 'DELETE' }), {});
});

test('a GET does not take a 201 or 204 for an answer', async () => {
  server.use(http.get(SPACES, () => new HttpResponse(null, { status: 204 })));
  await assert.rejects(qlikFetch(session(), '/api/v1/spaces'), (e: TenantError) => e.code === 'API_ERROR');
});

test('a write is replayed after a 401 and a refresh (the tenant did not act on it)', async () => {
  const posts: string[] = [];
  server.use(
    http.post(SPACES, ({ request }) => {
      posts.push(request.headers.get('authorization')!);
      return posts.length === 1 ? new HttpResponse(null, { status: 401 }) : HttpResponse.json({ id: 'sp-2' }, { status: 201 });
    }),
    http.post(`${TENANT}/oauth/token`, () => HttpResponse.json({ access_token: 'at-2', token_type: 'bearer', expires_in: 3600 })),
  );
  assert.deepEqual(await qlikFetch(session(), '/api/v1/spaces', { method: 'POST', json: { name: 'x' } }), { id: 'sp-2' });
  assert.deepEqual(posts, ['Bearer at-1', 'Bearer at-2']);
});

test('a write is replayed after a 429 (not processed), within the budget', async () => {
  let posts = 0;
  server.use(http.post(SPACES, () => (++posts === 1
    ? HttpResponse.json({ errors: [{ code: 'HTTP-429' }] }, { status: 429, headers: { 'retry-after': '0' } })
    : HttpResponse.json({ id: 'sp-3' }, { status: 201 }))));
  assert.deepEqual(await qlikFetch(session(), '/api/v1/spaces', { method: 'POST', json: { name: 'x' } }), { id: 'sp-3' });
  assert.equal(posts, 2);
});

test('WRITE_OUTCOME_UNKNOWN: a write that met a 5xx is not sent again, and the error says it may have happened', async () => {
  let posts = 0;
  server.use(http.post(SPACES, () => {
    posts++;
    return HttpResponse.json({ errors: [{ code: 'HTTP-502' }], traceId: 'tr-5xx' }, { status: 502 });
  }));
  await assert.rejects(qlikFetch(session(), '/api/v1/spaces', { method: 'POST', json: { name: 'x' } }), (e: unknown) => {
    assert.ok(e instanceof QlikOAuthError);
    assert.equal(e.code, 'WRITE_OUTCOME_UNKNOWN');
    assert.match(e.message, /may or may not have been applied/);
    assert.equal(e.traceId, 'tr-5xx');
    return true;
  });
  assert.equal(posts, 1);
});

test('WRITE_OUTCOME_UNKNOWN: a write that timed out is not sent again', async () => {
  let posts = 0;
  server.use(http.post(SPACES, async () => {
    posts++;
    await delay(500);
    return HttpResponse.json({ id: 'late' }, { status: 201 });
  }));
  const slow = session({ options: { timeoutMs: 50 } });
  await assert.rejects(qlikFetch(slow, '/api/v1/spaces', { method: 'POST', json: { name: 'x' } }), (e: unknown) => e instanceof QlikOAuthError && e.code === 'WRITE_OUTCOME_UNKNOWN');
  assert.equal(posts, 1);
});

test('a 429 beyond the session\'s budget fails at once, with the wait in the error', async () => {
  let calls = 0;
  server.use(http.get(`${TENANT}/api/v1/users/me`, () => {
    calls++;
    return HttpResponse.json({ errors: [{ code: 'HTTP-429' }] }, { status: 429, headers: { 'retry-after': '13' } });
  }));
  const started = Date.now();
  await assert.rejects(qlikFetch(session({ rateLimitBudgetSeconds: 2 }), '/api/v1/users/me'), (e: TenantError) => e.code === 'API_RATE_LIMITED' && e.retryAfter === 13);
  assert.equal(calls, 1, 'no second try: 13 s is over the budget');
  assert.ok(Date.now() - started < 5_000, 'it did not sleep 13 s');
});

test('a caller\'s deadline stops a wait for a 429', async () => {
  server.use(http.get(`${TENANT}/api/v1/users/me`, () => HttpResponse.json({}, { status: 429, headers: { 'retry-after': '5' } })));
  await assert.rejects(
    qlikFetch(session(), '/api/v1/users/me', { signal: AbortSignal.timeout(50) }),
    (e: unknown) => e instanceof QlikOAuthError && e.code === 'DEADLINE_EXCEEDED',
  );
});

test('URL_TOO_LONG: a half-megabyte next link is refused before any work on it, and no token is sent', async () => {
  let calls = 0;
  const huge = `${SPACES}?${'code=&'.repeat(80_000)}`;
  server.use(http.get(SPACES, ({ request }) => {
    calls++;
    return new URL(request.url).search === '' ? HttpResponse.json({ data: [{ id: 'a' }], links: { next: { href: huge } } }) : HttpResponse.json({ data: [] });
  }));
  const items: unknown[] = [];
  await assert.rejects(
    (async () => {
      for await (const item of paginate(session(), '/api/v1/spaces')) items.push(item);
    })(),
    (e: unknown) => e instanceof QlikOAuthError && e.code === 'URL_TOO_LONG' && e.message.length < 400,
  );
  assert.equal(items.length, 1);
  assert.equal(calls, 1);
  assert.ok(huge.length > MAX_URL_LENGTH);
});

test('SESSION_CLOSED: no call goes out once the session is closed', async () => {
  await assert.rejects(qlikFetch(session({ closed: true }), '/api/v1/users/me'), (e: unknown) => e instanceof QlikOAuthError && e.code === 'SESSION_CLOSED');
});
