// Part 3: the app's heap per pending sign-in and per signed-in session. Each measurement runs in its
// own child process (bench/memory-child.ts, started with --expose-gc so heapUsed is read after full
// collections). Heap figures do not depend on CPU speed, so two children run at a time.
//
// The session store is capped (src/app/sessions.ts DEFAULT_SESSION_LIMITS): past the cap the
// oldest sessions are dropped. So 100,000 sign-ins are measured twice: with the caps in force (the
// heap is what the cap lets the store hold) and with the caps raised to 100,000 (the cost per entry
// if someone raises them).

import { spawn } from 'node:child_process';
import { createSessionStore, DEFAULT_SESSION_LIMITS, startSession, type SessionLimits } from '../src/app/sessions.ts';
import type { MemoryChildResult, MemoryChildSettings } from './memory-child.ts';
import { HOSTILE_CALLBACKS, HOSTILE_NAME_BYTES } from './lib/fixtures.ts';
import { round, roundSummary, summarize, type Summary } from './lib/stats.ts';

export interface MemorySettings {
  /** The smaller count: pending sign-ins over HTTP and through the handler, signed-in sessions through the handler. */
  small: number;
  /** Signed-in sessions made over real HTTP, to check the handler's figure (a real sign-in over HTTP is slow). */
  httpSignedIn: number;
  /** The larger count, made through the handler, with the caps in force and with them raised. */
  large: number;
  warmup: number;
  /** Hostile anonymous sessions (memory-child.ts "hostile"), made through the handler. */
  hostile: number;
  /** In quick mode, only the runs that give every figure once. */
  quick: boolean;
}

export interface MemoryRun {
  kind: 'pending' | 'signedIn' | 'hostile';
  via: 'http' | 'handler';
  limits: 'default' | 'raised';
  /** Sign-ins made after the baseline. */
  signIns: number;
  /** The cap on this kind of entry in force for the run. */
  cap: number;
  /** Entries the store holds at the end: min(signIns, cap). */
  held: number;
  capped: boolean;
  heapDeltaBytes: number;
  bytesPerEntry: number;
  rssDeltaBytes: number;
  durationMs: number;
}

export interface MemoryResult {
  definitions: Record<string, string>;
  limits: SessionLimits;
  runs: MemoryRun[];
  /**
   * The headline figures, at the smaller count with the caps in force: bytes per pending sign-in
   * (over HTTP) and per signed-in session (through the handler, or over HTTP in a quick run).
   */
  perPendingBytes: number;
  perSessionBytes: number;
  /** Issue 12: the heap one hostile anonymous session holds, and the app's time to serve its requests. */
  hostile: { perSessionBytes: number; msPerSession: number; callbacksPerSession: number; nameBytes: number; sessions: number };
  /** What a full store costs in time: the store's work for one GET /login below and at its cap. */
  churn: StoreChurn;
  /** The heap the store can reach with the caps in force, from the runs past the cap. */
  atCap: { pendingBytes: number; signedInBytes: number; pendingCap: number; signedInCap: number };
}

export interface StoreChurn {
  /** The cap the store was filled to (maxSessions). */
  cap: number;
  /** µs per startSession (a cookieless GET /login): median, min, max over blocks of calls. */
  belowCapUs: Summary;
  atCapUs: Summary;
  /** atCapUs.median / belowCapUs.median. */
  ratio: number;
}

/**
 * Times the session store's part of a cookieless GET /login (startSession; the state and verifier
 * are sealed in a cookie) while the store fills up to its cap, then for three times as many calls past it,
 * where every call also evicts the oldest session. In this process, before the memory children run.
 */
export function measureStoreChurn(cap: number, block: number): StoreChurn {
  const store = createSessionStore({ maxSessions: cap });
  const below: number[] = [];
  const at: number[] = [];
  for (let done = 0; done < cap * 4; done += block) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < block; i++) {
      startSession(store); // the pending sign-in itself is sealed in a cookie: no server state
    }
    const us = Number(process.hrtime.bigint() - t0) / 1000 / block;
    if (done + block <= cap) below.push(us);
    else if (done >= cap) at.push(us);
  }
  const belowCapUs = roundSummary(summarize(below));
  const atCapUs = roundSummary(summarize(at));
  return { cap, belowCapUs, atCapUs, ratio: round(atCapUs.median / belowCapUs.median, 2) };
}

