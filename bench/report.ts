// Turns a bench result into the terminal summary and into docs/benchmarks.md.

import type { ClientCpuResult } from './client-cpu.ts';
import type { ColdStartResult } from './cold-start.ts';
import type { MemoryResult, MemoryRun } from './memory.ts';
import type { ThroughputResult } from './throughput.ts';
import { fmt, fmtBytes, fmtSummary, markdownTable, textTable } from './lib/stats.ts';

export interface BenchMeta {
  mode: 'full' | 'quick';
  date: string;
  machine: { cpu: string; cores: number; totalMemoryBytes: number; os: string };
  node: string;
  commit: string | undefined;
  /** os.loadavg() at the start and the end: other work on the machine shows up here. */
  loadAverage: { start: number[]; end: number[] };
  durationSeconds: number;
  /** Seconds each part took. */
  partSeconds: Record<string, number>;
}

export interface BenchResult {
  meta: BenchMeta;
  clientCpu: ClientCpuResult;
  throughput: ThroughputResult;
  memory: MemoryResult;
  coldStart: ColdStartResult;
}

const pct = (share: number) => `${Math.round(share * 100)} %`;
const n = (value: number) => value.toLocaleString('en-US');

function cpuRows(result: ClientCpuResult, indent: string): string[][] {
  const rows: string[][] = [];
  for (const step of result.steps) {
    rows.push([step.name, fmt(step.us.median), `${fmt(step.us.min)}–${fmt(step.us.max)}`, n(step.iterationsPerSample)]);
    for (const part of step.parts) {
      rows.push([`${indent}${part.name}`, fmt(part.us.median), `${fmt(part.us.min)}–${fmt(part.us.max)}`, n(part.iterationsPerSample)]);
    }
  }
  return rows;
}
const CPU_HEADER = ['client step (parts timed on their own)', 'median µs', 'min–max µs', 'calls/sample'];

function throughputRows(result: ThroughputResult): string[][] {
  return result.levels.map((level) => [
    String(level.concurrency),
    fmtSummary(level.signInsPerSecond),
    fmt(level.latencyMs.p50),
    fmt(level.latencyMs.p99),
    `${fmt(level.perSignInMs.app)} (${pct(level.share.app)})`,
    `${fmt(level.perSignInMs.tenant)} (${pct(level.share.tenant)})`,
    `${fmt(level.perSignInMs.browser)} (${pct(level.share.browser)})`,
    fmt(level.cpuMsPerSignIn),
  ]);
}
const THROUGHPUT_HEADER = ['concurrency', 'sign-ins/s median (min–max)', 'p50 ms', 'p99 ms', 'app ms (share)', 'tenant ms (share)', 'browser ms (share)', 'CPU ms/sign-in'];

function legRows(result: ThroughputResult): string[][] {
  return result.levels.map((level) => [
    String(level.concurrency),
    fmt(level.legsMs.login),
    fmt(level.legsMs.authorize),
    fmt(level.legsMs.decision),
    fmt(level.legsMs.callback),
    fmt(level.legsMs.home),
    `${fmt(level.appToTenant.callsPerSignIn)} calls, ${fmt(level.appToTenant.msPerSignIn)} ms`,
  ]);
}
const LEG_HEADER = ['concurrency', 'GET /login (app)', 'authorize (tenant)', 'decision (tenant)', 'callback (app)', 'GET / (app)', 'app → tenant during them'];

const KIND = { pending: 'pending sign-in', signedIn: 'signed-in session' } as const;
function memoryRows(runs: MemoryRun[]): string[][] {
  return runs.map((run) => [
    KIND[run.kind],
    run.via,
    run.limits === 'default' ? `default (cap ${n(run.cap)})` : `raised to ${n(run.cap)}`,
    n(run.signIns),
    `${n(run.held)}${run.capped ? ' (capped)' : ''}`,
    fmtBytes(run.heapDeltaBytes),
    fmtBytes(run.bytesPerEntry),
  ]);
}
const MEMORY_HEADER = ['entry', 'via', 'session caps', 'sign-ins', 'entries held', 'heap Δ', 'heap per entry'];

