// `npm run m2m` end to end: the command as a child process, against the sandbox it starts itself
// (no tenant configured) or against one this test runs (QLIK_TENANT_URL set).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, SANDBOX_JWT_CLIENT_ID, SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET, SANDBOX_NATIVE_CLIENT_ID, type Sandbox } from '../src/sandbox/index.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseM2mArguments } from '../src/cli/m2m.ts';
import { envWithout, lastLine, runCli } from './helpers/cli.ts';
import { HOSTILE_CLIENT_ID, HOSTILE_CLIENT_SECRET, json, startHostileTenant } from './helpers/hostile-tenant.ts';

let sandbox: Sandbox;
before(async () => {
  sandbox = await startSandbox();
});
after(() => sandbox.close());

const configured = (extra: Record<string, string> = {}) =>
  envWithout({ QLIK_TENANT_URL: sandbox.url, QLIK_CLIENT_ID: SANDBOX_M2M_CLIENT_ID, QLIK_CLIENT_SECRET: SANDBOX_M2M_CLIENT_SECRET, ...extra });

test('npm run m2m with no tenant configured: the bot user JSON as the last stdout line, exit 0', async () => {
  const run = runCli('m2m', [], envWithout());
  assert.equal(await run.exit, 0, run.stderr());
  const me = JSON.parse(lastLine(run.stdout()));
  assert.equal(me.subject, `sandbox-bot|${SANDBOX_M2M_CLIENT_ID}`);
  assert.equal(run.stdout().trimEnd().split('\n').length, 1, 'stdout holds the answer only');
});

test('npm run m2m --impersonate answers as that user (by subject, and by userId)', async () => {
  const bySubject = runCli('m2m', ['--impersonate', 'subject:sandbox|ada'], envWithout());
  assert.equal(await bySubject.exit, 0, bySubject.stderr());
  const ada = JSON.parse(lastLine(bySubject.stdout()));
  assert.equal(ada.name, 'Ada');
  assert.equal(ada.subject, 'sandbox|ada');

  const byId = runCli('m2m', ['GET', '/api/v1/users/me', '--impersonate', `userId:${ada.id}`], configured());
  assert.equal(await byId.exit, 0, byId.stderr());
  assert.equal(JSON.parse(lastLine(byId.stdout())).id, ada.id);
});

test('npm run m2m: a write with --json, then a read and a DELETE (204 prints {})', async () => {
  const created = runCli('m2m', ['POST', '/api/v1/spaces', '--json', '{"name":"M2M reports","type":"shared"}'], configured());
  assert.equal(await created.exit, 0, created.stderr());
  const space = JSON.parse(lastLine(created.stdout()));
  assert.equal(space.name, 'M2M reports');

  const read = runCli('m2m', [`/api/v1/spaces/${space.id}`], configured());
  assert.equal(await read.exit, 0, read.stderr());
  assert.equal(JSON.parse(lastLine(read.stdout())).id, space.id);

  const deleted = runCli('m2m', ['DELETE', `/api/v1/spaces/${space.id}`], configured());
  assert.equal(await deleted.exit, 0, deleted.stderr());
  assert.equal(lastLine(deleted.stdout()), '{}');
});

test('npm run m2m: an unknown user is IMPERSONATION_REFUSED on one stderr line, exit 1, nothing on stdout', async () => {
  const run = runCli('m2m', ['--impersonate', 'subject:nobody-here'], configured());
  assert.equal(await run.exit, 1);
  assert.equal(run.stdout(), '');
  const line = run.stderr().trimEnd();
  assert.equal(line.split('\n').length, 1);
  assert.match(line, /^Error IMPERSONATION_REFUSED \(Qlik: user impersonation\): .*subject "nobody-here".*traceId/);
  assert.ok(!line.includes(SANDBOX_M2M_CLIENT_SECRET));
});

test('npm run m2m: a public client is refused before anything is sent (CONFIDENTIAL_CLIENT_REQUIRED, exit 2)', async () => {
  const before = sandbox.stats().tokenRequests;
  const run = runCli('m2m', [], envWithout({ QLIK_TENANT_URL: sandbox.url, QLIK_CLIENT_ID: SANDBOX_NATIVE_CLIENT_ID }));
  assert.equal(await run.exit, 2);
  assert.match(run.stderr(), /CONFIDENTIAL_CLIENT_REQUIRED \(RFC 6749 §4\.4\)/);
  assert.equal(sandbox.stats().tokenRequests, before);
});

test('npm run m2m: a wrong secret is MACHINE_TOKEN_REFUSED, and the secret is not echoed', async () => {
  const run = runCli('m2m', [], configured({ QLIK_CLIENT_SECRET: 'wrong-secret-do-not-print' }));
  assert.equal(await run.exit, 1);
  assert.match(run.stderr(), /MACHINE_TOKEN_REFUSED/);
  assert.ok(!run.stderr().includes('wrong-secret-do-not-print'));
});

