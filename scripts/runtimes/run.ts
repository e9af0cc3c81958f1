// `npm run test:runtimes`: the step modules, unchanged, on every runtime a copier may put them on.
// With the public API only, each runtime runs scripts/runtimes/flow.mjs against one sandbox tenant
// started here, on 127.0.0.1: a sign-in (discovery, PKCE, consent, callback, exchange, users/me,
// refresh, revoke), a client credentials token and a machine session, then a stalled body (must be
// TIMEOUT) and a closed port (must be NETWORK_ERROR, with the reason in the message).
//
//   Node 20   the built JavaScript (tsc -p tsconfig.build.json): Node 20 cannot run .ts; the
//             node that runs this script (CI's is 20)
//   Node 24   src/index.ts itself (type stripping); the binary from the registry's node@24 package
//   Bun       src/index.ts itself                 (devDependency bun → @oven/bun-<platform>)
//   Deno      src/index.ts itself, --allow-net=127.0.0.1 (and reading src/, which main.mjs imports
//             by name: a static import needs no permission)  (deno → @deno/<platform>)
//   workerd   an esbuild bundle of src/index.ts as a Worker, nodejs_compat, at two compatibility
//             dates (WORKERD_DATES), its fetch() allowed to reach loopback only
//             (workerd → @cloudflare/workerd-<platform>)
//
// Prints a PASS or FAIL line per runtime, then each check's outcome; exits 1 on any failure.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { freePort, startFixtures } from './fixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const HERE = join(ROOT, 'scripts/runtimes');
const BIN = join(ROOT, 'node_modules/.bin');
/** One runtime's whole run, start-up included; a hung runtime must not hang CI. */
const RUNTIME_DEADLINE_MS = 60_000;
/**
 * The Worker's compatibility dates. The newest the pinned workerd knows is what a copier's new
 * Worker gets. The day before 2024-09-23 is the last with nodejs_compat's first version: no global
 * Buffer, so a module that uses one without importing node:buffer fails there.
 * enable_nodejs_http_modules: src/index.ts re-exports native-login.ts, which imports node:http.
 */
const WORKERD_DATES = [
  { date: '2026-11-23', flags: ['nodejs_compat'] },
  { date: '2024-09-22', flags: ['nodejs_compat', 'enable_nodejs_http_modules'] },
];

interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

interface Runtime {
  name: string;
  version: () => string;
  run: (config: string) => Promise<string>;
}

const work = mkdtempSync(join(tmpdir(), 'qlik-runtimes-'));
const fixtures = await startFixtures();
const config = JSON.stringify(fixtures.config);

/** The Node 24 binary of the registry's node@24 package, as .ci/run uses it. */
const node24 = lazily(() => execFileSync('npx', ['-y', '-p', 'node@24', '--', 'node', '-p', 'process.execPath'], { encoding: 'utf8' }).trim());
const srcEntry = pathToFileURL(join(ROOT, 'src/index.ts')).href;
const runtimes: Runtime[] = [
  {
    name: 'Node (built .js)',
    version: () => process.version,
    run: (cfg) => {
      const dist = join(work, 'dist');
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist]);
      return runFile(process.execPath, [join(HERE, 'main.mjs'), pathToFileURL(join(dist, 'index.js')).href, cfg]);
    },
  },
  {
    name: 'Node 24 (.ts)',
    version: () => execFileSync(node24(), ['--version'], { encoding: 'utf8' }).trim(),
    run: (cfg) => runFile(node24(), [join(HERE, 'main.mjs'), srcEntry, cfg]),
  },
  {
    name: 'Bun (.ts)',
    version: () => execFileSync(join(BIN, 'bun'), ['--version'], { encoding: 'utf8' }).trim(),
    run: (cfg) => runFile(join(BIN, 'bun'), [join(HERE, 'main.mjs'), srcEntry, cfg]),
  },
  {
    name: 'Deno (.ts)',
    version: () => execFileSync(join(BIN, 'deno'), ['--version'], { encoding: 'utf8' }).split('\n')[0]!,
    run: (cfg) => runFile(join(BIN, 'deno'), ['run', '--no-prompt', '--allow-net=127.0.0.1', `--allow-read=${join(ROOT, 'src')}`, join(HERE, 'main.mjs'), srcEntry, cfg]),
  },
  ...WORKERD_DATES.map(({ date, flags }) => ({
    name: `workerd (Worker bundle, ${date}, ${flags.join(' ')})`,
    version: () => execFileSync(join(BIN, 'workerd'), ['--version'], { encoding: 'utf8' }).trim(),
    run: (cfg: string) => runWorker(cfg, date, flags),
  })),
];

