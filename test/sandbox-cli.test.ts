// `npm run sandbox` (src/sandbox/cli.ts): the sandbox tenant alone, its URL and clients printed,
// SANDBOX_* settings honoured, stopped cleanly by SIGTERM or SIGINT sent to its own PID.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_FAULTS, SANDBOX_JWT_CLIENT_ID, SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET, SANDBOX_NATIVE_CLIENT_ID, SANDBOX_SPA_CLIENT_ID } from '../src/sandbox/index.ts';

const TSX = import.meta.resolve('tsx');
const CLI = fileURLToPath(new URL('../src/sandbox/cli.ts', import.meta.url));
const { PATH, HOME } = process.env;

function startCli(args: string[], env: Record<string, string> = {}, cwd = mkdtempSync(join(tmpdir(), 'sandbox-cli-'))): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd, env: { PATH, HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function waitFor(read: () => string, pattern: RegExp, exited: Promise<unknown>): Promise<RegExpMatchArray> {
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    const match = read().match(pattern);
    if (match) return match;
    if (done) throw new Error(`exited before printing ${pattern}: ${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('npm run sandbox', () => {
  it('the package.json script runs node directly (signals reach the sandbox, not npm)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.sandbox, 'node --import tsx src/sandbox/cli.ts');
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`prints its URL and every client, honours SANDBOX_*, and stops on ${signal}`, async () => {
      const run = startCli(['--port', '0', '--redirect-uri', 'http://127.0.0.1:4000/cb'], {
        SANDBOX_FAULT: 'api-429', SANDBOX_ERRORS: 'detailed', SANDBOX_TOKEN_SECONDS: '30',
      });
      try {
        const url = (await waitFor(run.out, /Sandbox tenant listening at (http:\/\/127\.0\.0\.1:\d+)\n/, run.exited))[1]!;
        await waitFor(run.out, /Ctrl-C stops the sandbox/, run.exited);
        const out = run.out();
        for (const text of [SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_NATIVE_CLIENT_ID, SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET, SANDBOX_SPA_CLIENT_ID,
          'http://localhost:3000/login/callback, http://127.0.0.1:4000/cb', 'http://127.0.0.1/callback', 'detailed', '30 s', 'api-429']) {
          assert.ok(out.includes(text), `prints ${text}`);
        }
        // The JWT client's id on a line of its own, and its private key in a file only this user may read.
        assert.ok(out.includes(`\n  ${SANDBOX_JWT_CLIENT_ID}\n`));
        const keyFile = /^ {4}private key +(\S+\.pem) /m.exec(out)![1]!;
        assert.match(readFileSync(keyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
        assert.equal(statSync(keyFile).mode & 0o077, 0);
        const doc = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
        assert.equal(doc.issuer, url);
        // The settings took effect: detailed errors, and a token that lives 30 s.
        const token = await fetch(`${url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: SANDBOX_M2M_CLIENT_ID, client_secret: SANDBOX_M2M_CLIENT_SECRET }) });
        const tokens = (await token.json()) as { access_token: string; expires_at: string };
        assert.ok(Math.abs(Date.parse(tokens.expires_at) - Date.now() - 30_000) < 5_000, tokens.expires_at);
        const bad = (await (await fetch(`${url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password' }) })).json()) as { error: string };
        assert.equal(bad.error, 'unsupported_grant_type');
        assert.equal((await fetch(`${url}/api/v1/users/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status, 429);

        run.child.kill(signal);
        assert.equal(await run.exited, 0, run.err());
        assert.equal(existsSync(keyFile), false, 'the private key is removed at stop');
        await assert.rejects(fetch(`${url}/.well-known/oauth-authorization-server`), 'the port is closed');
      } finally {
        run.child.kill('SIGKILL');
      }
    });
  }

  it('reads SANDBOX_PORT and a .env file in the working directory', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sandbox-cli-env-'));
    writeFileSync(join(cwd, '.env'), 'SANDBOX_ERRORS=detailed\n');
    const run = startCli([], { SANDBOX_PORT: '0' }, cwd);
    try {
      await waitFor(run.out, /errors\s+detailed/, run.exited);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it('exits 2 with the valid names for a bad SANDBOX_FAULT, a bad port or an unknown flag; --help lists the faults', async () => {
    const fault = startCli(['--port', '0'], { SANDBOX_FAULT: 'nope' });
    assert.equal(await fault.exited, 2);
    assert.match(fault.err(), /^Configuration error: SANDBOX_FAULT: unknown fault "nope"\. Valid names/);
    const port = startCli(['--port', 'http']);
    assert.equal(await port.exited, 2);
    assert.match(port.err(), /The port "http" \(from --port\) is not a port number/);
    const flag = startCli(['--bogus']);
    assert.equal(await flag.exited, 2);
    const help = startCli(['--help']);
    assert.equal(await help.exited, 0);
    for (const { name } of SANDBOX_FAULTS) assert.ok(help.out().includes(name), name);
  });

  it('exits 1 and says what to do when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const run = startCli(['--port', String(port)]);
      assert.equal(await run.exited, 1);
      assert.match(run.err(), new RegExp(`Could not start: port ${port} is already in use\\.\\nWhat to do: .*--port`));
    } finally {
      blocker.close();
    }
  });
});