export const MEMORY_DEFINITIONS: Record<string, string> = {
  pending: "a new browser's GET /login: the anonymous session it gets (with its transcript) and the pending sign-in (state, PKCE verifier)",
  signedIn: 'GET /login then GET /login/callback: a signed-in session with its tokens, user, and the sign-in transcript the app keeps for GET /trace',
  tenant: 'an in-process stub at the fetch boundary (bench/lib/stub-tenant.ts) with the sandbox response shapes: only the app grows in the measured heap',
  http: 'real requests over loopback to the app (createApp)',
  handler: "the app's own request listener called directly with minimal request/response objects: same routing, handlers and store, no sockets",
  heap: 'process.memoryUsage().heapUsed after repeated gc(), after the sign-ins minus before them, on a second app whose store started empty',
  hostile: `a cookieless GET /login, then ${HOSTILE_CALLBACKS} callbacks with its session cookie, a wrong state and a ${HOSTILE_NAME_BYTES / 1024} KB parameter name repeated (issue 12's memory attack): an anonymous session sent the worst it can be sent`,
};

function runChild(settings: MemoryChildSettings): Promise<MemoryChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=6144', '--max-semi-space-size=64', '--import', import.meta.resolve('tsx'), new URL('./memory-child.ts', import.meta.url).pathname, JSON.stringify(settings)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`memory child ${JSON.stringify(settings)} exited ${code}: ${stderr.slice(0, 1000)}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as MemoryChildResult);
      } catch (error) {
        reject(new Error(`memory child printed no result: ${stdout.slice(0, 500)} ${stderr.slice(0, 500)}`, { cause: error }));
      }
    });
  });
}

/** The limits as plain numbers: read by name, so that a cap added to SessionLimits later is seen too. */
function numericLimits(limits: SessionLimits): Record<string, number> {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => typeof value === 'number')) as Record<string, number>;
}

/** Every cap on a count of entries: maxSessions, maxSignedInSessions, … */
function countCaps(limits: SessionLimits): string[] {
  return Object.keys(numericLimits(limits)).filter((name) => name.startsWith('max'));
}

function capOf(kind: MemoryRun['kind'], limits: SessionLimits): number {
  const caps = numericLimits(limits);
  // A pending sign-in makes a new (anonymous) session; its state is in a cookie. A signed-in
  // session counts against maxSignedInSessions where the store has that cap, else maxSessions.
  if (kind === 'pending' || kind === 'hostile') return caps.maxSessions ?? Infinity;
  return caps.maxSignedInSessions ?? caps.maxSessions ?? Infinity;
}

