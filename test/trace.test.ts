import { spawnSync } from 'node:child_process';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { Trace, ruleHref, formatTranscript } from '../src/trace.ts';
import { CHECKS } from '../src/checks.ts';
import { redactValue, redactUrl } from '../src/redact.ts';
import { discover, exchangeCode, getCurrentUser, validateCallback, type HttpExchange, type TenantError } from '../src/index.ts';
import { CLIENT, QLIK_USER, TENANT, mockTenant, qlikMetadataDocument } from './helpers/tenant.ts';

const server = mockTenant();
after(() => server.close());

const SECRETS = {
  code: 'code-SECRET-0123456789abcdef',
  verifier: 'verifier-SECRET-0123456789abcdefghijklmnopqrstu',
  accessToken: 'at-SECRET-0123456789abcdefghij',
  refreshToken: 'rt-SECRET-0123456789abcdefghij',
  state: 'state-SECRET-0123456789abcdef',
};

function assertNoSecret(text: string) {
  for (const secret of [...Object.values(SECRETS), CLIENT.clientSecret]) {
    assert.ok(!text.includes(secret), `leaked ${secret.slice(0, 12)}… in: ${text.slice(text.indexOf(secret) - 80, text.indexOf(secret) + 40)}`);
  }
}

test('redactValue keeps a short prefix and the length', () => {
  assert.match(redactValue('eyJhbGciOiJIUzI1NiJ9.payload'), /^eyJh…\(28 chars #[0-9a-f]{4}\)$/);
  assert.match(redactValue('short'), /^…\(5 chars #[0-9a-f]{4}\)$/);
});

test('redactValue tells apart values with the same prefix, and marks equal values alike', () => {
  const a = 'eyJhbGciOiJIUzI1NiJ9.first';
  const b = 'eyJhbGciOiJIUzI1NiJ9.other';
  assert.notEqual(redactValue(a), redactValue(b));
  assert.equal(redactValue(a), redactValue(a));
});

test('redactUrl redacts code and state, keeps the rest', () => {
  const url = redactUrl(`http://localhost:3000/login/callback?code=${SECRETS.code}&state=${SECRETS.state}&iss=${encodeURIComponent(TENANT)}`);
  assertNoSecret(url);
  assert.match(url, /code=code…\(28 chars #[0-9a-f]{4}\)&state=stat…/, 'redaction marks are shown as they are, not percent-encoded');
  assert.match(url, /iss=http%3A%2F%2F127\.0\.0\.1%3A9/);
});

test('ruleHref links an RFC section', () => {
  assert.equal(ruleHref('RFC 8414 §3.3'), 'https://www.rfc-editor.org/rfc/rfc8414#section-3.3');
  assert.equal(ruleHref('Qlik: users API'), undefined);
});

test('a whole sign-in, traced: every request and check recorded, no secret anywhere', async () => {
  server.use(
    http.get(`${TENANT}/.well-known/oauth-authorization-server`, () => HttpResponse.json(qlikMetadataDocument())),
    http.post(`${TENANT}/oauth/token`, () =>
      HttpResponse.json({ access_token: SECRETS.accessToken, refresh_token: SECRETS.refreshToken, token_type: 'bearer', expires_in: 21600 }),
    ),
    http.get(`${TENANT}/api/v1/users/me`, () => HttpResponse.json(QLIK_USER)),
  );
  const trace = new Trace([CLIENT.clientSecret, SECRETS.verifier]);
  const metadata = await discover(TENANT, trace.hooks('3.1'));
  const callback = `${CLIENT.redirectUri}?code=${SECRETS.code}&state=${SECRETS.state}`;
  trace.note('3.3', `callback received: ${callback}`);
  const { code } = validateCallback(callback, { expectedState: SECRETS.state, issuer: TENANT, issRequired: false }, trace.hooks('3.3'));
  const tokens = await exchangeCode(metadata, CLIENT, { code, codeVerifier: SECRETS.verifier }, trace.hooks('3.3'));
  await getCurrentUser(metadata, tokens.accessToken, trace.hooks('3.4'));

  const json = JSON.stringify(trace.events);
  assertNoSecret(json);
  const text = formatTranscript(trace.events);
  assertNoSecret(text);

  const exchanges = trace.events.filter((e) => e.type === 'exchange');
  assert.deepEqual(exchanges.map((e) => `${e.section} ${e.method} ${e.status}`), ['3.1 GET 200', '3.3 POST 200', '3.4 GET 200']);
  const tokenCall = exchanges[1]!;
  assert.match(tokenCall.requestBody!, /grant_type=authorization_code/);
  assert.match(tokenCall.requestBody!, /client_secret=…\(29 chars #[0-9a-f]{4}\)/, 'no prefix for the client secret');
  const redactedToken = /"access_token": "(at-S…\(30 chars #[0-9a-f]{4}\))"/.exec(tokenCall.responseBody!)?.[1];
  assert.ok(redactedToken, tokenCall.responseBody);
  assert.equal(exchanges[2]!.requestHeaders.authorization, `Bearer ${redactedToken}`, 'the same token, marked alike where it was issued and where it was used');
  const checks = trace.events.filter((e) => e.type === 'check');
  assert.ok(checks.some((c) => c.code === 'ISSUER_MISMATCH' && c.passed && c.section === '3.1' && c.rule === 'RFC 8414 §3.3'));
  assert.ok(checks.some((c) => c.code === 'STATE_MISMATCH' && c.passed && c.section === '3.3'));
  assert.ok(checks.some((c) => c.code === 'USER_INVALID' && c.passed && c.section === '3.4'));
  assert.match(text, /── 3\.1 Discover the tenant/);
  assert.match(text, /── 3\.4 Call the Qlik API/);
});

test('a failed sign-in\'s transcript names the failing check, and the error body is scrubbed', async () => {
  server.use(
    http.post(`${TENANT}/oauth/token`, () =>
      HttpResponse.json({ errors: [{ code: 'OAUTH-22', title: 'Invalid client_secret', detail: `secret ${CLIENT.clientSecret} is wrong` }] }, { status: 401 }),
    ),
  );
  const trace = new Trace([CLIENT.clientSecret]);
  const metadata = await import('./helpers/tenant.ts').then((m) => m.METADATA);
  const error = await exchangeCode(metadata, CLIENT, { code: SECRETS.code, codeVerifier: SECRETS.verifier }, trace.hooks('3.3')).catch((e: TenantError) => e);
  trace.failure('3.3', error);
  const failed = trace.events.find((e) => e.type === 'check' && !e.passed);
  assert.ok(failed && failed.type === 'check');
  assert.equal(failed.code, 'TOKEN_ERROR_RESPONSE');
  assert.equal(failed.section, '3.3');
  assert.match(failed.message!, /OAUTH-22/);
  assertNoSecret(JSON.stringify(trace.events));
  assert.match(formatTranscript(trace.events), /^ {3}✗ did not hold: the token endpoint answers with tokens, not an error \[TOKEN_ERROR_RESPONSE, RFC 6749 §5\.2\]\n {5}The tenant refused to exchange the code \(HTTP 401, OAUTH-22/m);
});

test('the transcript is bounded', () => {
  const trace = new Trace();
  for (let i = 0; i < 2000; i++) trace.note('3.1', `note ${i}`);
  assert.ok(trace.events.length <= 500);
});

// Redaction of what a tenant may send besides the usual fields. Each builds one exchange by hand.
const LONG = 'SECRET-0123456789abcdefghijklmnop';
interface Sent {
  requestHeaders?: Record<string, string>;
  requestBody?: string;
  status?: number;
  responseHeaders?: Record<string, string>;
  responseBody?: string;
}
function exchange({ requestHeaders = {}, requestBody, status = 200, responseHeaders = {}, responseBody = '' }: Sent): HttpExchange {
  return {
    request: { method: 'POST', url: `${TENANT}/x`, headers: requestHeaders, body: requestBody },
    status,
    result: { status, headers: new Headers(responseHeaders), body: responseBody },
    error: undefined,
    durationMs: 1,
  };
}

test('an id_token, and a token nested deep in JSON, are redacted', () => {
  const trace = new Trace();
  const body = JSON.stringify({ id_token: `id-${LONG}`, data: { items: [{ access_token: `at-${LONG}` }] } });
  trace.hooks('3.3').onExchange(exchange({ responseHeaders: { 'content-type': 'application/json' }, responseBody: body }));
  const json = JSON.stringify(trace.events);
  assert.ok(!json.includes(`id-${LONG}`), 'id_token leaked');
  assert.ok(!json.includes(`at-${LONG}`), 'nested access_token leaked');
});

test('the token in a revocation form (RFC 7009) is redacted', () => {
  const trace = new Trace();
  trace.hooks('lifecycle').onExchange(exchange({
    requestHeaders: { 'content-type': 'application/x-www-form-urlencoded' },
    requestBody: `token=rt-${LONG}&token_type_hint=refresh_token`,
  }));
  assert.ok(!JSON.stringify(trace.events).includes(`rt-${LONG}`), 'revoked token leaked');
});

test('cookies and set-cookie are redacted; headers of no interest are left out', () => {
  const trace = new Trace();
  trace.hooks('3.3').onExchange(exchange({
    requestHeaders: { cookie: `sid=c-${LONG}` },
    responseHeaders: { 'set-cookie': `sid=s-${LONG}; HttpOnly`, 'x-session-debug': `d-${LONG}` },
  }));
  const json = JSON.stringify(trace.events);
  for (const leaked of [`c-${LONG}`, `s-${LONG}`, `d-${LONG}`]) assert.ok(!json.includes(leaked), `${leaked.slice(0, 2)} leaked`);
});

test('a known secret is scrubbed from free text, percent-encoded too, with no prefix shown', () => {
  const secret = 'p+ss/w0rd=SECRET-0123456789';
  const trace = new Trace([secret]);
  trace.note('3.3', `the tenant echoed ${secret} and ${encodeURIComponent(secret)}`);
  const json = JSON.stringify(trace.events);
  assert.ok(!json.includes(secret) && !json.includes(encodeURIComponent(secret)), json);
  assert.ok(!json.includes('p+ss…'), 'a secret out of place shows none of itself');
});

test('tokens in a body that is not JSON, or not labelled JSON, are redacted too', () => {
  const trace = new Trace();
  const tokens = `{"access_token":"at-${LONG}","refresh_token":"rt-${LONG}","token_type":"bearer"}`;
  trace.hooks('3.3').onExchange(exchange({ responseHeaders: { 'content-type': 'text/plain' }, responseBody: tokens }));
  trace.hooks('3.3').onExchange(exchange({ responseHeaders: { 'content-type': 'application/json' }, responseBody: tokens.slice(0, -2) }));
  trace.hooks('3.3').onExchange(exchange({ responseHeaders: { 'content-type': 'text/html' }, responseBody: `<p>access_token=at-${LONG}&x=1</p>` }));
  const json = JSON.stringify(trace.events);
  assert.ok(!json.includes(`at-${LONG}`) && !json.includes(`rt-${LONG}`), json);
});

test('a flood of huge notes keeps the transcript within its character budget', () => {
  const trace = new Trace();
  for (let i = 0; i < 300; i++) trace.note('3.3', `callback ${'x'.repeat(15_000)} code=${i}-${LONG}`);
  const size = JSON.stringify(trace.events).length;
  assert.ok(size <= 70_000, `transcript holds ${size} characters`);
  assert.ok(trace.events.length > 10, 'recent events are kept');
});

// Issue 19, finding 3: text was cut to its size before it was scrubbed, so a secret straddling the
// cut survived minus its last characters, which a scrub of whole values no longer recognised.
test('a known secret straddling a cut (a body at 2,000, a note at 1,000, a message at 600) shows none of itself', () => {
  const secret = `s3cret-${'q'.repeat(40)}`;
  const trace = new Trace([secret]);
  const straddling = (cut: number) => `${'x'.repeat(cut - 10)}${secret}`;
  const hooks = trace.hooks('3.3');
  hooks.onExchange(exchange({ responseHeaders: { 'content-type': 'text/html' }, responseBody: `${straddling(2_000)}</p>` }));
  // Pretty-printed JSON: the value starts 23 characters into the text.
  hooks.onExchange(exchange({ status: 400, responseHeaders: { 'content-type': 'application/json' }, responseBody: JSON.stringify({ error_description: straddling(2_000 - 23) }) }));
  trace.note('3.3', straddling(1_000));
  trace.check('3.3', CHECKS.TOKEN_ERROR_RESPONSE, false, straddling(600));
  const json = JSON.stringify(trace.events);
  assert.ok(!json.includes('s3cret'), `a part of the secret survived: ${json.slice(json.indexOf('s3cret') - 20, json.indexOf('s3cret') + 60)}`);
});

// Issue 19, findings 2 and 3: what the client itself sent is scrubbed from everything the tenant
// answers, whatever its length; before, a secret over a quarter of the budget was never remembered.
test('a secret the client sent is scrubbed from the answer, its headers too, however long it is', () => {
  const jwt = `eyJ${'j'.repeat(1_500)}`;
  const bearer = `at-${'b'.repeat(40)}`;
  const trace = new Trace([], { maxChars: 4_000 }); // the small budget of a session nobody is signed in to
  trace.hooks('lifecycle').onExchange(exchange({
    requestHeaders: { 'content-type': 'application/x-www-form-urlencoded' },
    requestBody: `token=${jwt}&token_type_hint=refresh_token`,
    status: 400,
    responseHeaders: { 'content-type': 'application/json' },
    responseBody: JSON.stringify({ error: 'invalid_request', error_description: `token ${jwt} is not valid` }),
  }));
  trace.hooks('3.4').onExchange(exchange({
    requestHeaders: { authorization: `Bearer ${bearer}` },
    status: 403,
    responseHeaders: { 'www-authenticate': `Bearer error="insufficient_scope", error_description="${bearer} lacks a scope"` },
  }));
  trace.check('lifecycle', CHECKS.REVOKE_FAILED, false, `The tenant said: token ${jwt} is not valid`);
  const json = JSON.stringify(trace.events);
  assert.ok(!json.includes(jwt.slice(0, 40)), 'the JWT-sized token shows');
  assert.ok(!json.includes(bearer), 'the bearer token shows in WWW-Authenticate');
  assert.equal(trace.secrets.scrub(`flash: ${jwt}`), `flash: ${trace.secrets.scrub(jwt)}`);
  assert.ok(!trace.secrets.scrub(`flash: ${jwt}`).includes('jjjj'));
});

// Issue 18: a Cloudflare Worker refuses random values and timers in global scope, and redact.ts
// drew its fingerprint key when loaded. In a child process whose random sources and timers throw.
test('redact.ts, trace.ts and trace-format.ts draw no random value and start no timer when loaded', () => {
  const modules = ['redact.ts', 'trace.ts', 'trace-format.ts'].map((file) => new URL(`../src/${file}`, import.meta.url).href);
  const script = `
    import crypto from 'node:crypto';
    import { syncBuiltinESMExports } from 'node:module';
    const forbidden = (name) => () => { throw new Error(name + ' at module load'); };
    for (const name of ['randomBytes', 'randomFillSync', 'randomFill', 'randomUUID', 'randomInt']) crypto[name] = forbidden('crypto.' + name);
    Object.defineProperty(globalThis.crypto, 'getRandomValues', { value: forbidden('crypto.getRandomValues') });
    globalThis.setTimeout = forbidden('setTimeout');
    globalThis.setInterval = forbidden('setInterval');
    syncBuiltinESMExports();
    for (const module of ${JSON.stringify(modules)}) await import(module);
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});
