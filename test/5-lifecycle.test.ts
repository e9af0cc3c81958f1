import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { qlikFetch, paginate, isExpired, refreshSession, EXPIRY_MARGIN_MS, MAX_PAGES, MAX_RATE_LIMIT_WAIT_SECONDS, type QlikSession } from '../src/lifecycle.ts';
import type { QlikOAuthError } from '../src/errors.ts';
import type { TenantError } from '../src/tenant-error.ts';
import type { TokenSet } from '../src/3.3-token.ts';
import { CLIENT, METADATA, TENANT, mockTenant } from './helpers/tenant.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

const ME = `${TENANT}/api/v1/users/me`;
const TOKEN = `${TENANT}/oauth/token`;

function session(tokens: Partial<TokenSet> = {}): QlikSession {
  return {
    metadata: METADATA,
    client: CLIENT,
    tokens: { accessToken: 'at-1', tokenType: 'bearer', expiresAt: Date.now() + 3600_000, lifetimeMs: 3600_000, refreshToken: 'rt-1', scope: undefined, ...tokens },
  };
}

/** A tenant whose token endpoint counts refreshes and hands out at-2, at-3, …; the API accepts only the newest. */
function tenant({ rotate = true } = {}) {
  const state = { refreshes: 0, current: 'at-1', refreshTokensSeen: [] as string[], apiCalls: 0 };
  server.use(
    http.post(TOKEN, async ({ request }) => {
      const form = new URLSearchParams(await request.text());
      assert.equal(form.get('grant_type'), 'refresh_token');
      state.refreshTokensSeen.push(form.get('refresh_token')!);
      state.refreshes++;
      state.current = `at-${state.refreshes + 1}`;
      return HttpResponse.json({
        access_token: state.current,
        token_type: 'bearer',
        expires_in: 21600,
        ...(rotate ? { refresh_token: `rt-${state.refreshes + 1}` } : {}),
      });
    }),
    http.get(ME, ({ request }) => {
      state.apiCalls++;
      return request.headers.get('authorization') === `Bearer ${state.current}`
        ? HttpResponse.json({ id: 'u1', name: 'Ada' })
        : HttpResponse.json({ errors: [{ code: 'HTTP-401' }] }, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    }),
  );
  return state;
}

test('isExpired counts a token as expired EXPIRY_MARGIN_MS early; unknown expiry never expires', () => {
  const now = 1_000_000_000;
  assert.equal(isExpired(session({ expiresAt: now + EXPIRY_MARGIN_MS + 1 }).tokens!, now), false);
  assert.equal(isExpired(session({ expiresAt: now + EXPIRY_MARGIN_MS }).tokens!, now), true);
  assert.equal(isExpired(session({ expiresAt: now - 1 }).tokens!, now), true);
  assert.equal(isExpired(session({ expiresAt: undefined }).tokens!, now), false);
});

test('a fresh token is used as is: no refresh', async () => {
  const state = tenant();
  const s = session();
  assert.deepEqual(await qlikFetch(s, '/api/v1/users/me'), { id: 'u1', name: 'Ada' });
  assert.equal(state.refreshes, 0);
});

test('expiry-driven refresh: an expired token is refreshed before the call', async () => {
  const state = tenant();
  const s = session({ expiresAt: Date.now() + 1000 });
  const seen: TokenSet[] = [];
  s.onTokens = (t) => seen.push(t);
  await qlikFetch(s, '/api/v1/users/me');
  assert.equal(state.refreshes, 1);
  assert.equal(state.apiCalls, 1, 'no wasted call with the old token');
  assert.equal(s.tokens!.accessToken, 'at-2');
  assert.equal(seen.length, 1);
});

test('401-driven refresh: refreshed once, then the call succeeds', async () => {
  const state = tenant();
  state.current = 'at-revoked-elsewhere';
  const s = session();
  // The tenant no longer takes at-1; the refresh gives at-2, which it takes.
  await qlikFetch(s, '/api/v1/users/me');
  assert.equal(state.refreshes, 1);
  assert.equal(state.apiCalls, 2);
});

test('a second 401 after the refresh goes to the caller (no loop)', async () => {
  let refreshes = 0;
  server.use(
    // After 3 refreshes the tenant gives up, so a looping client fails fast instead of hanging.
    http.post(TOKEN, () => (++refreshes > 3
      ? HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })
      : HttpResponse.json({ access_token: `at-${refreshes + 1}`, token_type: 'bearer' }))),
    http.get(ME, () => HttpResponse.json({ errors: [{ code: 'HTTP-401' }] }, { status: 401 })),
  );
  await assert.rejects(qlikFetch(session(), '/api/v1/users/me'), { code: 'API_UNAUTHORIZED' });
  assert.equal(refreshes, 1);
});

