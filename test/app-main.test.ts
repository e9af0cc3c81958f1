// `npm start` (src/main.ts) as a user meets it: settings checked before anything starts, clear
// messages and exit codes, the sandbox when no tenant is set, and a clean stop on SIGTERM.
// Bad settings never reach the network: the checks fail first.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Browser, signIn } from './helpers/browser.ts';
import { SANDBOX_CLIENT_SECRET } from '../src/sandbox/index.ts';
import type { App } from '../src/app/index.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** Empty working directories for main.ts, removed when the tests are done. */
const workDirs: string[] = [];
function emptyDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  workDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts main.ts in an empty directory (so no stray .env is read) with only the given settings. */
function startMain(env: Record<string, string>, cwd = emptyDir('app-main-')): ChildProcess {
  const { PATH, HOME } = process.env;
  return spawn(process.execPath, ['--import', TSX, MAIN], { cwd, env: { PATH, HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess): { output: () => Finished; exited: Promise<Finished> } {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const output = () => ({ code: child.exitCode, stdout, stderr });
  const exited = new Promise<Finished>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`main.ts did not exit in time:\n${stdout}\n${stderr}`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, stdout, stderr }));
    });
  });
  return { output, exited };
}

async function run(env: Record<string, string>, cwd?: string): Promise<Finished> {
  return collect(startMain(env, cwd)).exited;
}

function assertNoStack(result: Finished): void {
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
}

describe('main.ts: settings that cannot work stop it with exit code 2', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'a tenant on plain http',
      { QLIK_TENANT_URL: 'http://example.com', QLIK_CLIENT_ID: 'id', QLIK_CLIENT_SECRET: 'shh-secret-value' },
      /^Configuration error: QLIK_TENANT_URL: The tenant URL "http:\/\/example\.com" cannot be used: it uses plain http on a host that is not this machine\.\nFix: Give the https:\/\/ address of your tenant\. Set it in QLIK_TENANT_URL\.\n$/,
    ],
    [
      'a tenant without a client secret',
      { QLIK_TENANT_URL: 'https://acme.eu.qlikcloud.com', QLIK_CLIENT_ID: 'id' },
      /^Configuration error: QLIK_TENANT_URL is set, but QLIK_CLIENT_SECRET is not\.\nFix: Copy it from your OAuth client .* into QLIK_CLIENT_SECRET, e\.g\. in \.env\.\n$/,
    ],
    [
      'a tenant without a client id',
      { QLIK_TENANT_URL: 'https://acme.eu.qlikcloud.com', QLIK_CLIENT_SECRET: 'shh-secret-value' },
      /^Configuration error: QLIK_TENANT_URL is set, but QLIK_CLIENT_ID is not\./,
    ],
    [
      'a client id without a tenant',
      { QLIK_CLIENT_ID: 'id' },
      /^Configuration error: QLIK_CLIENT_ID is set, but QLIK_TENANT_URL is not\.\nFix: Set QLIK_TENANT_URL/,
    ],
    ['a tenant URL with a query', { QLIK_TENANT_URL: 'https://acme.eu.qlikcloud.com/?x=1', QLIK_CLIENT_ID: 'id', QLIK_CLIENT_SECRET: 's' }, /carries a query, fragment or credentials/],
    ['a PORT that is not a number', { PORT: 'eighty' }, /^Configuration error: PORT is "eighty"; it must be a number from 0 to 65535\.\nFix: /],
    ['a PORT out of range', { PORT: '70000' }, /^Configuration error: PORT is "70000"/],
    ['an APP_URL with a path', { APP_URL: 'http://localhost:3000/app' }, /^Configuration error: APP_URL "http:\/\/localhost:3000\/app" has a path, query, fragment or credentials/],
    ['an APP_URL that does not parse', { APP_URL: 'localhost:3000' }, /^Configuration error: APP_URL "localhost:3000"/],
    ['an APP_URL on plain http off this machine', { APP_URL: 'http://app.example.com' }, /uses http on a host other than this machine/],
    ['a scope with a double space', { QLIK_SCOPE: 'user_default  offline_access' }, /^Configuration error: QLIK_SCOPE/],
    ['the openid scope (Qlik is not an OpenID provider)', { QLIK_SCOPE: 'openid user_default' }, /^Configuration error: QLIK_SCOPE asks for "openid"/],
    ['a set but empty scope (Qlik requires one at /oauth/authorize)', { QLIK_SCOPE: ' ' }, /^Configuration error: QLIK_SCOPE is set but empty; Qlik requires a scope at \/oauth\/authorize\.\nFix: /],
  ];
  for (const [what, env, expected] of cases) {
    it(`refuses ${what}`, async () => {
      const result = await run(env);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, expected);
      assert.equal(result.stdout, '');
      assert.ok(!result.stderr.includes('shh-secret-value'), 'the secret is never printed');
      assertNoStack(result);
    });
  }

  it('reads the settings from .env in the working directory', async () => {
    const cwd = emptyDir('app-main-env-');
    writeFileSync(join(cwd, '.env'), 'QLIK_TENANT_URL=http://example.com\nQLIK_CLIENT_ID=id\nQLIK_CLIENT_SECRET=s\n');
    const result = await run({}, cwd);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^Configuration error: QLIK_TENANT_URL: The tenant URL "http:\/\/example\.com" cannot be used: it uses plain http/);
  });

  it('refuses a .env it cannot read, saying so', async () => {
    const cwd = emptyDir('app-main-env-');
    mkdirSync(join(cwd, '.env')); // a directory: it cannot be read as a file
    const result = await run({}, cwd);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^Configuration error: could not read \.env: .*\nFix: Correct or remove the \.env file\.\n$/);
  });
});

