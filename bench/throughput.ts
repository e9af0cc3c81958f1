// Part 2: sign-ins per second through the app (createApp) against the sandbox tenant (startSandbox),
// both in this process on 127.0.0.1, driven by scripted browsers (bench/lib/browser.ts) at a given
// concurrency. Each browser is new (empty cookie jar) and does a whole sign-in: GET /login → the
// consent page → Allow → the callback → the signed-in home page.
//
// Where the time goes. The browser times each of its five requests. The app's own requests to the
// tenant (token endpoint, /api/v1/users/me) happen inside the callback leg; they go through the
// global fetch (src/http.ts), which this bench wraps to time them. The browser has its own
// reference to fetch, so its requests are not counted twice. Then, summed over all sign-ins:
//   tenant  = browser → tenant legs (authorize, decision) + the app's calls to the tenant
//   app     = browser → app legs (login, callback, home) − the app's calls to the tenant
//   browser = the rest: the script's own work between requests (reading the consent form, …)
// All three share one Node process (one event loop), so under concurrency each share also holds
// time spent queued behind the others' work: read the split at concurrency 1 as the cleanest.

import { signIn, startStack, type Fetch, type SignInTiming } from './lib/browser.ts';
import { quantile, round, roundSummary, sortNumbers, summarize, type Summary } from './lib/stats.ts';

export interface ThroughputSettings {
  concurrency: number[];
  /** Sign-ins per timed run, per concurrency level (at least 4 per browser). */
  signInsPerRun: (concurrency: number) => number;
  runs: number;
  /** Sign-ins before the timed runs, per level, to warm up the JIT and the connection pools. */
  warmup: (concurrency: number) => number;
}

export interface ThroughputLevel {
  concurrency: number;
  runs: number;
  signInsPerRun: number;
  /** Completed sign-ins per second of wall time: median, min, max over the runs. */
  signInsPerSecond: Summary;
  /** Per sign-in, from GET /login to the home page, over every sign-in of every run, in ms. */
  latencyMs: { p50: number; p99: number; min: number; max: number; samples: number };
  /** Mean ms per sign-in of each side (see the definitions), and its share of the total. */
  perSignInMs: { app: number; tenant: number; browser: number; total: number };
  share: { app: number; tenant: number; browser: number };
  /** Mean ms per sign-in of the browser's five legs, as it saw them. */
  legsMs: Omit<SignInTiming, 'total'>;
  /** The app's calls to the tenant per sign-in, in all and by endpoint, and their mean ms. */
  appToTenant: { callsPerSignIn: number; msPerSignIn: number; byEndpoint: Record<string, number> };
  /** CPU time of this whole process (browsers + app + tenant) per sign-in, in ms. */
  cpuMsPerSignIn: number;
}

export interface ThroughputResult {
  definitions: Record<string, string>;
  levels: ThroughputLevel[];
}

export const DEFINITIONS: Record<string, string> = {
  setup: 'app (createApp) + sandbox tenant (startSandbox) + scripted browsers, all in one Node process on 127.0.0.1; a fresh app and tenant per concurrency level',
  signIn: 'a new browser: GET /login (302) → GET /oauth/authorize (consent page) → POST decision=allow (302) → GET /login/callback (302; the app exchanges the code and calls /api/v1/users/me) → GET / (signed-in page)',
  app: "browser→app legs (login, callback, home) minus the app's own calls to the tenant made during them: the app's handlers, its HTTP server, and the client steps",
  tenant: "browser→tenant legs (authorize, decision) plus the app's own calls to the tenant (listed with the legs), each timed until the tenant's response headers arrived",
  browser: "the rest of a sign-in's wall time: the scripted browser's own work between requests (cookie jar, reading the consent form)",
  caveat: "every leg's time includes the HTTP work at both of its ends (the browser's fetch is in the same process), and one event loop serves all three, so under concurrency each share also holds time queued behind the others' work; concurrency 1 gives the cleanest split",
};

/** Wraps globalThis.fetch to time the app's calls to the tenant. Returns the original and the tally. */
interface Tally {
  calls: number;
  ms: number;
  /** "METHOD /path" → calls. */
  byEndpoint: Map<string, number>;
}

