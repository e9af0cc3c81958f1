// Machine-to-machine and impersonation at the wire (src/machine.ts): what each grant sends, the
// checks made before sending, the tenant's refusals, and the session's token cache.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { clientCredentialsToken, impersonationToken, machineSession, checkUserLookup, IMPERSONATION_GRANT_TYPE, MAX_USER_LOOKUP_LENGTH, type UserLookup } from '../src/machine.ts';
import { qlikFetch, sessionAccessToken } from '../src/lifecycle.ts';
import { clientPost } from '../src/client.ts';
import { ConfigurationError } from '../src/errors.ts';
import { METADATA, QLIK_USER, TENANT, mockTenant } from './helpers/tenant.ts';
import { TenantError } from '../src/tenant-error.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

const TOKEN_URL = `${TENANT}/oauth/token`;
const ME_URL = `${TENANT}/api/v1/users/me`;
const M2M = { clientId: 'm2m-client-id', clientSecret: 'm2m-secret-0123456789' };
const SUBJECT: UserLookup = { field: 'subject', value: 'auth0|a1b2c3' };

let issued = 0;
const tokenAnswer = (extra: Record<string, unknown> = {}) =>
  HttpResponse.json({
    access_token: `at-m2m-${++issued}`,
    token_type: 'bearer',
    expires_at: new Date(Date.now() + 6 * 3600_000).toISOString(),
    scope: 'user_default',
    ...extra,
  });

interface Seen {
  contentType: string | null;
  authorization: string | null;
  text: string;
}
/** Records every token request; answers with a fresh token each time. */
function recordTokenRequests(answer = () => tokenAnswer()): Seen[] {
  const seen: Seen[] = [];
  server.use(
    http.post(TOKEN_URL, async ({ request }) => {
      seen.push({ contentType: request.headers.get('content-type'), authorization: request.headers.get('authorization'), text: await request.text() });
      return answer();
    }),
  );
  return seen;
}

test('client_credentials: a form body with grant_type, scope, client_id and client_secret (RFC 6749 §4.4.2, client_secret_post)', async () => {
  const seen = recordTokenRequests();
  const checks: string[] = [];
  const tokens = await clientCredentialsToken(METADATA, M2M, { scope: 'user_default' }, { onCheck: (check, passed) => passed && checks.push(check.code) });
  assert.deepEqual(checks.slice(0, 2), ['CONFIDENTIAL_CLIENT_REQUIRED', 'SCOPE_INVALID'], 'the checks made before sending are reported, then the token checks');
  assert.ok(checks.includes('ACCESS_TOKEN_MISSING'));
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.contentType, 'application/x-www-form-urlencoded');
  assert.equal(seen[0]!.authorization, null);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(seen[0]!.text)), {
    grant_type: 'client_credentials',
    scope: 'user_default',
    client_id: M2M.clientId,
    client_secret: M2M.clientSecret,
  });
  assert.match(tokens.accessToken, /^at-m2m-/);
  assert.equal(tokens.refreshToken, undefined);
});

test('client_credentials with client_secret_basic: the secret only in the Authorization header; no scope sent when none is asked for', async () => {
  const seen = recordTokenRequests();
  await clientCredentialsToken(METADATA, { ...M2M, authMethod: 'client_secret_basic' });
  assert.equal(seen[0]!.authorization, `Basic ${Buffer.from(`${M2M.clientId}:${M2M.clientSecret}`).toString('base64')}`);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(seen[0]!.text)), { grant_type: 'client_credentials', client_id: M2M.clientId }, 'Qlik requires client_id in the body whatever the authentication');
});

test('client_credentials: a refresh_token in the answer is not kept (RFC 6749 §4.4.3)', async () => {
  recordTokenRequests(() => tokenAnswer({ refresh_token: 'rt-should-not-be-relied-on' }));
  const tokens = await clientCredentialsToken(METADATA, M2M);
  assert.equal(tokens.refreshToken, undefined);
});