describe('main.ts: a start that fails exits with code 1 and says why', () => {
  it('reports a tenant that cannot be discovered, without a stack trace or the secret', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve)); // nobody listens there now
    const result = await run({ QLIK_TENANT_URL: `http://127.0.0.1:${port}`, QLIK_CLIENT_ID: 'id', QLIK_CLIENT_SECRET: 'shh-secret-value', PORT: '0' });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^Could not start: tenant discovery at http://127\\.0\\.0\\.1:${port} failed \\(NETWORK_ERROR, Qlik: tenant reachable\\)\\.\\n`));
    assert.match(result.stderr, /What to do: Check that the tenant URL is right and reachable from this machine\./);
    assert.ok(!result.stderr.includes('shh-secret-value'));
    assertNoStack(result);
  });

  it('reports a port that is in use', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, 'localhost', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = await run({ PORT: String(port) });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^Could not start: port ${port} is already in use\\.\\nWhat to do: stop the other program, or set PORT`));
      assertNoStack(result);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});

describe('main.ts: without a tenant it runs against the sandbox', () => {
  it('prints what to open, serves a sign-in, and stops on SIGTERM with exit code 0', async () => {
    const child = startMain({ PORT: '0' });
    const { output, exited } = collect(child);
    try {
      // Wait for the "Open" line.
      let url: string | undefined;
      for (let i = 0; i < 200 && url === undefined; i += 1) {
        url = /Open +(http:\/\/localhost:\d+)\n/.exec(output().stdout)?.[1];
        if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(url, `no URL printed:\n${output().stdout}\n${output().stderr}`);
      const { stdout } = output();
      assert.match(stdout, /Tenant +http:\/\/127\.0\.0\.1:\d+ {2}\(local sandbox tenant\)/);
      assert.match(stdout, /Client ID +sandbox-web-client/);
      assert.match(stdout, new RegExp(`Redirect URI +${url}/login/callback`));
      assert.ok(!stdout.includes(SANDBOX_CLIENT_SECRET), 'the secret is never printed');

      const browser = new Browser();
      const home = await browser.get(`${url}/`);
      assert.equal(home.status, 200);
      assert.match(home.body, /Not signed in/);
      const run = await signIn(browser, { url } as App, 'ada');
      assert.match(run.final.body, /Signed in as Ada/);
      // main.ts started the sandbox, so it told the app: /trace offers the attacks (tamper.ts).
      assert.match((await browser.get(`${url}/trace`)).body, /<form method="post" action="\/trace\/tamper\?attack=replay">/);
      // The console transcript of the sign-in starts with discovery at start-up.
      assert.match(output().stdout, /── 3\.1 Discover the tenant\n[\s\S]*── 3\.2 Send the user to sign in/);

      const stopAsked = performance.now();
      child.kill('SIGTERM');
      const result = await exited;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /SIGTERM: stopping…/);
      assert.ok(performance.now() - stopAsked < 3_000, 'stops promptly');
      assert.equal(result.stderr, '');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
