// `npm run login` end to end: the command as a child process on 127.0.0.1, a real sandbox tenant,
// and fetch playing the browser (consent page, Allow, the redirect to the CLI's loopback listener).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_NATIVE_CLIENT_ID, type Sandbox } from '../src/sandbox/index.ts';
import { discover } from '../src/3.1-discovery.ts';
import { savedFileProblem, saveTokens } from '../src/cli/login.ts';
import { allowAtSandbox, envWithout, lastLine, runCli } from './helpers/cli.ts';
import { HOSTILE_CLIENT_ID, json, startHostileTenant } from './helpers/hostile-tenant.ts';

const URL_LINE = /^Open this URL to sign in: (\S+)$/;
let dir: string;
let sandbox: Sandbox;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qlik-login-'));
  sandbox = await startSandbox();
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function urlFrom(line: string): string {
  return URL_LINE.exec(line)![1]!;
}

test('npm run login with no tenant configured: prints the URL, a browser signs in at the sandbox, the user JSON is the last line, exit 0', async () => {
  const run = runCli('login', ['--no-open'], envWithout());
  const authorizationUrl = urlFrom(await run.line(URL_LINE));
  const auth = new URL(authorizationUrl);
  assert.equal(auth.searchParams.get('client_id'), SANDBOX_NATIVE_CLIENT_ID);
  assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
  const redirectUri = new URL(auth.searchParams.get('redirect_uri')!);
  assert.equal(redirectUri.hostname, '127.0.0.1', 'RFC 8252 §8.3: the loopback IP literal');
  assert.equal(redirectUri.pathname, '/callback');

  // Anything else on this machine can reach the port: a wrong path, a forged state, a missing
  // state. Each gets its page and the wait goes on.
  const other = await fetch(new URL('/favicon.ico', redirectUri));
  assert.equal(other.status, 404);
  const forged = await fetch(`${redirectUri.href}?code=stolen&state=not-the-state`);
  assert.equal(forged.status, 400);
  assert.match(await forged.text(), /still waiting/);
  const noState = await fetch(`${redirectUri.href}?code=stolen`);
  assert.equal(noState.status, 400);

  const callback = await allowAtSandbox(authorizationUrl, 'grace');
  assert.ok(callback.startsWith(redirectUri.href));
  const page = await fetch(callback);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /You can close this tab/);
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');

  assert.equal(await run.exit, 0, run.stderr());
  const user = JSON.parse(lastLine(run.stdout()));
  assert.equal(user.name, 'Grace');
  assert.equal(user.subject, 'sandbox|grace');
  const lines = run.stdout().trimEnd().split('\n');
  assert.equal(lines.length, 2, 'stdout: the URL line and the user line, nothing else');
  assert.match(run.stderr(), /STATE_MISMATCH/);
  assert.match(run.stderr(), /STATE_MISSING/);
});

test('npm run login: a second callback after the valid one is refused with a page and does not change the outcome', async () => {
  const run = runCli('login', ['--no-open'], envWithout());
  const authorizationUrl = urlFrom(await run.line(URL_LINE));
  const callback = await allowAtSandbox(authorizationUrl, 'ada');
  const [first, second] = await Promise.all([fetch(callback), fetch(callback).catch(() => undefined)]);
  assert.equal(first.status, 200);
  // The second either finds the one-shot listener gone, or gets the "already" page.
  if (second !== undefined) assert.equal(second.status, 409);
  assert.equal(await run.exit, 0, run.stderr());
  assert.equal(JSON.parse(lastLine(run.stdout())).name, 'Ada');
});

