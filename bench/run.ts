// npm run bench — what a sign-in costs, measured on this machine and written down.
//
//   npm run bench               the full run (under 3 minutes): prints a summary, writes
//                               bench/results/latest.json and docs/benchmarks.md
//   npm run bench -- --quick    every part with tiny counts, in seconds; writes only JSON, to
//                               --out <dir>/latest.json or bench/results/quick.tmp.json (git-ignored)
//   npm run bench -- --only compare,round-trips
//                               only the parts named (full counts, or tiny ones with --quick);
//                               prints them and writes JSON like --quick, never docs/benchmarks.md
//   npm run bench -- --compare-node "$(npx -y -p node@24 which node)"
//                               also runs part 5 under that node binary, in a child process:
//                               this machine runs Node 20, users run Node 24
//
// Parts: 1 client CPU per step (client-cpu.ts), 2 sign-ins per second (throughput.ts),
// 3 memory per pending sign-in, per session and per hostile anonymous session (memory.ts),
// 4 cold start (cold-start.ts), 5 a whole client-side sign-in beside oauth4webapi and
// openid-client (client-compare.ts), 6 round trips with latency added (round-trips.ts).
// Nothing leaves 127.0.0.1.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runClientCompare, type CompareResult, type CompareSettings } from './client-compare.ts';
import { runClientCpu, type CpuSettings } from './client-cpu.ts';
import { runColdStart, type ColdStartSettings } from './cold-start.ts';
import { runMemory, type MemorySettings } from './memory.ts';
import { renderMarkdown, renderText, type BenchResult } from './report.ts';
import { runRoundTrips, type RoundTripSettings } from './round-trips.ts';
import { runThroughput, type ThroughputSettings } from './throughput.ts';

const ROOT = new URL('..', import.meta.url).pathname;

interface Settings {
  cpu: CpuSettings;
  throughput: ThroughputSettings;
  memory: MemorySettings;
  coldStart: ColdStartSettings;
  compare: CompareSettings;
  roundTrips: RoundTripSettings;
}

const FULL: Settings = {
  cpu: { samples: 25, sampleMs: 8, warmupMs: 150 },
  throughput: {
    concurrency: [1, 16, 64],
    runs: 5,
    signInsPerRun: (c) => (c === 1 ? 60 : c * (c >= 64 ? 5 : 12)),
    warmup: (c) => Math.max(40, 2 * c),
  },
  memory: { small: 10_000, httpSignedIn: 2_000, large: 100_000, warmup: 300, hostile: 2_000, quick: false },
  coldStart: { importRuns: 10, startRuns: 5, npmStart: true },
  compare: { samples: 120, sampleMs: 30, warmup: 1000 },
  roundTrips: { latencyMs: 50, signIns: 20, warmup: 3 },
};

const QUICK: Settings = {
  cpu: { samples: 5, sampleMs: 2, warmupMs: 10 },
  throughput: { concurrency: [1, 4], runs: 2, signInsPerRun: (c) => 4 * c, warmup: (c) => c },
  memory: { small: 100, httpSignedIn: 100, large: 200, warmup: 20, hostile: 20, quick: true },
  coldStart: { importRuns: 2, startRuns: 1, npmStart: false },
  compare: { samples: 3, sampleMs: 2, warmup: 5 },
  roundTrips: { latencyMs: 50, signIns: 2, warmup: 0 },
};

const PARTS = ['cpu', 'throughput', 'memory', 'cold-start', 'compare', 'round-trips'] as const;
type Part = (typeof PARTS)[number];

function commit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/**
 * Part 5 under another node binary: this script with `--only compare`, in a child process that
 * writes its JSON to a temporary folder. Its progress goes to stderr as ours does.
 */
