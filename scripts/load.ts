// Load on loopback: `npm run test:load` (node --expose-gc --import tsx scripts/load.ts).
//
// 1. 500 sign-ins at once, each a scripted browser with its own cookie jar and its own user, through
//    the app against the sandbox tenant. Every one must end signed in as its own user — on the home
//    page and at /api/me — with zero errors, and no page of one browser may name another's user.
// 2. 100,000 abandoned sign-ins: GET /login without a cookie, 50 at a time, so each makes a new
//    session (its pending sign-in is sealed in a cookie: nothing on the server). The app's heap
//    (measured after gc, the app runs in this process) must stay under HEAP_CAP_MB and stop growing
//    once the session store is full; every one of the 500 users must still be signed in afterwards
//    (sessions.ts keeps signed-in sessions apart from anonymous ones, so a flood cannot sign anybody
//    out); and a sign-in started before the flood, its user waiting at the tenant's consent page,
//    must complete after it.
// 3. 2,000 hostile anonymous sessions: each a GET /login without a cookie, then CALLBACKS_EACH
//    callbacks of ~14 KB (a repeated 2 KB parameter name, a 6 KB "code", every other one with the
//    sign-in's own state). The heap per session must stay under HOSTILE_CAP_KB: a session nobody
//    signed in to costs a few KB, whatever it is sent.
//
// Everything stays on 127.0.0.1 and every loop is bounded in count and in time. Prints the figures;
// exits 1 on any failure.

import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Browser, signIn, startSignIn, startStack, type Stack } from '../test/helpers/browser.ts';

const SIGN_INS = 500;
const ABANDONED = 100_000;
const FLOOD_CONCURRENCY = 50;
/** heapUsed after gc, once 100,000 abandoned sign-ins went through, with the 500 users signed in. */
const HEAP_CAP_MB = 96;
/** The second 50,000 abandoned sign-ins may add at most this much: the store is full and recycles. */
const PLATEAU_SLACK_MB = 8;
/** Phase 3: hostile anonymous sessions, and the callbacks each one is sent. */
const HOSTILE_SESSIONS = 2_000;
const CALLBACKS_EACH = 4;
/** Heap per hostile anonymous session, after gc (measured about 10 KB; before the fix, 50–150 KB and growing with each callback). */
const HOSTILE_CAP_KB = 16;
/** The whole run; a hung request must not hang CI. */
const DEADLINE_MS = 140_000;