test('a late 401 for a token already replaced does not refresh again', async () => {
  const state = tenant();
  const s = session();
  await refreshSession(s, 'at-1');
  const again = await refreshSession(s, 'at-1'); // a call that left with at-1 comes back with a 401
  assert.equal(state.refreshes, 1);
  assert.equal(again.accessToken, 'at-2');
});

test('a refresh answer without scope keeps the scope granted before (RFC 6749 §5.1)', async () => {
  tenant();
  const s = session({ scope: 'user_default offline_access', expiresAt: 0 });
  await qlikFetch(s, '/api/v1/users/me');
  assert.equal(s.tokens!.accessToken, 'at-2');
  assert.equal(s.tokens!.scope, 'user_default offline_access');
});

test('rotation: a new refresh token replaces the old one', async () => {
  const state = tenant({ rotate: true });
  const s = session({ expiresAt: 0 });
  await qlikFetch(s, '/api/v1/users/me');
  assert.equal(s.tokens!.refreshToken, 'rt-2');
  s.tokens! = { ...s.tokens!, expiresAt: 0 };
  await qlikFetch(s, '/api/v1/users/me');
  assert.deepEqual(state.refreshTokensSeen, ['rt-1', 'rt-2']);
});

test('no rotation: the old refresh token is kept and used again', async () => {
  const state = tenant({ rotate: false });
  const s = session({ expiresAt: 0 });
  await qlikFetch(s, '/api/v1/users/me');
  assert.equal(s.tokens!.refreshToken, 'rt-1');
  s.tokens! = { ...s.tokens!, expiresAt: 0 };
  await qlikFetch(s, '/api/v1/users/me');
  assert.deepEqual(state.refreshTokensSeen, ['rt-1', 'rt-1']);
});

test('no stampede: 20 parallel calls with an expired token make exactly one refresh', async () => {
  const state = tenant();
  const s = session({ expiresAt: 0 });
  await Promise.all(Array.from({ length: 20 }, () => qlikFetch(s, '/api/v1/users/me')));
  assert.equal(state.refreshes, 1);
  assert.equal(state.apiCalls, 20);
});

test('no stampede on 401: 20 parallel calls rejected with the old token make exactly one refresh', async () => {
  const state = tenant();
  state.current = 'at-revoked-elsewhere';
  const s = session();
  await Promise.all(Array.from({ length: 20 }, () => qlikFetch(s, '/api/v1/users/me')));
  assert.equal(state.refreshes, 1);
});

test('NO_REFRESH_TOKEN: expired with no refresh token is a clear QlikOAuthError, nothing sent', async () => {
  await assert.rejects(qlikFetch(session({ expiresAt: 0, refreshToken: undefined }), '/api/v1/users/me'), (e: QlikOAuthError) => {
    assert.equal(e.code, 'NO_REFRESH_TOKEN');
    assert.equal(e.signInAgain, true);
    assert.match(e.hint, /offline_access/);
    return true;
  });
});

test('REFRESH_FAILED: a refresh refused with invalid_grant says "sign in again", the tenant error as cause', async () => {
  server.use(http.post(TOKEN, () => HttpResponse.json({ error: 'invalid_grant', error_description: 'revoked' }, { status: 400 })));
  await assert.rejects(qlikFetch(session({ expiresAt: 0 }), '/api/v1/users/me'), (e: QlikOAuthError) => {
    assert.equal(e.code, 'REFRESH_FAILED');
    assert.equal(e.signInAgain, true);
    assert.equal((e.cause as TenantError).tenantError?.code, 'invalid_grant');
    return true;
  });
});

test('429 then success: waits retry-after, then gets the answer', async () => {
  let calls = 0;
  server.use(http.get(ME, () => (++calls === 1
    ? HttpResponse.json({ errors: [{ code: 'HTTP-429' }] }, { status: 429, headers: { 'retry-after': '1' } })
    : HttpResponse.json({ id: 'u1' }))));
  const started = Date.now();
  assert.deepEqual(await qlikFetch(session(), '/api/v1/users/me'), { id: 'u1' });
  assert.equal(calls, 2);
  assert.ok(Date.now() - started >= 950, 'waited about retry-after seconds');
});