test('npm run login --save: tokens in a 0600 file, never printed; the next run refreshes without a URL; a dead refresh token falls back to the browser', async () => {
  const file = join(dir, 'tokens.json');
  const env = envWithout({ QLIK_TENANT_URL: sandbox.url, QLIK_CLIENT_ID: SANDBOX_NATIVE_CLIENT_ID });

  const first = runCli('login', ['--no-open', '--save', file], env);
  const page = await fetch(await allowAtSandbox(urlFrom(await first.line(URL_LINE)), 'alan'));
  assert.equal(page.status, 200);
  assert.equal(await first.exit, 0, first.stderr());
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(saved.tenantUrl, sandbox.url);
  assert.ok(saved.refreshToken.length > 10);
  for (const output of [first.stdout(), first.stderr()]) {
    assert.ok(!output.includes(saved.refreshToken) && !output.includes(saved.accessToken), 'no token on stdout or stderr');
  }

  const refreshesBefore = sandbox.stats().refreshRequests;
  const second = runCli('login', ['--no-open', '--save', file], env);
  assert.equal(await second.exit, 0, second.stderr());
  assert.doesNotMatch(second.stdout(), /Open this URL/);
  assert.equal(JSON.parse(lastLine(second.stdout())).name, 'Alan');
  assert.equal(sandbox.stats().refreshRequests, refreshesBefore + 1);
  const rotated = JSON.parse(readFileSync(file, 'utf8'));
  assert.notEqual(rotated.refreshToken, saved.refreshToken, 'the rotated refresh token is kept');
  assert.equal(statSync(file).mode & 0o777, 0o600);

  writeFileSync(file, JSON.stringify({ ...rotated, refreshToken: 'revoked-or-made-up' }), { mode: 0o600 });
  const third = runCli('login', ['--no-open', '--save', file], env);
  await fetch(await allowAtSandbox(urlFrom(await third.line(URL_LINE)), 'alan'));
  assert.equal(await third.exit, 0, third.stderr());
  assert.match(third.stderr(), /no longer works/);
  assert.ok(!third.stderr().includes('revoked-or-made-up'));
});

