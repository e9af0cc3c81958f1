// `npm start -- --help` and the SANDBOX_* settings of src/main.ts: the help lists every setting and
// every named fault with the check it should trigger; SANDBOX_* reach the sandbox, and are refused
// next to a real tenant.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Browser, signIn } from './helpers/browser.ts';
import { SANDBOX_FAULTS } from '../src/sandbox/index.ts';
import type { App } from '../src/app/index.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

const workDirs: string[] = [];
after(() => {
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
});

/** main.ts in an empty directory (no stray .env), with only the given settings. */
function startMain(env: Record<string, string>, args: string[] = []): ChildProcess {
  const cwd = mkdtempSync(join(tmpdir(), 'app-main-help-'));
  workDirs.push(cwd);
  const { PATH, HOME } = process.env;
  return spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, env: { PATH, HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function outputOf(child: ChildProcess): { stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => setImmediate(() => resolve(code))));
  return { stdout: () => stdout, stderr: () => stderr, exited };
}

async function run(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = startMain(env, args);
  const out = outputOf(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await out.exited;
  clearTimeout(timer);
  return { code, stdout: out.stdout(), stderr: out.stderr() };
}

describe('npm start -- --help', () => {
  it('prints every setting, every sandbox fault with its description and expected check, and starts nothing', async () => {
    // A real tenant that would fail discovery: --help must not get that far.
    const result = await run({ QLIK_TENANT_URL: 'https://acme.eu.qlikcloud.com', QLIK_CLIENT_ID: 'id', QLIK_CLIENT_SECRET: 'shh-secret-value' }, ['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const help = result.stdout;
    for (const name of ['QLIK_TENANT_URL', 'QLIK_CLIENT_ID', 'QLIK_CLIENT_SECRET', 'QLIK_SCOPE', 'PORT', 'APP_URL', 'TRACE', 'SESSION_SECRET']) {
      assert.match(help, new RegExp(`^ {2}${name} +\\S`, 'm'), `${name} is listed`);
    }
    assert.match(help, /APP_URL +the app's public base URL; the redirect URI is APP_URL \+ \/login\/callback \(default: http:\/\/localhost:<PORT>\)/);
    assert.match(help, /QLIK_SCOPE .*\(default: user_default offline_access\)/);
    assert.match(help, /TRACE +TRACE=0: no protocol transcript/);
    for (const fault of SANDBOX_FAULTS) {
      const line = help.split('\n').find((text) => text.trimStart().startsWith(`${fault.name} `));
      assert.ok(line, `${fault.name} is listed`);
      assert.match(line, new RegExp(`^ {4}${fault.name} +${fault.step.replace('.', '\\.')} +${fault.expectedCheck} +`));
      assert.ok(line.endsWith(fault.description), `${fault.name} has its description`);
    }
    assert.match(help, /SANDBOX_TOKEN_SECONDS=N +access tokens live N seconds/);
    assert.match(help, /SANDBOX_ERRORS=detailed +explain each OAuth error/);
    assert.match(help, /they only apply to the sandbox/);
    assert.doesNotMatch(help, /Open +http/, 'nothing started');
  });
});

describe('main.ts: SANDBOX_* settings', () => {
  const tenant = { QLIK_TENANT_URL: 'https://acme.eu.qlikcloud.com', QLIK_CLIENT_ID: 'id', QLIK_CLIENT_SECRET: 'shh-secret-value' };
  for (const [name, value] of [['SANDBOX_FAULT', 'api-429'], ['SANDBOX_TOKEN_SECONDS', '3'], ['SANDBOX_ERRORS', 'detailed']] as const) {
    it(`refuses ${name} next to a real tenant, exit 2, before any request`, async () => {
      const result = await run({ ...tenant, [name]: value });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        `Configuration error: ${name} is set, but QLIK_TENANT_URL is too: these only apply to the sandbox.\n` +
          `Fix: Remove ${name} to use your tenant, or remove QLIK_TENANT_URL (and QLIK_CLIENT_ID, QLIK_CLIENT_SECRET) to use the sandbox.\n`,
      );
      assert.equal(result.stdout, '');
    });
  }

  it('refuses a bad SANDBOX_TOKEN_SECONDS for the sandbox, exit 2', async () => {
    const result = await run({ SANDBOX_TOKEN_SECONDS: 'soon' });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^Configuration error: SANDBOX_TOKEN_SECONDS: "soon" is not a whole number of seconds/);
    assert.match(result.stderr, /\nFix: Correct or remove it; npm start -- --help lists the sandbox settings\.\n$/);
  });

  it('refuses an unknown SANDBOX_FAULT, listing the valid names', async () => {
    const result = await run({ SANDBOX_FAULT: 'api-500' });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^Configuration error: SANDBOX_FAULT: unknown fault "api-500"\. Valid names \(comma-separated\): discovery-http-endpoint, /);
  });

  it('passes SANDBOX_FAULT to the sandbox it starts: the banner names it, and the sign-in it breaks says it is that fault (and how long Qlik asks to wait)', async () => {
    const child = startMain({ PORT: '0', TRACE: '0', SANDBOX_FAULT: 'api-429' });
    const out = outputOf(child);
    try {
      let url: string | undefined;
      for (let i = 0; i < 200 && url === undefined; i += 1) {
        url = /Open +(http:\/\/localhost:\d+)\n/.exec(out.stdout())?.[1];
        if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(url, `no URL printed:\n${out.stdout()}\n${out.stderr()}`);
      const run = await signIn(new Browser(), { url } as App, 'ada');
      assert.equal(run.final.status, 503, run.final.body);
      assert.equal(run.final.headers.get('retry-after'), '13');
      assert.match(run.final.body, /wait 13 s/);
      assert.match(out.stdout(), /^ {2}Sandbox fault {3}SANDBOX_FAULT=api-429: The REST API answers 429 .*\n {18}\(on purpose: expect API_RATE_LIMITED to refuse it; unset SANDBOX_FAULT to sign in normally\)$/m);
      assert.match(run.final.body, /This is the fault you switched on: <code>SANDBOX_FAULT=api-429<\/code>\. The REST API answers 429/);
      assert.doesNotMatch(run.final.body, /QLIK_|client secret/i, 'not sent after settings the learner never set');
    } finally {
      child.kill('SIGKILL');
      await out.exited;
    }
  });
});