const started = performance.now();
let failed = false;
try {
  for (const runtime of runtimes) {
    const results = await runtime.run(config).then(parseResults, (error: Error) => [{ name: 'run', ok: false, detail: error.message }]);
    const bad = results.filter((result) => !result.ok);
    failed ||= bad.length > 0;
    const version = versionOf(runtime);
    console.log(`${bad.length === 0 ? 'PASS' : 'FAIL'}  ${runtime.name}, ${version}`);
    for (const result of results) console.log(`      ${result.ok ? 'ok    ' : 'FAILED'} ${result.name}: ${result.detail}`);
  }
} finally {
  await fixtures.close();
  rmSync(work, { recursive: true, force: true });
}
console.log(`${failed ? 'FAIL' : 'PASS'}  runtimes, in ${Math.round((performance.now() - started) / 1000)} s`);
// Exit now: a runtime's leftovers (esbuild's service, a child still closing) must not hold CI.
process.exit(failed ? 1 : 0);

/** A value worked out on first use, then kept. */
function lazily<T>(make: () => T): () => T {
  let value: { made: T } | undefined;
  return () => (value ??= { made: make() }).made;
}

function versionOf(runtime: Runtime): string {
  try {
    return runtime.version();
  } catch (error) {
    return `(version unknown: ${(error as Error).message.split('\n')[0]})`;
  }
}

/** Runs a child to its end and returns its stdout; its stderr is shown when it fails. */
function runFile(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], timeout: RUNTIME_DEADLINE_MS, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`exited with ${signal ?? code}: ${stderr.trim().slice(-2000) || stdout.trim().slice(-2000)}`));
    });
  });
}

function parseResults(output: string): CheckResult[] {
  const last = output.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as CheckResult[];
  } catch {
    return [{ name: 'run', ok: false, detail: `the runtime printed no results: ${output.slice(-500)}` }];
  }
}

/**
 * Bundles worker.mjs (and with it src/index.ts) with esbuild, as a copier would for the edge, serves
 * it with workerd, and asks it once to run the checks.
 */
async function runWorker(cfg: string, date: string, flags: string[]): Promise<string> {
  await build({
    entryPoints: [join(HERE, 'worker.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    external: ['node:*'],
    outfile: join(work, 'worker.js'),
    logLevel: 'error',
  });
  const port = await freePort();
  writeFileSync(join(work, 'config.capnp'), workerdConfig(port, date, flags));
  const child = spawn(join(BIN, 'workerd'), ['serve', join(work, 'config.capnp')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout.on('data', (chunk) => (logs += chunk));
  child.stderr.on('data', (chunk) => (logs += chunk));
  const exited = new Promise<never>((_, reject) => child.on('exit', (code) => reject(new Error(`workerd exited with ${code}: ${logs.trim().slice(-2000)}`))));
  try {
    const answer = await Promise.race([askWorker(port, cfg), exited]);
    if (answer.status !== 200) throw new Error(`the Worker answered ${answer.status}: ${answer.body.slice(0, 500)}`);
    return answer.body;
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${logs.trim().slice(-2000)}`);
  } finally {
    // SIGKILL: workerd drains its open connections on SIGTERM, which can take minutes.
    child.kill('SIGKILL');
  }
}

/** Waits for workerd's socket, then POSTs the config to the Worker. */
async function askWorker(port: number, cfg: string): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + RUNTIME_DEADLINE_MS;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: cfg, signal: AbortSignal.timeout(Math.max(deadline - Date.now(), 1)) });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      const refused = (error as Error & { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
      if (!refused || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * workerd's config (Cap'n Proto text). The Worker's fetch() goes to a network service that may
 * reach local addresses only: workerd's default "internet" allows public addresses only, which
 * keeps a Worker away from the sandbox on 127.0.0.1 (and this run away from the internet).
 */
function workerdConfig(port: number, date: string, flags: string[]): string {
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "${date}",
  compatibilityFlags = ${JSON.stringify(flags)},
  globalOutbound = "loopback",
);
`;
}