test('npm run login with a confidential web client and a fixed QLIK_REDIRECT_URI: listens on that port and path', async () => {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/oauth/done`;
  sandbox.addRedirectUri(SANDBOX_CLIENT_ID, redirectUri);
  const env = envWithout({ QLIK_TENANT_URL: sandbox.url, QLIK_CLIENT_ID: SANDBOX_CLIENT_ID, QLIK_CLIENT_SECRET: SANDBOX_CLIENT_SECRET, QLIK_REDIRECT_URI: redirectUri, QLIK_SCOPE: 'user_default' });
  const run = runCli('login', ['--no-open'], env);
  const authorizationUrl = urlFrom(await run.line(URL_LINE));
  assert.equal(new URL(authorizationUrl).searchParams.get('redirect_uri'), redirectUri);
  const callback = await allowAtSandbox(authorizationUrl, 'grace');
  assert.ok(callback.startsWith(redirectUri));
  assert.equal((await fetch(callback)).status, 200);
  assert.equal(await run.exit, 0, run.stderr());
  assert.equal(JSON.parse(lastLine(run.stdout())).name, 'Grace');
  assert.ok(!run.stdout().includes(SANDBOX_CLIENT_SECRET) && !run.stderr().includes(SANDBOX_CLIENT_SECRET));
});

test('npm run login: the time limit ends the wait with one line on stderr and exit 1', async () => {
  const run = runCli('login', ['--no-open', '--timeout', '1'], envWithout());
  await run.line(URL_LINE);
  assert.equal(await run.exit, 1);
  const errors = run.stderr().trimEnd().split('\n');
  assert.match(errors.at(-1)!, /^Error LOOPBACK_TIMEOUT .*No sign-in came back within 1 s\..*What to do:/);
  assert.doesNotMatch(run.stderr(), /\n\s+at /, 'no stack trace');
});

test('npm run login: a bad setting or argument is one line on stderr and exit 2, before anything is started', async () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--port', 'eighty'], envWithout(), /--port "eighty"/],
    [['--timeout', '0'], envWithout(), /--timeout/],
    [['--no-open'], envWithout({ QLIK_CLIENT_ID: 'x' }), /QLIK_TENANT_URL is not/],
    [['--no-open'], envWithout({ QLIK_TENANT_URL: 'http://acme.example.com', QLIK_CLIENT_ID: 'x' }), /QLIK_TENANT_URL/],
    [['--no-open'], envWithout({ QLIK_REDIRECT_URI: 'https://app.example.com/callback' }), /REDIRECT_NOT_LOOPBACK/],
    [['--no-open'], envWithout({ QLIK_SCOPE: '' }), /^Configuration error: QLIK_SCOPE is set but empty; Qlik requires a scope at \/oauth\/authorize\./],
  ];
  for (const [args, env, message] of cases) {
    const run = runCli('login', args, env);
    assert.equal(await run.exit, 2, `${args.join(' ')}: ${run.stderr()}`);
    assert.equal(run.stdout(), '');
    assert.match(run.stderr(), message);
  }
});

test('npm run login: what the loopback listener prints about an ignored request has no raw control character (C0, C1, U+2028/2029)', async () => {
  const run = runCli('login', ['--no-open', '--timeout', '5'], envWithout());
  const redirectUri = new URL(new URL(urlFrom(await run.line(URL_LINE))).searchParams.get('redirect_uri')!);
  // A repeated parameter is named in the message; this name holds ESC, CSI (U+009B), NEL and a line separator.
  const name = encodeURIComponent('x\u001b[2J\u009b31m\u0085\u2028\u2029');
  assert.equal((await fetch(`${redirectUri.href}?${name}=1&${name}=2`)).status, 400);
  run.child.kill('SIGINT');
  await run.exit;
  assert.match(run.stderr(), /Ignored a request: .*CALLBACK_PARAM_REPEATED/);
  assert.doesNotMatch(run.stderr(), /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
  assert.match(run.stderr(), /\\x9b31m\\x85\\x2028\\x2029/);
});

test('npm run login: a tenant that echoes the code and the verifier in its token error gets neither printed', async () => {
  const hostile = await startHostileTenant();
  try {
    hostile.on.token = (request, res, tenant) => {
      const form = new URLSearchParams(request.body);
      json(400, { error: 'invalid_grant', error_description: `code ${form.get('code')} verifier ${form.get('code_verifier')}` })(request, res, tenant);
    };
    const run = runCli('login', ['--no-open'], envWithout({ QLIK_TENANT_URL: hostile.url, QLIK_CLIENT_ID: HOSTILE_CLIENT_ID }));
    const back = (await fetch(urlFrom(await run.line(URL_LINE)), { redirect: 'manual' })).headers.get('location')!;
    await fetch(back);
    assert.equal(await run.exit, 1);
    const form = new URLSearchParams(hostile.requests.find((request) => request.path === '/oauth/token')!.body);
    assert.match(run.stderr(), /invalid_grant: code (\[redacted\]|…\(\d+ chars #[0-9a-f]{4}\)) verifier (\[redacted\]|…\(\d+ chars #[0-9a-f]{4}\))/);
    for (const secret of [form.get('code')!, form.get('code_verifier')!]) assert.ok(!run.stderr().includes(secret), run.stderr());
  } finally {
    await hostile.close();
  }
});

test('--save: the temporary file has an unpredictable name, so one planted at FILE.<pid>.tmp does not stop the save', async () => {
  const file = join(dir, 'planted.json');
  const planted = `${file}.${process.pid}.tmp`;
  writeFileSync(planted, 'planted by someone else');
  const metadata = await discover(sandbox.url);
  const tokens = { accessToken: 'at-123456', tokenType: 'bearer' as const, expiresAt: undefined, lifetimeMs: undefined, refreshToken: 'rt-123456', scope: undefined };
  saveTokens(file, metadata, { clientId: SANDBOX_NATIVE_CLIENT_ID }, tokens);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).refreshToken, 'rt-123456');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readFileSync(planted, 'utf8'), 'planted by someone else');
  assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith('planted.json.') && name !== `planted.json.${process.pid}.tmp`), [], 'no temporary file left');
});

test('npm run login --save: tokens that cannot be saved are revoked, and the message says so (exit 1)', async () => {
  const file = join(dir, 'no-such-directory', 'tokens.json');
  const env = envWithout({ QLIK_TENANT_URL: sandbox.url, QLIK_CLIENT_ID: SANDBOX_NATIVE_CLIENT_ID });
  const revokesBefore = sandbox.stats().revokeRequests;
  const run = runCli('login', ['--no-open', '--save', file], env);
  assert.equal((await fetch(await allowAtSandbox(urlFrom(await run.line(URL_LINE)), 'alan'))).status, 200);
  assert.equal(await run.exit, 1, run.stderr());
  assert.match(run.stderr(), /Could not save the tokens to .*no-such-directory\/tokens\.json \(ENOENT.*\); the new tokens were revoked\. What to do: /);
  assert.equal(sandbox.stats().revokeRequests, revokesBefore + 2, 'the refresh token and the access token');
  assert.equal(run.stdout().trimEnd().split('\n').length, 1, 'no user JSON: the command failed');
  assert.ok(!existsSync(file));
});

test('npm run login --save: a saved file others may read is refused before anything is sent, saying why (exit 2)', async () => {
  const file = join(dir, 'open-to-others.json');
  writeFileSync(file, JSON.stringify({ tenantUrl: sandbox.url, clientId: SANDBOX_NATIVE_CLIENT_ID, accessToken: 'a', refreshToken: 'planted-or-leaked' }));
  chmodSync(file, 0o644);
  const refreshesBefore = sandbox.stats().refreshRequests;
  const run = runCli('login', ['--no-open', '--timeout', '5', '--save', file], envWithout({ QLIK_TENANT_URL: sandbox.url, QLIK_CLIENT_ID: SANDBOX_NATIVE_CLIENT_ID }));
  assert.equal(await run.exit, 2, run.stderr());
  assert.equal(run.stdout(), '');
  assert.match(run.stderr(), /^Configuration error: --save .*open-to-others\.json: not using it, because group or other users may read or write it \(mode 644; expected 600\)\. Fix: .*chmod 600/);
  assert.equal(sandbox.stats().refreshRequests, refreshesBefore);
  assert.ok(!run.stderr().includes('planted-or-leaked'));
});

test('--save: a saved file must be this user\'s own and closed to group and others', () => {
  assert.equal(savedFileProblem({ uid: 1000, mode: 0o100600 }, 1000), undefined);
  assert.equal(savedFileProblem({ uid: 0, mode: 0o100600 }, 1000), 'it belongs to another user (uid 0; you are 1000)');
  assert.equal(savedFileProblem({ uid: 1000, mode: 0o100640 }, 1000), 'group or other users may read or write it (mode 640; expected 600)');
  assert.equal(savedFileProblem({ uid: 1000, mode: 0o100602 }, 1000), 'group or other users may read or write it (mode 602; expected 600)');
  assert.equal(savedFileProblem({ uid: 1000, mode: 0o100600 }, undefined), undefined, 'Windows: no uid to compare');
});

test('npm run login --save: a saved file owned by another user is refused (exit 2)', { skip: process.getuid?.() !== 0 && 'only root can give a file to another user' }, async () => {
  const file = join(dir, 'not-mine.json');
  writeFileSync(file, '{}', { mode: 0o600 });
  chownSync(file, 65534, 65534);
  const run = runCli('login', ['--no-open', '--timeout', '5', '--save', file], envWithout({ QLIK_TENANT_URL: sandbox.url, QLIK_CLIENT_ID: SANDBOX_NATIVE_CLIENT_ID }));
  assert.equal(await run.exit, 2, run.stderr());
  assert.match(run.stderr(), /not using it, because it belongs to another user \(uid 65534; you are 0\)/);
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
