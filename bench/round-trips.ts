// Part 6: the fewest round trips. Every request to the tenant takes `latencyMs` longer (a fetch that
// waits before sending: the app's, via the global fetch it calls, and the scripted browser's own),
// as a tenant far away would. A sign-in through this project's app (createApp, a real node:http
// server) is timed against the tutorial-shaped yardstick (bench/lib/tutorial-app.ts: openid-client,
// token exchange + /users/me, a landing page from the session), both against the same sandbox tenant,
// alternated one sign-in at a time.
//
// A sign-in: GET /login → the tenant's consent page → Allow → the callback → the landing page GET /.
// Tenant round trips in sequence are counted from the fetch wrapper: a call to the tenant that
// starts while none is in flight begins a new round trip; one that starts while another is in
// flight shares it (a parallel batch). The browser's two tenant legs (consent page, Allow) count too.

import { DEFAULT_SCOPE } from '../src/app/index.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from '../src/sandbox/index.ts';
import { signIn, startStack, type Fetch, type SignInTiming, type Stack } from './lib/browser.ts';
import { round, roundSummary, summarize, type Summary } from './lib/stats.ts';
import { startTutorialApp, type TutorialApp } from './lib/tutorial-app.ts';

export interface RoundTripSettings {
  /** Added to every request to the tenant, in ms. */
  latencyMs: number;
  /** Timed sign-ins per app, alternated. */
  signIns: number;
  warmup: number;
}

export interface RoundTripApp {
  id: 'ours' | 'tutorial';
  name: string;
  /** Wall ms of a whole sign-in, GET /login to the landing page: median, min, max. */
  totalMs: Summary;
  /** Median ms of each leg as the browser saw it. */
  legsMs: Omit<SignInTiming, 'total'>;
  /** Tenant round trips in sequence per sign-in, the browser's two included (medians; they do not vary). */
  sequentialRoundTrips: number;
  /** The app's own calls to the tenant per sign-in, and how many of them are in sequence. */
  appCalls: number;
  appSequential: number;
  /** The app's calls to the tenant made during each leg, by endpoint ("GET /api/v1/users/me"). */
  callsByLeg: Record<string, string[]>;
}

export interface RoundTripResult {
  settings: RoundTripSettings;
  apps: RoundTripApp[];
  /** ours / tutorial, of the medians of the whole sign-in. */
  ratio: number;
}

/** What the tenant saw of one sign-in: the app's calls, and the round trips in sequence. */
interface Tally {
  calls: number;
  sequential: number;
  inFlight: number;
  browserSequential: number;
  leg: string;
  byLeg: Map<string, string[]>;
}

function newTally(): Tally {
  return { calls: 0, sequential: 0, inFlight: 0, browserSequential: 0, leg: '', byLeg: new Map() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function urlOf(input: Parameters<Fetch>[0]): URL {
  return new URL(input instanceof Request ? input.url : String(input));
}

export async function runRoundTrips(settings: RoundTripSettings, progress: (line: string) => void = () => {}): Promise<RoundTripResult> {
  let stack: Stack | undefined;
  let tutorial: TutorialApp | undefined;
  const realFetch = globalThis.fetch;
  let tally = newTally();
  const tenantOrigin = () => stack?.sandbox.url ?? '';

  // The apps call the global fetch: each call to the tenant waits latencyMs first, and is counted.
  globalThis.fetch = async (input, init) => {
    const url = urlOf(input);
    if (url.origin !== tenantOrigin()) return realFetch(input, init);
    const t = tally;
    t.calls += 1;
    if (t.inFlight === 0) t.sequential += 1;
    t.inFlight += 1;
    const calls = t.byLeg.get(t.leg) ?? [];
    calls.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    t.byLeg.set(t.leg, calls);
    try {
      await sleep(settings.latencyMs);
      return await realFetch(input, init);
    } finally {
      t.inFlight -= 1;
    }
  };
  // The browser has its own fetch: its tenant legs wait too, and are counted apart.
  const browserFetch: Fetch = async (input, init) => {
    const url = urlOf(input);
    if (url.origin !== tenantOrigin()) {
      tally.leg = url.pathname; // the app's calls from here on belong to this leg
      return realFetch(input, init);
    }
    tally.browserSequential += 1;
    await sleep(settings.latencyMs);
    return realFetch(input, init);
  };

  try {
    // Discovery happens at start for both, before the latency matters to any sign-in.
    stack = await startStack();
    const { sandbox, app: ours } = stack;
    tutorial = await startTutorialApp(sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, DEFAULT_SCOPE);
    sandbox.addRedirectUri(SANDBOX_CLIENT_ID, tutorial.redirectUri);

    const apps = [
      { id: 'ours' as const, name: 'this project (npm start)', url: ours.url },
      { id: 'tutorial' as const, name: 'tutorial-shaped (openid-client)', url: tutorial.url },
    ];
    const timings = apps.map(() => [] as SignInTiming[]);
    const tallies = apps.map(() => [] as Tally[]);
    for (let i = 0; i < settings.warmup + settings.signIns; i++) {
      // Alternated, and in a rotating order, so that a burst of other work falls on both alike.
      for (let k = 0; k < apps.length; k++) {
        const a = (i + k) % apps.length;
        tally = newTally();
        const timing = await signIn(browserFetch, apps[a]!.url);
        if (tally.inFlight !== 0) throw new Error('a call to the tenant outlived its sign-in');
        if (i >= settings.warmup) {
          timings[a]!.push(timing);
          tallies[a]!.push(tally);
        }
      }
    }

    const results: RoundTripApp[] = apps.map((app, a) => {
      const legMedian = (key: keyof SignInTiming) => round(summarize(timings[a]!.map((t) => t[key])).median);
      const med = (f: (t: Tally) => number) => summarize(tallies[a]!.map(f)).median;
      const last = tallies[a]!.at(-1)!;
      return {
        id: app.id,
        name: app.name,
        totalMs: roundSummary(summarize(timings[a]!.map((t) => t.total))),
        legsMs: { login: legMedian('login'), authorize: legMedian('authorize'), decision: legMedian('decision'), callback: legMedian('callback'), home: legMedian('home') },
        sequentialRoundTrips: med((t) => t.sequential + t.browserSequential),
        appCalls: med((t) => t.calls),
        appSequential: med((t) => t.sequential),
        callsByLeg: Object.fromEntries([...last.byLeg].map(([leg, calls]) => [legName(leg), calls])),
      };
    });
    for (const app of results) {
      progress(`  ${app.name}: ${app.totalMs.median} ms, ${app.sequentialRoundTrips} tenant round trips in sequence (${app.appSequential} by the app)`);
    }
    return { settings, apps: results, ratio: round(results[0]!.totalMs.median / results[1]!.totalMs.median) };
  } finally {
    globalThis.fetch = realFetch;
    await tutorial?.close();
    await stack?.close();
  }
}

/** The browser's request that the app's calls happened during. */
function legName(path: string): string {
  if (path === '/login/callback') return 'GET /login/callback';
  if (path === '/') return 'GET /';
  return `GET ${path}`;
}