test('npm run m2m: a tenant that echoes the secret and the token in its errors gets neither printed', async () => {
  const hostile = await startHostileTenant();
  try {
    const env = envWithout({ QLIK_TENANT_URL: hostile.url, QLIK_CLIENT_ID: HOSTILE_CLIENT_ID, QLIK_CLIENT_SECRET: HOSTILE_CLIENT_SECRET });
    hostile.on.token = (request, res, tenant) =>
      json(401, { error: 'invalid_client', error_description: `client_secret ${new URLSearchParams(request.body).get('client_secret')} is wrong` })(request, res, tenant);
    const refused = runCli('m2m', [], env);
    assert.equal(await refused.exit, 1);
    assert.match(refused.stderr(), /^Error MACHINE_TOKEN_REFUSED .*client_secret (\[redacted\]|…\(\d+ chars #[0-9a-f]{4}\)) is wrong/);
    assert.ok(!refused.stderr().includes(HOSTILE_CLIENT_SECRET), refused.stderr());

    // RFC 6750 §3: a 403 whose challenge repeats the caller's bearer token.
    hostile.reset();
    hostile.on.usersMe = (request, res, tenant) =>
      json(403, { errors: [{ code: 'HTTP-403', title: `Forbidden for ${request.headers.authorization}` }] })(request, res, tenant);
    const forbidden = runCli('m2m', [], env);
    assert.equal(await forbidden.exit, 1);
    const token = hostile.requests.find((request) => request.path === '/api/v1/users/me')!.headers.authorization!.slice('Bearer '.length);
    assert.match(forbidden.stderr(), /Forbidden for Bearer (\[redacted\]|…\(\d+ chars #[0-9a-f]{4}\))/);
    assert.ok(!forbidden.stderr().includes(token), forbidden.stderr());
  } finally {
    await hostile.close();
  }
});

test('npm run m2m: a set but empty QLIK_SCOPE is a setting error, exit 2', async () => {
  const run = runCli('m2m', [], configured({ QLIK_SCOPE: '' }));
  assert.equal(await run.exit, 2);
  assert.match(run.stderr(), /^Configuration error: QLIK_SCOPE is set but empty; Qlik requires a scope at \/oauth\/authorize\. Fix: /);
});

test('m2m arguments: method and path, --json, --impersonate; mistakes are ConfigErrors before any network', () => {
  assert.deepEqual(parseM2mArguments([]), { method: 'GET', path: '/api/v1/users/me', json: undefined, userLookup: undefined });
  assert.deepEqual(parseM2mArguments(['/api/v1/spaces']), { method: 'GET', path: '/api/v1/spaces', json: undefined, userLookup: undefined });
  assert.deepEqual(parseM2mArguments(['delete', '/api/v1/spaces/1']), { method: 'DELETE', path: '/api/v1/spaces/1', json: undefined, userLookup: undefined });
  assert.deepEqual(parseM2mArguments(['/api/v1/spaces', '--json', '{"name":"x"}']), { method: 'POST', path: '/api/v1/spaces', json: { name: 'x' }, userLookup: undefined });
  assert.deepEqual(parseM2mArguments(['--impersonate', 'userId:abc:def']).valueOf(), { method: 'GET', path: '/api/v1/users/me', json: undefined, userLookup: { field: 'userId', value: 'abc:def' } });
  for (const bad of [['FETCH', '/x'], ['https://evil.example/api'], ['//evil.example/api'], ['GET', '/x', '--json', '{}'], ['--json', '{oops'], ['--impersonate', 'email:a@b.c'], ['a', 'b', 'c']]) {
    assert.throws(() => parseM2mArguments(bad), (e: Error) => e.name === 'ConfigError', bad.join(' '));
  }
});

test('npm run m2m with QLIK_CLIENT_PRIVATE_KEY_FILE and QLIK_CLIENT_KEY_ID: private key JWT, no secret needed (RFC 7523 §2.2)', async () => {
  const keyFile = join(mkdtempSync(join(tmpdir(), 'qlik-key-')), 'key.pem');
  writeFileSync(keyFile, sandbox.jwtPrivateKeyPem, { mode: 0o600 });
  const env = envWithout({ QLIK_TENANT_URL: sandbox.url, QLIK_CLIENT_ID: SANDBOX_JWT_CLIENT_ID, QLIK_CLIENT_PRIVATE_KEY_FILE: keyFile, QLIK_CLIENT_KEY_ID: 'sandbox-key' });
  const run = runCli('m2m', [], env);
  assert.equal(await run.exit, 0, run.stderr());
  assert.equal(JSON.parse(lastLine(run.stdout())).subject, `sandbox-bot|${SANDBOX_JWT_CLIENT_ID}`);
  // Without the key id (Qlik requires it), and with a file that holds no key: setting errors, exit 2.
  const noKid = runCli('m2m', [], envWithout({ ...env, QLIK_CLIENT_KEY_ID: '' }));
  assert.equal(await noKid.exit, 2);
  assert.match(noKid.stderr(), /QLIK_CLIENT_KEY_ID/);
  writeFileSync(keyFile, 'not a key');
  const broken = runCli('m2m', [], env);
  assert.equal(await broken.exit, 2);
  assert.match(broken.stderr(), /holds no EC P-256 or RSA private key/);
});
