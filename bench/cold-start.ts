// Part 4: cold starts. How long the built library takes to import, against a bare `node -e ""`,
// and how long the app takes from process start to its first served request, three ways:
// `npm start` as the README says, `node --import tsx src/main.ts` (what npm start amounts to,
// without npm and the tsx CLI's wrapper process), and plain `node dist/main.js` after a build.
//
// The build goes to a temporary folder (tsc -p tsconfig.build.json --outDir …), never to dist/.
// Every app is started with the tenant settings set empty, so it starts the local sandbox tenant
// on 127.0.0.1 (variables set, even empty, win over a .env file), and with TRACE=0.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { round, roundSummary, summarize, type Summary } from './lib/stats.ts';

export interface ColdStartSettings {
  /** Runs of `node -e ""` and of the import, interleaved. */
  importRuns: number;
  /** Runs of each way of starting the app. */
  startRuns: number;
  /** Whether to time `npm start` too (it needs npm on the PATH). */
  npmStart: boolean;
}

export interface ColdStartResult {
  settings: ColdStartSettings;
  /** tsc -p tsconfig.build.json into a temporary folder, once, in ms. */
  buildMs: number;
  /** Wall time of `node -e ""`, ms. */
  bareNodeMs: Summary;
  /** Wall time of `node -e "import('dist/index.js')"`, ms. */
  importLibraryMs: Summary;
  /** importLibraryMs.median − bareNodeMs.median: what importing the library adds. */
  importCostMs: number;
  /** From spawning to the first 200 from GET /, ms, per way of starting. */
  firstRequestMs: { npmStart?: Summary; tsxSource: Summary; builtDist: Summary };
}

const ROOT = new URL('..', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The environment of every child: no tenant (so the sandbox), no loader from NODE_OPTIONS, no transcript. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, NODE_OPTIONS: '', QLIK_TENANT_URL: '', QLIK_CLIENT_ID: '', QLIK_CLIENT_SECRET: '', TRACE: '0', ...extra };
}

function timeSync(args: string[], cwd: string): number {
  const t0 = performance.now();
  const run = spawnSync(process.execPath, args, { cwd, env: childEnv(), stdio: 'pipe', encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

/**
 * Spawns the app and polls GET / on its port until it answers 200. Returns the ms from the spawn to
 * that answer. Then stops the app with SIGTERM (main.ts exits 0 on it) and waits for it to exit.
 */
async function timeFirstRequest(command: string, args: string[], cwd: string, detached: boolean): Promise<number> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(command, args, { cwd, env: childEnv({ PORT: String(port), APP_URL: origin }), stdio: ['ignore', 'ignore', 'pipe'], detached });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  const stop = () => {
    if (child.pid === undefined || exitedEarly) return;
    // npm start is npm → sh → tsx → node: detached, it leads its own process group, and the group
    // (all of it started here) gets the signal. The others are one process.
    if (detached) process.kill(-child.pid, 'SIGTERM');
    else child.kill('SIGTERM');
  };
  try {
    const deadline = t0 + 60_000;
    for (;;) {
      if (exitedEarly) throw new Error(`${command} ${args.join(' ')} exited before serving: ${stderr.slice(0, 500)}`);
      if (performance.now() > deadline) throw new Error(`${command} ${args.join(' ')} served nothing within 60 s`);
      try {
        const response = await fetch(`${origin}/`, { signal: AbortSignal.timeout(5_000) });
        await response.text();
        if (response.status === 200) return performance.now() - t0;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    stop();
    await exited;
  }
}

export async function runColdStart(settings: ColdStartSettings, progress: (line: string) => void = () => {}): Promise<ColdStartResult> {
  const work = mkdtempSync(join(tmpdir(), 'qlik-bench-build-'));
  try {
    const dist = join(work, 'dist');
    const b0 = performance.now();
    const build = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist, '--declaration', 'false'], {
      cwd: ROOT,
      stdio: 'pipe',
      encoding: 'utf8',
    });
    const buildMs = performance.now() - b0;
    if (build.status !== 0) throw new Error(`the build failed: ${build.stdout}${build.stderr}`);
    // The package's "type": "module", which dist/ inherits from package.json in the repository.
    writeFileSync(join(dist, 'package.json'), '{"type":"module"}\n');
    progress(`  build (tsc -p tsconfig.build.json, JS only, into a temporary folder): ${Math.round(buildMs)} ms`);

    const indexUrl = pathToFileURL(join(dist, 'index.js')).href;
    const importScript = `import(${JSON.stringify(indexUrl)}).then((m) => { if (typeof m.discover !== 'function') process.exit(3); })`;
    const bare: number[] = [];
    const imported: number[] = [];
    timeSync(['-e', ''], work); // the first spawn warms the disk cache for node itself
    timeSync(['-e', importScript], work);
    for (let i = 0; i < settings.importRuns; i++) {
      bare.push(timeSync(['-e', ''], work));
      imported.push(timeSync(['-e', importScript], work));
    }
    const bareNodeMs = roundSummary(summarize(bare));
    const importLibraryMs = roundSummary(summarize(imported));
    progress(`  node -e "": ${bareNodeMs.median} ms; import of the built library: ${importLibraryMs.median} ms`);

    const tsxLoader = import.meta.resolve('tsx');
    const tsxRuns: number[] = [];
    const distRuns: number[] = [];
    const npmRuns: number[] = [];
    for (let i = 0; i < settings.startRuns; i++) {
      // From a folder with no .env, so nothing but the environment above configures the app.
      tsxRuns.push(await timeFirstRequest(process.execPath, ['--import', tsxLoader, join(ROOT, 'src/main.ts')], work, false));
      distRuns.push(await timeFirstRequest(process.execPath, [join(dist, 'main.js')], work, false));
      if (settings.npmStart) npmRuns.push(await timeFirstRequest('npm', ['start', '--silent'], ROOT, true));
    }
    const firstRequestMs: ColdStartResult['firstRequestMs'] = {
      tsxSource: roundSummary(summarize(tsxRuns)),
      builtDist: roundSummary(summarize(distRuns)),
    };
    if (settings.npmStart) firstRequestMs.npmStart = roundSummary(summarize(npmRuns));
    progress(
      `  first request: ${settings.npmStart ? `npm start ${firstRequestMs.npmStart!.median} ms, ` : ''}node --import tsx src/main.ts ${firstRequestMs.tsxSource.median} ms, node dist/main.js ${firstRequestMs.builtDist.median} ms`,
    );
    return {
      settings,
      buildMs: round(buildMs),
      bareNodeMs,
      importLibraryMs,
      importCostMs: round(importLibraryMs.median - bareNodeMs.median),
      firstRequestMs,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