function coldRows(result: ColdStartResult): string[][] {
  const rows = [
    ['node -e "" (bare node)', fmtSummary(result.bareNodeMs), String(result.bareNodeMs.samples)],
    ['node -e "import(\'dist/index.js\')" (the built library)', fmtSummary(result.importLibraryMs), String(result.importLibraryMs.samples)],
    ['  → what the import adds (difference of medians)', fmt(result.importCostMs), ''],
  ];
  const first = result.firstRequestMs;
  if (first.npmStart) rows.push(['npm start → first 200 from GET /', fmtSummary(first.npmStart), String(first.npmStart.samples)]);
  rows.push(['node --import tsx src/main.ts → first 200 from GET /', fmtSummary(first.tsxSource), String(first.tsxSource.samples)]);
  rows.push(['node dist/main.js (built) → first 200 from GET /', fmtSummary(first.builtDist), String(first.builtDist.samples)]);
  return rows;
}
const COLD_HEADER = ['what', 'ms median (min–max)', 'runs'];

function machineLine(meta: BenchMeta): string {
  const { machine } = meta;
  return `${machine.cpu}, ${machine.cores} cores, ${fmtBytes(machine.totalMemoryBytes)} RAM, ${machine.os}; Node ${meta.node}`;
}

export function renderText(result: BenchResult): string {
  const { meta } = result;
  const out: string[] = [];
  out.push(`npm run bench (${meta.mode}) — ${meta.date}`);
  out.push(`${machineLine(meta)}; load average ${meta.loadAverage.start.map((x) => x.toFixed(1)).join(' ')} at start`);
  out.push('');
  out.push('1. Client CPU per step, no network (µs per call; median and min–max over samples)');
  out.push(textTable(CPU_HEADER, cpuRows(result.clientCpu, '  · ')));
  out.push('');
  out.push(`Slowest step: ${result.clientCpu.slowest.explanation}`);
  out.push('');
  out.push('2. Sign-ins per second: app + sandbox tenant + scripted browsers in one process, loopback');
  out.push(textTable(THROUGHPUT_HEADER, throughputRows(result.throughput)));
  out.push('   mean ms per leg, as the browser saw it:');
  out.push(textTable(LEG_HEADER, legRows(result.throughput)));
  for (const [name, text] of Object.entries(result.throughput.definitions)) out.push(`   ${name}: ${text}`);
  out.push('');
  out.push('3. Memory: app heap (heapUsed after gc) per entry in the session store');
  out.push(textTable(MEMORY_HEADER, memoryRows(result.memory.runs)));
  out.push(`   limits in force (src/app/sessions.ts DEFAULT_SESSION_LIMITS): ${limitsText(result.memory)}`);
  out.push(`   ${churnText(result.memory)}`);
  out.push('');
  out.push('4. Cold start');
  out.push(textTable(COLD_HEADER, coldRows(result.coldStart)));
  out.push(`   build (tsc -p tsconfig.build.json --declaration false, into a temporary folder): ${fmt(result.coldStart.buildMs)} ms`);
  out.push('');
  out.push(`Done in ${meta.durationSeconds} s.`);
  return out.join('\n');
}