test('429 beyond the bound: a retry-after longer than the wait budget fails at once', async () => {
  let calls = 0;
  const budget = String(MAX_RATE_LIMIT_WAIT_SECONDS + 1);
  server.use(http.get(ME, () => { calls++; return HttpResponse.json({ errors: [{ code: 'HTTP-429' }] }, { status: 429, headers: { 'retry-after': budget } }); }));
  const started = Date.now();
  await assert.rejects(qlikFetch(session(), '/api/v1/users/me'), (e: TenantError) => e.code === 'API_RATE_LIMITED' && e.retryAfter === Number(budget));
  assert.equal(calls, 1);
  assert.ok(Date.now() - started < 1000, 'did not wait at all');
});

test('429 without retry-after: waits about a second, then retries', async () => {
  let calls = 0;
  server.use(http.get(ME, () => (++calls === 1 ? HttpResponse.json({}, { status: 429 }) : HttpResponse.json({ id: 'u1' }))));
  const started = Date.now();
  await qlikFetch(session(), '/api/v1/users/me');
  assert.equal(calls, 2);
  assert.ok(Date.now() - started >= 950, 'waited before retrying');
});

test('429 forever: gives up after MAX_RATE_LIMIT_RETRIES retries', async () => {
  let calls = 0;
  // "Forever" ends after 10 calls, so a client without the bound fails fast instead of hanging.
  server.use(http.get(ME, () => (++calls > 10 ? HttpResponse.json({ id: 'u1' }) : HttpResponse.json({}, { status: 429, headers: { 'retry-after': '0' } }))));
  await assert.rejects(qlikFetch(session(), '/api/v1/users/me'), { code: 'API_RATE_LIMITED' });
  assert.equal(calls, 4);
});

test('paginate follows links.next.href through every page', async () => {
  const pages: Record<string, unknown>[] = [
    { data: [{ id: 's1' }, { id: 's2' }], links: { next: { href: `${TENANT}/api/v1/spaces?next=p2` } } },
    { data: [{ id: 's3' }], links: { next: { href: `${TENANT}/api/v1/spaces?next=p3` } } },
    { data: [{ id: 's4' }], links: {} },
  ];
  server.use(http.get(`${TENANT}/api/v1/spaces`, ({ request }) => {
    const next = new URL(request.url).searchParams.get('next');
    return HttpResponse.json(pages[next === null ? 0 : Number(next.slice(1)) - 1]);
  }));
  const ids: unknown[] = [];
  for await (const item of paginate(session(), '/api/v1/spaces')) ids.push(item.id);
  assert.deepEqual(ids, ['s1', 's2', 's3', 's4']);
});

test('FOREIGN_URL: a next link to another origin is refused, and nothing is sent there', async () => {
  let foreignCalled = false;
  server.use(
    http.get(`${TENANT}/api/v1/spaces`, () => HttpResponse.json({ data: [{ id: 's1' }], links: { next: { href: 'http://127.0.0.2:9/api/v1/spaces?next=p2' } } })),
    http.get('http://127.0.0.2:9/api/v1/spaces', () => { foreignCalled = true; return HttpResponse.json({ data: [] }); }),
  );
  const ids: unknown[] = [];
  await assert.rejects(async () => { for await (const item of paginate(session(), '/api/v1/spaces')) ids.push(item.id); }, { code: 'FOREIGN_URL' });
  assert.deepEqual(ids, ['s1']);
  assert.equal(foreignCalled, false);
  await assert.rejects(qlikFetch(session(), `http://127.0.0.1:10/api/v1/users/me`), { code: 'FOREIGN_URL' });
  // Same host and port, other scheme: an https tenant's token never goes out over plain http.
  const httpsTenant = session({});
  httpsTenant.metadata = { ...METADATA, issuer: 'https://127.0.0.1:9' };
  await assert.rejects(qlikFetch(httpsTenant, 'http://127.0.0.1:9/api/v1/users/me'), { code: 'FOREIGN_URL' });
});

test('TOO_MANY_PAGES: a next link that loops is cut off', async () => {
  let calls = 0;
  // The loop ends a little after MAX_PAGES, so a client without the limit fails fast instead of hanging.
  server.use(http.get(`${TENANT}/api/v1/spaces`, () => {
    calls++;
    return HttpResponse.json({ data: [], links: calls > MAX_PAGES + 5 ? {} : { next: { href: `${TENANT}/api/v1/spaces` } } });
  }));
  await assert.rejects(async () => { for await (const _ of paginate(session(), '/api/v1/spaces')); }, { code: 'TOO_MANY_PAGES' });
  assert.equal(calls, MAX_PAGES);
});