const failures: string[] = [];
const fail = (what: string) => {
  const line = what.replace(/\s+/g, ' ');
  if (failures.length < 20) console.error(`FAIL ${line}`);
  failures.push(line);
};

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('Run with --expose-gc: node --expose-gc --import tsx scripts/load.ts');
  process.exit(2);
}
function heapMb(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const ms = (n: number) => `${Math.round(n)} ms`;
const mb = (n: number) => `${n.toFixed(1)} MB`;

/** "load-007" → "Load 007", as the sandbox names its users (src/sandbox/fake-data.ts). */
const displayName = (user: string) => user.replace(/^load-/, 'Load ');

interface User {
  user: string;
  name: string;
  browser: Browser;
}

/** Phase 1: 500 sign-ins at once. */
async function signInAll(stack: Stack): Promise<User[]> {
  const users: User[] = Array.from({ length: SIGN_INS }, (_, i) => {
    const user = `load-${String(i).padStart(3, '0')}`;
    return { user, name: displayName(user), browser: new Browser() };
  });
  const durations: number[] = [];
  const started = performance.now();
  await Promise.all(
    users.map(async ({ user, name, browser }) => {
      const t0 = performance.now();
      try {
        const { final } = await signIn(browser, stack.app, user);
        durations.push(performance.now() - t0);
        if (final.status !== 200 || !final.body.includes(`<h1>Signed in as ${name}</h1>`)) {
          fail(`${user}: the sign-in ended ${final.status} ${final.body.slice(0, 200)}`);
        }
        const me = await browser.get(`${stack.app.url}/api/me`);
        const body = me.status === 200 ? (JSON.parse(me.body) as { name?: string; subject?: string }) : {};
        if (body.name !== name || body.subject !== `sandbox|${user}`) fail(`${user}: /api/me said ${me.status} ${me.body.slice(0, 200)}`);
      } catch (error) {
        fail(`${user}: ${(error as Error).message}`);
      }
    }),
  );
  const wall = performance.now() - started;
  durations.sort((a, b) => a - b);
  console.log(`sign-ins      ${SIGN_INS} at once, ${durations.length} finished, wall ${ms(wall)}, p50 ${ms(percentile(durations, 50))}, p99 ${ms(percentile(durations, 99))}, errors ${failures.length}`);
  checkNoCrossTalk(stack, users);
  return users;
}

/** No page a browser got from the app names any user but its own; no two browsers share a session. */
function checkNoCrossTalk(stack: Stack, users: User[]): void {
  const sessions = new Set<string>();
  let leaks = 0;
  for (const { user, name, browser } of users) {
    const sid = browser.cookie(stack.app.url, 'sid');
    if (sid === undefined || sessions.has(sid)) fail(`${user}: session id missing or shared`);
    if (sid) sessions.add(sid);
    for (const page of browser.pages) {
      if (!page.url.startsWith(stack.app.url)) continue;
      for (const [seen] of page.body.matchAll(/load-\d{3}|Load \d{3}/g)) {
        if (seen !== user && seen !== name) {
          leaks += 1;
          fail(`${user}: ${page.method} ${page.url} shows ${seen}`);
        }
      }
    }
  }
  console.log(`cross-session ${leaks} leaks, ${sessions.size} distinct session ids`);
}

/** Phase 2: `count` GET /login without a cookie, FLOOD_CONCURRENCY at a time. */
async function flood(stack: Stack, count: number): Promise<number> {
  const { port } = stack.app.server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: FLOOD_CONCURRENCY });
  const once = () =>
    new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/login', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end();
    });
  let sent = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: FLOOD_CONCURRENCY }, async () => {
      while (sent < count && performance.now() - begun < DEADLINE_MS) {
        sent += 1;
        if ((await once()) !== 302) errors += 1;
      }
    }),
  );
  agent.destroy();
  if (sent < count) fail(`the flood ran out of time after ${sent} requests`);
  if (errors > 0) fail(`${errors} of ${sent} abandoned sign-ins were not answered 302`);
  return performance.now() - started;
}

/** One plain GET on loopback: status, the cookies set (name=value), the Location. */
function get(stack: Stack, agent: Agent, path: string, cookie?: string): Promise<{ status: number; cookies: string[]; location: string | undefined }> {
  const { port } = stack.app.server.address() as AddressInfo;
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: cookie ? { cookie } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cookies: (res.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]!), location: res.headers.location }));
    });
    req.on('error', () => resolve({ status: 0, cookies: [], location: undefined }));
    req.end();
  });
}

/** Phase 3: hostile anonymous sessions. Returns the heap per session, in bytes. */
async function hostileSessions(stack: Stack): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: FLOOD_CONCURRENCY });
  const name = 'n'.repeat(2_000);
  const code = 'c'.repeat(6_000);
  const visitor = async () => {
    const login = await get(stack, agent, '/login');
    const state = login.location === undefined ? null : new URL(login.location).searchParams.get('state');
    if (login.status !== 302 || state === null) return fail(`GET /login answered ${login.status}`);
    const cookie = login.cookies.join('; ');
    for (let i = 0; i < CALLBACKS_EACH; i += 1) {
      const query = `${name}${i}=1&${name}${i}=2&code=${code}${i}&state=${i % 2 ? state : `x${i}${state.slice(2)}`}`;
      const answer = await get(stack, agent, `/login/callback?${query}`, cookie);
      if (answer.status !== 400) fail(`a hostile callback was answered ${answer.status}, not 400`);
    }
  };
  const before = heapMb();
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: FLOOD_CONCURRENCY }, async () => {
      while (started < HOSTILE_SESSIONS && performance.now() - begun < DEADLINE_MS) {
        started += 1;
        await visitor();
      }
    }),
  );
  agent.destroy();
  const perSession = ((heapMb() - before) * 1024 * 1024) / HOSTILE_SESSIONS;
  console.log(
    `hostile       ${HOSTILE_SESSIONS} anonymous sessions × ${CALLBACKS_EACH} callbacks of ~14 KB, wall ${ms(performance.now() - t0)}: heap ${(perSession / 1024).toFixed(1)} KB per session (cap ${HOSTILE_CAP_KB} KB)`,
  );
  if (started < HOSTILE_SESSIONS) fail(`the hostile sessions ran out of time after ${started}`);
  if (perSession > HOSTILE_CAP_KB * 1024) fail(`a hostile anonymous session costs ${(perSession / 1024).toFixed(1)} KB, over ${HOSTILE_CAP_KB} KB`);
  return perSession;
}