function compareOnOtherNode(nodePath: string, quick: boolean, log: (line: string) => void): { node: string; compare: CompareResult } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'bench-other-node-'));
  try {
    const args = ['--import', 'tsx', join(ROOT, 'bench/run.ts'), '--only', 'compare', '--out', dir, ...(quick ? ['--quick'] : [])];
    execFileSync(nodePath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const other = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as BenchResult;
    return { node: other.meta.node, compare: other.compare! };
  } catch (error) {
    // The rest of the run is still worth keeping: say why this part is missing, and go on.
    log(`   --compare-node ${nodePath} failed, part 5 is reported for this Node only: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, out: { type: 'string' }, only: { type: 'string' }, 'compare-node': { type: 'string' } },
  });
  const quick = values.quick ?? false;
  const only = values.only === undefined ? undefined : values.only.split(',').map((name) => name.trim());
  const unknown = only?.filter((name) => !(PARTS as readonly string[]).includes(name)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown part ${unknown.join(', ')}; the parts are ${PARTS.join(', ')}`);
  const wanted = (name: Part) => only === undefined || only.includes(name);
  const settings = quick ? QUICK : FULL;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();
  const loadStart = loadavg();

  const partSeconds: Record<string, number> = {};
  let number = 0;
  const count = PARTS.filter(wanted).length;
  const part = async <T>(name: Part, title: string, run: () => T | Promise<T>): Promise<T | undefined> => {
    if (!wanted(name)) return undefined;
    log(`${++number}/${count} ${title}${quick ? ' (quick)' : ''}…`);
    const t0 = performance.now();
    const value = await run();
    partSeconds[name] = Math.round((performance.now() - t0) / 100) / 10;
    return value;
  };
  const clientCpu = await part('cpu', 'client CPU per step', () => runClientCpu(settings.cpu, log));
  const throughput = await part('throughput', 'sign-ins per second', () => runThroughput(settings.throughput, log));
  // Both wait on child processes. A quick run (whose figures nobody reads) runs them side by side, so
  // that it stays well within test/bench.test.ts's minute on this shared machine under load.
  const memoryPart = () => part('memory', 'memory (child processes with --expose-gc)', () => runMemory(settings.memory, log));
  const coldStartPart = () => part('cold-start', 'cold start', () => runColdStart(settings.coldStart, log));
  const [memory, coldStart] = quick ? await Promise.all([memoryPart(), coldStartPart()]) : [await memoryPart(), await coldStartPart()];
  const compare = await part('compare', 'a whole client-side sign-in beside oauth4webapi and openid-client', () => runClientCompare(settings.compare, log));
  const otherNode = values['compare-node'];
  const compareOtherNode =
    otherNode !== undefined && wanted('compare') ? (log(`   …and again on ${otherNode}`), compareOnOtherNode(otherNode, quick, log)) : undefined;
  const roundTrips = await part('round-trips', `round trips, ${settings.roundTrips.latencyMs} ms added to every tenant request`, () =>
    runRoundTrips(settings.roundTrips, log),
  );

  const cpu = cpus()[0];
  const result: BenchResult = {
    meta: {
      mode: quick ? 'quick' : 'full',
      ...(only ? { only } : {}),
      date: new Date().toISOString(),
      machine: { cpu: cpu?.model.trim() ?? 'unknown', cores: cpus().length, totalMemoryBytes: totalmem(), os: `${osType()} ${release()}` },
      node: process.version,
      commit: commit(),
      loadAverage: { start: loadStart.map((x) => Math.round(x * 100) / 100), end: loadavg().map((x) => Math.round(x * 100) / 100) },
      durationSeconds: Math.round((performance.now() - started) / 1000),
      partSeconds,
    },
    clientCpu,
    throughput,
    memory,
    coldStart,
    compare,
    compareOtherNode,
    roundTrips,
  };

  process.stdout.write(`${renderText(result)}\n`);

  const json = `${JSON.stringify(result, null, 2)}\n`;
  if (quick || only) {
    const dir = values.out ?? join(ROOT, 'bench/results');
    mkdirSync(dir, { recursive: true });
    const file = values.out ? join(dir, 'latest.json') : join(dir, 'quick.tmp.json');
    writeFileSync(file, json);
    log(`wrote ${file} (${quick ? 'quick' : '--only'}: docs/benchmarks.md left as it is)`);
  } else {
    const dir = values.out ?? join(ROOT, 'bench/results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'latest.json'), json);
    writeFileSync(join(values.out ?? join(ROOT, 'docs'), 'benchmarks.md'), renderMarkdown(result as Required<BenchResult>));
    log(`wrote ${join(dir, 'latest.json')} and ${values.out ? join(values.out, 'benchmarks.md') : 'docs/benchmarks.md'}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