export async function runMemory(settings: MemorySettings, progress: (line: string) => void = () => {}): Promise<MemoryResult> {
  const churnCap = settings.quick ? 200 : capOf('pending', DEFAULT_SESSION_LIMITS);
  const churn = measureStoreChurn(churnCap, settings.quick ? 25 : 500);
  progress(
    `  session store, startSession: ${churn.belowCapUs.median} µs below its cap of ${churnCap.toLocaleString('en-US')}, ${churn.atCapUs.median} µs at it (×${churn.ratio})`,
  );
  type Plan = { kind: MemoryRun['kind']; via: MemoryRun['via']; limits: MemoryRun['limits']; n: number; cost: number };
  const plans: Plan[] = [];
  for (const kind of ['pending', 'signedIn'] as const) {
    const cost = kind === 'pending' ? 1 : 6; // rough relative time per sign-in, to balance the two lanes
    const httpCount = kind === 'pending' ? settings.small : settings.httpSignedIn;
    plans.push({ kind, via: 'http', limits: 'default', n: httpCount, cost: cost * 3 * httpCount });
    if (!settings.quick) {
      plans.push({ kind, via: 'handler', limits: 'default', n: settings.small, cost: cost * settings.small });
      plans.push({ kind, via: 'handler', limits: 'default', n: settings.large, cost: cost * settings.large });
    }
    // Quick: the HTTP runs alone give every figure once (each child costs a second or two of CPU).
    if (!settings.quick) plans.push({ kind, via: 'handler', limits: 'raised', n: settings.large, cost: cost * settings.large * 1.2 });
  }
  plans.push({ kind: 'hostile', via: 'handler', limits: 'default', n: settings.hostile, cost: 60 * settings.hostile });
  // Two lanes, longest first, each plan to the lane with less work so far.
  const lanes: Plan[][] = [[], []];
  const load = [0, 0];
  for (const plan of [...plans].sort((a, b) => b.cost - a.cost)) {
    const lane = load[0]! <= load[1]! ? 0 : 1;
    lanes[lane]!.push(plan);
    load[lane]! += plan.cost;
  }
  const runs: MemoryRun[] = [];
  await Promise.all(
    lanes.map(async (lane) => {
      for (const plan of lane) {
        // Raised: every count cap at least n, never lowered.
        const raised = Object.fromEntries(
          countCaps(DEFAULT_SESSION_LIMITS).map((name) => [name, Math.max(numericLimits(DEFAULT_SESSION_LIMITS)[name]!, plan.n)]),
        ) as Partial<SessionLimits>;
        const limits = plan.limits === 'raised' ? { ...DEFAULT_SESSION_LIMITS, ...raised } : DEFAULT_SESSION_LIMITS;
        const result = await runChild({
          kind: plan.kind,
          via: plan.via,
          n: plan.n,
          warmup: settings.warmup,
          limits: plan.limits === 'raised' ? raised : undefined,
        });
        const cap = capOf(plan.kind, limits);
        const held = Math.min(plan.n, cap);
        const heapDeltaBytes = result.heapAfterBytes - result.heapBeforeBytes;
        const run: MemoryRun = {
          kind: plan.kind,
          via: plan.via,
          // "raised" only when the count asked for more than the defaults allow (not so in quick runs).
          limits: cap > capOf(plan.kind, DEFAULT_SESSION_LIMITS) ? 'raised' : 'default',
          signIns: plan.n,
          cap,
          held,
          capped: plan.n > cap,
          heapDeltaBytes,
          bytesPerEntry: Math.round(heapDeltaBytes / held),
          rssDeltaBytes: result.rssAfterBytes - result.rssBeforeBytes,
          durationMs: Math.round(result.durationMs),
        };
        runs.push(run);
        progress(
          `  ${plan.kind} × ${plan.n.toLocaleString('en-US')} via ${plan.via}, ${run.limits} caps: heap +${round(heapDeltaBytes / 1024 / 1024)} MiB, ${run.bytesPerEntry} B per entry held (${held.toLocaleString('en-US')} held)`,
        );
      }
    }),
  );
  const order = (run: MemoryRun) => [['pending', 'signedIn', 'hostile'].indexOf(run.kind), run.via === 'http' ? 0 : 1, run.signIns, run.limits === 'default' ? 0 : 1];
  runs.sort((a, b) => {
    const x = order(a);
    const y = order(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return 0;
  });
  const find = (kind: MemoryRun['kind'], via: MemoryRun['via']) => runs.find((run) => run.kind === kind && run.via === via)!;
  const atSmall = (kind: MemoryRun['kind'], via: MemoryRun['via']) =>
    runs.find((run) => run.kind === kind && run.via === via && run.signIns === settings.small && run.limits === 'default') ?? find(kind, 'http');
  const pastCap = (kind: MemoryRun['kind']) => runs.filter((run) => run.kind === kind && run.capped).at(-1) ?? find(kind, 'http');
  return {
    definitions: MEMORY_DEFINITIONS,
    limits: DEFAULT_SESSION_LIMITS,
    runs,
    churn,
    perPendingBytes: atSmall('pending', 'http').bytesPerEntry,
    perSessionBytes: atSmall('signedIn', 'handler').bytesPerEntry,
    hostile: {
      perSessionBytes: find('hostile', 'handler').bytesPerEntry,
      msPerSession: round(find('hostile', 'handler').durationMs / settings.hostile),
      callbacksPerSession: HOSTILE_CALLBACKS,
      nameBytes: HOSTILE_NAME_BYTES,
      sessions: settings.hostile,
    },
    atCap: {
      pendingBytes: pastCap('pending').heapDeltaBytes,
      signedInBytes: pastCap('signedIn').heapDeltaBytes,
      pendingCap: capOf('pending', DEFAULT_SESSION_LIMITS),
      signedInCap: capOf('signedIn', DEFAULT_SESSION_LIMITS),
    },
  };
}