const begun = performance.now();
const watchdog = setTimeout(() => {
  console.error(`FAIL the load run took over ${DEADLINE_MS / 1000} s`);
  process.exit(1);
}, DEADLINE_MS + 10_000);
watchdog.unref();

const stack = await startStack({ app: { log: () => {} } });
try {
  const users = await signInAll(stack);

  // A user at the tenant's consent page while the flood runs: the sign-in completes after it.
  const waiting = new Browser();
  const consentPage = await startSignIn(waiting, stack.app);

  const heapSignedIn = heapMb();
  const firstHalf = await flood(stack, ABANDONED / 2);
  const heapHalf = heapMb();
  const secondHalf = await flood(stack, ABANDONED / 2);
  const heapAfter = heapMb();
  console.log(`abandoned     ${ABANDONED} GET /login without a cookie, ${FLOOD_CONCURRENCY} at a time, wall ${ms(firstHalf + secondHalf)} (${Math.round(ABANDONED / ((firstHalf + secondHalf) / 1000))}/s)`);
  console.log(`heap (gc)     ${mb(heapSignedIn)} with ${SIGN_INS} signed in → ${mb(heapHalf)} after ${ABANDONED / 2} → ${mb(heapAfter)} after ${ABANDONED}; cap ${HEAP_CAP_MB} MB, plateau slack ${PLATEAU_SLACK_MB} MB`);
  if (heapAfter > HEAP_CAP_MB) fail(`the heap is ${mb(heapAfter)}, over the cap of ${HEAP_CAP_MB} MB`);
  if (heapAfter - heapHalf > PLATEAU_SLACK_MB) fail(`the heap still grows: ${mb(heapHalf)} → ${mb(heapAfter)} over the second ${ABANDONED / 2}`);

  // Nobody was signed out by the flood.
  let stillIn = 0;
  for (let i = 0; i < users.length; i += 50) {
    await Promise.all(
      users.slice(i, i + 50).map(async ({ user, name, browser }) => {
        const home = await browser.get(`${stack.app.url}/`);
        if (home.status === 200 && home.body.includes(`<h1>Signed in as ${name}</h1>`)) stillIn += 1;
        else fail(`${user} was signed out by the flood: ${home.status} ${home.body.slice(0, 120)}`);
      }),
    );
  }
  console.log(`after flood   ${stillIn} of ${SIGN_INS} still signed in as themselves`);
  const decision = await waiting.consent(consentPage, { user: 'load.waiting', decision: 'allow' });
  const finished = await waiting.follow(decision.location!);
  const completed = finished.at(-1)!.body.includes('<h1>Signed in as Load Waiting</h1>');
  if (!completed) fail(`the sign-in started before the flood did not complete after it: ${finished[0]!.status} ${finished[0]!.body.slice(0, 200)}`);
  console.log(`pending       a sign-in started before the ${ABANDONED} GET /login ${completed ? 'completed after them' : 'FAILED after them'}`);
} catch (error) {
  fail(`the run broke: ${(error as Error).stack ?? String(error)}`);
} finally {
  await stack.close();
}

// Phase 3 on an app of its own, so that its heap figure is the hostile sessions' alone (on the first
// app, each new session would push out one of the flood's).
const hostileStack = await startStack({ app: { log: () => {} } });
try {
  await hostileSessions(hostileStack);
} catch (error) {
  fail(`the hostile phase broke: ${(error as Error).stack ?? String(error)}`);
} finally {
  await hostileStack.close();
}

console.log(`total         ${ms(performance.now() - begun)}, ${failures.length === 0 ? 'OK' : `${failures.length} FAILURES`}`);
process.exit(failures.length === 0 ? 0 : 1);