test('impersonation: a JSON body with user_lookup { field, value }, as Qlik documents and @qlik/api sends', async () => {
  const seen = recordTokenRequests(() => tokenAnswer({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' }));
  const checks: string[] = [];
  await impersonationToken(METADATA, M2M, { scope: 'user_default', userLookup: SUBJECT }, { onCheck: (check) => checks.push(check.code) });
  assert.ok(checks.includes('USER_LOOKUP_INVALID'));
  assert.equal(seen[0]!.contentType, 'application/json');
  assert.deepEqual(JSON.parse(seen[0]!.text), {
    grant_type: IMPERSONATION_GRANT_TYPE,
    scope: 'user_default',
    user_lookup: { field: 'subject', value: 'auth0|a1b2c3' },
    client_id: M2M.clientId,
    client_secret: M2M.clientSecret,
  });
});

test('impersonation by userId, with client_secret_basic: JSON without the secret, which goes in the header', async () => {
  const seen = recordTokenRequests();
  await impersonationToken(METADATA, { ...M2M, authMethod: 'client_secret_basic' }, { userLookup: { field: 'userId', value: QLIK_USER.id } });
  assert.deepEqual(JSON.parse(seen[0]!.text), { grant_type: IMPERSONATION_GRANT_TYPE, user_lookup: { field: 'userId', value: QLIK_USER.id }, client_id: M2M.clientId });
  assert.match(seen[0]!.authorization!, /^Basic /);
});

test('clientPost refuses a nested field in a form body, before sending', async () => {
  const seen = recordTokenRequests();
  assert.throws(() => clientPost(METADATA, M2M, METADATA.tokenEndpoint, { grant_type: 'x', user_lookup: { field: 'subject', value: 'v' } }), TypeError);
  assert.equal(seen.length, 0);
});

test('CONFIDENTIAL_CLIENT_REQUIRED: a public client may not use client_credentials or impersonation, and nothing is sent', async () => {
  const seen = recordTokenRequests();
  const isRefused = (e: unknown) => e instanceof ConfigurationError && e.code === 'CONFIDENTIAL_CLIENT_REQUIRED' && e.step === 'machine' && e.rule === 'RFC 6749 §4.4';
  await assert.rejects(clientCredentialsToken(METADATA, { clientId: 'native-app' }), isRefused);
  await assert.rejects(clientCredentialsToken(METADATA, { clientId: 'native-app', clientSecret: '' }), isRefused);
  await assert.rejects(clientCredentialsToken(METADATA, { ...M2M, authMethod: 'none' }), isRefused);
  await assert.rejects(impersonationToken(METADATA, { clientId: 'spa' }, { userLookup: SUBJECT }), isRefused);
  assert.throws(() => machineSession(METADATA, { clientId: 'native-app' }), isRefused);
  assert.equal(seen.length, 0);
});

test('USER_LOOKUP_INVALID: the field, an empty, huge or control-character value are refused before sending', async () => {
  const seen = recordTokenRequests();
  const bad: unknown[] = [
    { field: 'email', value: 'ada@example.com' },
    { field: 'subject', value: '' },
    { field: 'subject', value: '   ' },
    { field: 'userId', value: 42 },
    { field: 'subject', value: 'x'.repeat(MAX_USER_LOOKUP_LENGTH + 1) },
    { field: 'subject', value: 'ada\r\nX-Injected: 1' },
    { field: 'subject', value: 'ada\u0085' },
    undefined,
  ];
  for (const lookup of bad) {
    await assert.rejects(
      impersonationToken(METADATA, M2M, { userLookup: lookup as UserLookup }),
      (e: unknown) => e instanceof ConfigurationError && e.code === 'USER_LOOKUP_INVALID' && !/\r|\n/.test(e.message),
      JSON.stringify(lookup)?.slice(0, 60),
    );
  }
  assert.deepEqual(checkUserLookup({ field: 'subject', value: 'x'.repeat(MAX_USER_LOOKUP_LENGTH) }).value.length, MAX_USER_LOOKUP_LENGTH);
  assert.equal(seen.length, 0);
});

test('SCOPE_INVALID: a malformed scope is refused before a machine grant is sent', async () => {
  const seen = recordTokenRequests();
  await assert.rejects(clientCredentialsToken(METADATA, M2M, { scope: 'user_default  "x"' }), (e: unknown) => e instanceof ConfigurationError && e.code === 'SCOPE_INVALID');
  assert.equal(seen.length, 0);
});

test('IMPERSONATION_REFUSED: an unknown user is a TenantError that names the lookup and keeps the traceId', async () => {
  recordTokenRequests(() => HttpResponse.json({ errors: [{ title: 'Unauthorized', code: 'OAUTH-5', status: '401' }], traceId: 'trace-42' }, { status: 401 }));
  await assert.rejects(impersonationToken(METADATA, M2M, { userLookup: SUBJECT }), (e: unknown) => {
    assert.ok(e instanceof TenantError);
    assert.equal(e.code, 'IMPERSONATION_REFUSED');
    assert.equal(e.status, 401);
    assert.equal(e.traceId, 'trace-42');
    assert.match(e.message, /subject "auth0\|a1b2c3"/);
    assert.match(e.message, /trace-42/);
    assert.match(e.hint, /exists on the tenant/);
    assert.doesNotMatch(`${e.message} ${e.hint}`, /redirect URI|PKCE|m2m-secret/);
    return true;
  });
});

test('MACHINE_TOKEN_REFUSED: a refused client credentials grant says what to check for an M2M client', async () => {
  recordTokenRequests(() => HttpResponse.json({ errors: [{ title: 'Unauthorized', code: 'OAUTH-5', status: '401' }], traceId: 't1' }, { status: 401 }));
  await assert.rejects(clientCredentialsToken(METADATA, M2M), (e: unknown) => {
    assert.ok(e instanceof TenantError && e.code === 'MACHINE_TOKEN_REFUSED');
    assert.match(e.hint, /client credentials grant allowed/);
    assert.deepEqual(e.settings, ['clientId', 'clientSecret', 'scope']);
    return true;
  });
});

test('a 429 or 5xx on a machine grant is not called a refusal: it keeps TOKEN_ERROR_RESPONSE and the wait', async () => {
  recordTokenRequests(() => HttpResponse.json({ errors: [{ code: 'HTTP-429', title: 'Too Many Requests' }] }, { status: 429, headers: { 'retry-after': '13' } }));
  await assert.rejects(clientCredentialsToken(METADATA, M2M), (e: unknown) => e instanceof TenantError && e.code === 'TOKEN_ERROR_RESPONSE' && e.retryAfter === 13);
});

test('machineSession: many concurrent calls fetch one token; later calls reuse it until it is in its margin', async () => {
  const seen = recordTokenRequests();
  const bearers: string[] = [];
  server.use(
    http.get(ME_URL, ({ request }) => {
      bearers.push(request.headers.get('authorization')!);
      return HttpResponse.json(QLIK_USER);
    }),
  );
  const session = machineSession(METADATA, M2M, { scope: 'user_default' });
  const answers = await Promise.all(Array.from({ length: 8 }, () => qlikFetch(session, '/api/v1/users/me')));
  assert.equal(answers.length, 8);
  assert.equal(seen.length, 1, 'one token request for eight concurrent calls');
  await qlikFetch(session, '/api/v1/users/me');
  assert.equal(seen.length, 1, 'cached');
  assert.equal(new Set(bearers).size, 1);

  // In its refresh margin: the next call fetches a new token first, again once for all callers.
  session.tokens = { ...session.tokens!, expiresAt: Date.now() + 1_000 };
  await Promise.all([qlikFetch(session, '/api/v1/users/me'), qlikFetch(session, '/api/v1/users/me'), sessionAccessToken(session)]);
  assert.equal(seen.length, 2);
  assert.equal(new Set(bearers).size, 2);
  assert.equal(new URLSearchParams(seen[1]!.text).get('grant_type'), 'client_credentials');
});

test('machineSession: a 401 from the API fetches a new token once and retries', async () => {
  const seen = recordTokenRequests();
  let calls = 0;
  server.use(http.get(ME_URL, () => (++calls === 1 ? HttpResponse.json({ errors: [{ code: 'HTTP-401', title: 'Unauthorized' }] }, { status: 401 }) : HttpResponse.json(QLIK_USER))));
  const session = machineSession(METADATA, M2M);
  await sessionAccessToken(session);
  assert.equal(seen.length, 1);
  const me = await qlikFetch(session, '/api/v1/users/me');
  assert.equal(me.id, QLIK_USER.id);
  assert.equal(seen.length, 2);
  assert.equal(calls, 2);
});

test('machineSession with a user lookup uses impersonation, and its refusal reaches the caller as IMPERSONATION_REFUSED', async () => {
  const seen = recordTokenRequests(() => HttpResponse.json({ errors: [{ title: 'Unauthorized', code: 'OAUTH-5', status: '401' }] }, { status: 401 }));
  const session = machineSession(METADATA, M2M, { userLookup: { field: 'userId', value: 'no-such-user' } });
  await assert.rejects(qlikFetch(session, '/api/v1/users/me'), (e: unknown) => e instanceof TenantError && e.code === 'IMPERSONATION_REFUSED');
  assert.equal(JSON.parse(seen[0]!.text).grant_type, IMPERSONATION_GRANT_TYPE);
  assert.throws(() => machineSession(METADATA, M2M, { userLookup: { field: 'userId', value: '' } }), (e: unknown) => e instanceof ConfigurationError && e.code === 'USER_LOOKUP_INVALID');
});