function wrapFetch(tenantOrigin: () => string): { original: Fetch; tally: Tally; restore(): void } {
  const original = globalThis.fetch;
  const tally: Tally = { calls: 0, ms: 0, byEndpoint: new Map() };
  globalThis.fetch = async (input, init) => {
    const started = performance.now();
    const response = await original(input, init);
    const url = String(input instanceof Request ? input.url : input);
    if (url.startsWith(tenantOrigin())) {
      tally.calls += 1;
      tally.ms += performance.now() - started;
      const endpoint = `${init?.method ?? 'GET'} ${new URL(url).pathname}`;
      tally.byEndpoint.set(endpoint, (tally.byEndpoint.get(endpoint) ?? 0) + 1);
    }
    return response;
  };
  return { original, tally, restore: () => void (globalThis.fetch = original) };
}

async function runSignIns(fetchImpl: Fetch, appUrl: string, concurrency: number, count: number, timings: SignInTiming[]): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < count) {
        started += 1;
        timings.push(await signIn(fetchImpl, appUrl));
      }
    }),
  );
}

export async function runThroughput(settings: ThroughputSettings, progress: (line: string) => void = () => {}): Promise<ThroughputResult> {
  let tenantUrl = '';
  const wrapped = wrapFetch(() => tenantUrl);
  const levels: ThroughputLevel[] = [];
  try {
    for (const concurrency of settings.concurrency) {
      const stack = await startStack();
      tenantUrl = stack.sandbox.url;
      try {
        await runSignIns(wrapped.original, stack.app.url, concurrency, settings.warmup(concurrency), []);
        const count = settings.signInsPerRun(concurrency);
        const rates: number[] = [];
        const all: SignInTiming[] = [];
        let cpuMs = 0;
        let wallCalls = 0;
        let wallMs = 0;
        wrapped.tally.byEndpoint.clear();
        for (let run = 0; run < settings.runs; run++) {
          const timings: SignInTiming[] = [];
          const before = { ...wrapped.tally };
          const cpu = process.cpuUsage();
          const t0 = performance.now();
          await runSignIns(wrapped.original, stack.app.url, concurrency, count, timings);
          const elapsed = performance.now() - t0;
          const used = process.cpuUsage(cpu);
          cpuMs += (used.user + used.system) / 1000;
          wallCalls += wrapped.tally.calls - before.calls;
          wallMs += wrapped.tally.ms - before.ms;
          rates.push((timings.length * 1000) / elapsed);
          all.push(...timings);
        }
        const n = all.length;
        const mean = (key: keyof SignInTiming) => all.reduce((sum, t) => sum + t[key], 0) / n;
        const legs = { login: mean('login'), authorize: mean('authorize'), decision: mean('decision'), callback: mean('callback'), home: mean('home') };
        const total = mean('total');
        const appToTenantMs = wallMs / n;
        const app = legs.login + legs.callback + legs.home - appToTenantMs;
        const tenant = legs.authorize + legs.decision + appToTenantMs;
        const browser = total - app - tenant;
        const totals = sortNumbers(all.map((t) => t.total));
        const level: ThroughputLevel = {
          concurrency,
          runs: settings.runs,
          signInsPerRun: count,
          signInsPerSecond: roundSummary(summarize(rates)),
          latencyMs: {
            p50: round(quantile(totals, 0.5)),
            p99: round(quantile(totals, 0.99)),
            min: round(totals[0]!),
            max: round(totals.at(-1)!),
            samples: n,
          },
          perSignInMs: { app: round(app), tenant: round(tenant), browser: round(browser), total: round(total) },
          share: { app: round(app / total, 2), tenant: round(tenant / total, 2), browser: round(browser / total, 2) },
          legsMs: {
            login: round(legs.login),
            authorize: round(legs.authorize),
            decision: round(legs.decision),
            callback: round(legs.callback),
            home: round(legs.home),
          },
          appToTenant: {
            callsPerSignIn: round(wallCalls / n),
            msPerSignIn: round(appToTenantMs),
            byEndpoint: Object.fromEntries([...wrapped.tally.byEndpoint].map(([endpoint, calls]) => [endpoint, round(calls / n)])),
          },
          cpuMsPerSignIn: round(cpuMs / n),
        };
        levels.push(level);
        progress(
          `  concurrency ${concurrency}: ${level.signInsPerSecond.median} sign-ins/s, p50 ${level.latencyMs.p50} ms, p99 ${level.latencyMs.p99} ms`,
        );
      } finally {
        await stack.close();
      }
    }
  } finally {
    wrapped.restore();
  }
  return { definitions: DEFINITIONS, levels };
}