export function renderMarkdown(result: BenchResult): string {
  const { meta, clientCpu, throughput, memory, coldStart } = result;
  const capped = memory.runs.filter((run) => run.capped);
  const signInUs = clientCpu.steps.find((step) => step.id === 'sign-in')?.us.median ?? NaN;
  const slowestParts = clientCpu.slowest.explanation.split('\n').slice(1).map((line) => line.replace(/^\s+- /, '- '));
  return `# Benchmarks: what a sign-in costs

Measured by \`npm run bench\` ([\`bench/run.ts\`](../bench/run.ts)); the raw figures are in
[\`bench/results/latest.json\`](../bench/results/latest.json). This page is rewritten by every full run:
edit [\`bench/report.ts\`](../bench/report.ts), not this file.

| | |
| --- | --- |
| date | ${meta.date} |
| machine | ${meta.machine.cpu} |
| cores | ${meta.machine.cores} |
| memory | ${fmtBytes(meta.machine.totalMemoryBytes)} |
| OS | ${meta.machine.os} |
| Node | ${meta.node} |
| commit | ${meta.commit ?? 'unknown'} |
| load average at start / end | ${meta.loadAverage.start.map((x) => x.toFixed(1)).join(' ')} / ${meta.loadAverage.end.map((x) => x.toFixed(1)).join(' ')} |
| bench duration | ${meta.durationSeconds} s (${Object.entries(meta.partSeconds).map(([name, s]) => `${name} ${s} s`).join(', ')}) |

The machine is small and shared: figures move from run to run, so every figure is a median with its
min–max, and comparisons are best read as ratios. \`npm run bench -- --quick\` runs every part in a
few seconds with tiny counts; \`npm test\` runs it ([\`test/bench.test.ts\`](../test/bench.test.ts)) so the
bench cannot rot, but CI does not publish its numbers.

## 1. Client CPU per step

Each step's processing half, fed a crafted response shaped like the sandbox's
([\`bench/lib/fixtures.ts\`](../bench/lib/fixtures.ts)), with no network. A sample times a batch
of calls back to back (calls/sample), lasting about ${clientCpu.settings.sampleMs} ms; ${clientCpu.settings.samples} samples after ${clientCpu.settings.warmupMs} ms of warm-up. The indented rows are the parts of the step above them, timed on their own.

${markdownTable(CPU_HEADER, cpuRows(clientCpu, '↳ '))}

**Slowest step: ${clientCpu.slowest.name}** (${fmt(clientCpu.slowest.medianUs)} µs median). Where its time goes:

${slowestParts.join('\n')}

A whole sign-in's client-side work is ${fmt(signInUs)} µs; a whole sign-in through the app takes
${fmt(throughput.levels[0]?.latencyMs.p50 ?? NaN)} ms (p50 at concurrency ${throughput.levels[0]?.concurrency ?? '?'}, part 2), so the client steps are
${fmt((100 * signInUs) / 1000 / (throughput.levels[0]?.latencyMs.p50 ?? NaN), 2)} % of it.

## 2. Sign-ins per second

${throughput.definitions.setup}. A sign-in: ${throughput.definitions.signIn}.
Each level: ${throughput.levels[0]?.runs ?? 0} timed runs after a warm-up; sign-ins/s is over the runs, p50/p99 over every sign-in of every run.

${markdownTable(THROUGHPUT_HEADER, throughputRows(throughput))}

What the columns mean (means per sign-in, and their share of its wall time):

- **app**: ${throughput.definitions.app}.
- **tenant**: ${throughput.definitions.tenant}.
- **browser**: ${throughput.definitions.browser}.
- **CPU ms/sign-in**: user + system CPU of the whole process (browsers, app and tenant) per sign-in.
- Caveat: ${throughput.definitions.caveat}.

The browser's legs (mean ms), and the app's own calls to the tenant during them:

${markdownTable(LEG_HEADER, legRows(throughput))}

## 3. Memory

The app's heap per entry in its session store, ${MEMORY_DEFINITIONS_TEXT(memory)}

${markdownTable(MEMORY_HEADER, memoryRows(memory.runs))}

- Per pending sign-in: **${fmtBytes(memory.perPendingBytes)}**; per signed-in session: **${fmtBytes(memory.perSessionBytes)}**.
- Limits in force ([\`src/app/sessions.ts\`](../src/app/sessions.ts) \`DEFAULT_SESSION_LIMITS\`): ${limitsText(memory)}.
${
  capped.length > 0
    ? `- **The store is capped below ${n(Math.max(...capped.map((run) => run.signIns)))}.** Past its caps the oldest entries are dropped, so
  ${n(Math.max(...capped.map((run) => run.signIns)))} sign-ins leave ${n(memory.atCap.pendingCap)} pending sign-ins (about ${fmtBytes(memory.atCap.pendingBytes)})
  or ${n(memory.atCap.signedInCap)} signed-in sessions (about ${fmtBytes(memory.atCap.signedInBytes)}): that is the most this store holds.
  The "raised" rows show what ${n(Math.max(...capped.map((run) => run.signIns)))} would cost with the caps raised (createApp's \`sessionLimits\`).`
    : '- (Quick run: no count reached the caps.)'
}
- ${churnText(memory)} V8 keeps a deleted Map entry as a hole until the table is rebuilt, and the store
  finds its oldest entries by iterating its Maps from the front (\`dropIdleSessions\`, the cap loops,
  \`dropExpiredPendingLogins\`), so past the cap each call walks the holes left by the evictions before it.

## 4. Cold start

The library is built with \`tsc -p tsconfig.build.json --declaration false\` into a temporary folder (${fmt(coldStart.buildMs)} ms; \`dist/\` is not touched).
The app starts with the tenant settings empty, so it also starts the local sandbox tenant, and is polled
with GET / every 5 ms from the moment it is spawned until it answers 200.

${markdownTable(COLD_HEADER, coldRows(coldStart))}

## What limited these measurements

- \`createApp()\` does not expose its session store, so the memory bench cannot count entries: it derives
  them from the caps, and it calls the app's request listener directly (\`app.server.listeners('request')\`)
  to make 100,000 sign-ins in time, which relies on \`src/app/server.ts\` reading only \`url\`, \`method\`
  and \`headers\` and writing with \`setHeader\`/\`end\`.${agreement(memory)}
- The app has no per-request timing hook, and \`startSandbox()\` does not expose its server: the tenant's
  time is timed from outside (the browser's legs, and a wrapper around the global \`fetch\` for the app's
  calls), so it includes loopback HTTP on both sides.
- The "tenant" share is the sandbox's, not Qlik's. (The sandbox's \`BoundedMap\`
  ([\`src/sandbox/store.ts\`](../src/sandbox/store.ts)) used to sweep every entry on each insert, so it
  slowed as it filled; since this was found it sweeps at most once a second.)
- The app's own calls to the tenant per sign-in (concurrency ${throughput.levels[0]?.concurrency ?? '?'}): ${endpoints(throughput)}. Each is
  one more loopback round trip inside an app leg, counted as tenant time.
`;
}

function churnText(memory: MemoryResult): string {
  const { churn } = memory;
  return `A full store is slower: the store's part of GET /login (startSession + addPendingLogin) took ${fmt(churn.belowCapUs.median)} µs (median) while filling up to ${n(churn.cap)} and ${fmt(churn.atCapUs.median)} µs past it, ×${fmt(churn.ratio)}.`;
}

/** How far the handler rows are from the HTTP rows at the same count, per kind of entry. */
function agreement(memory: MemoryResult): string {
  const pairs = (['pending', 'signedIn'] as const).flatMap((kind) => {
    const http = memory.runs.find((run) => run.kind === kind && run.via === 'http');
    const handler = memory.runs.find((run) => run.kind === kind && run.via === 'handler' && !run.capped && run.limits === 'default');
    if (!http || !handler) return [];
    const off = Math.round((100 * Math.abs(http.bytesPerEntry - handler.bytesPerEntry)) / http.bytesPerEntry);
    return [{ off, text: `${KIND[kind]} ${fmtBytes(http.bytesPerEntry)} over HTTP (${n(http.signIns)} sign-ins) vs ${fmtBytes(handler.bytesPerEntry)} through the handler (${n(handler.signIns)})` }];
  });
  if (pairs.length === 0) return '';
  return ` The two ways agree within ${Math.max(...pairs.map((pair) => pair.off))} % on the heap per entry: ${pairs.map((pair) => pair.text).join('; ')}.`;
}

function endpoints(throughput: ThroughputResult): string {
  const calls = throughput.levels[0]?.appToTenant.byEndpoint ?? {};
  return Object.entries(calls).map(([endpoint, perSignIn]) => `\`${endpoint}\` × ${fmt(perSignIn)}`).join(', ') || 'none';
}

function limitsText(memory: MemoryResult): string {
  const parts = Object.entries(memory.limits as unknown as Record<string, number>).map(([name, value]) =>
    name.endsWith('Ms') ? `${name} ${value % 3_600_000 === 0 ? `${value / 3_600_000} h` : `${value / 60_000} min`}` : `${name} ${n(value)}`,
  );
  return parts.join(', ');
}

function MEMORY_DEFINITIONS_TEXT(memory: MemoryResult): string {
  const d = memory.definitions;
  return `measured in a child process per row ([\`bench/memory-child.ts\`](../bench/memory-child.ts)):

- **pending sign-in**: ${d.pending}.
- **signed-in session**: ${d.signedIn}.
- **tenant**: ${d.tenant}.
- **via http**: ${d.http}; **via handler**: ${d.handler}.
- **heap Δ**: ${d.heap}.`;
}
