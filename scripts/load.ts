// Load on loopback: `npm run test:load` (node --expose-gc --import tsx scripts/load.ts).
//
// 1. 500 sign-ins at once, each a scripted browser with its own cookie jar and its own user, through
//    the app against the sandbox tenant. Every one must end signed in as its own user — on the home
//    page and at /api/me — with zero errors, and no page of one browser may name another's user.
// 2. 100,000 abandoned sign-ins: GET /login without a cookie, 50 at a time, so each makes a new
//    session and a pending sign-in that nobody finishes. The app's heap (measured after gc, the app
//    runs in this process) must stay under HEAP_CAP_MB and stop growing once the session store is
//    full; and every one of the 500 users must still be signed in afterwards (sessions.ts keeps
//    signed-in sessions apart from anonymous ones, so a flood cannot sign anybody out).
//
// Everything stays on 127.0.0.1 and every loop is bounded in count and in time. Prints the figures;
// exits 1 on any failure.

import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Browser, signIn, startStack, type Stack } from '../test/helpers/browser.ts';

const SIGN_INS = 500;
const ABANDONED = 100_000;
const FLOOD_CONCURRENCY = 50;
/** heapUsed after gc, once 100,000 abandoned sign-ins went through, with the 500 users signed in. */
const HEAP_CAP_MB = 96;
/** The second 50,000 abandoned sign-ins may add at most this much: the store is full and recycles. */
const PLATEAU_SLACK_MB = 8;
/** The whole run; a hung request must not hang CI. */
const DEADLINE_MS = 110_000;

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

const begun = performance.now();
const watchdog = setTimeout(() => {
  console.error(`FAIL the load run took over ${DEADLINE_MS / 1000} s`);
  process.exit(1);
}, DEADLINE_MS + 10_000);
watchdog.unref();

const stack = await startStack({ app: { log: () => {} } });
try {
  const users = await signInAll(stack);

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
} catch (error) {
  fail(`the run broke: ${(error as Error).stack ?? String(error)}`);
} finally {
  await stack.close();
}

console.log(`total         ${ms(performance.now() - begun)}, ${failures.length === 0 ? 'OK' : `${failures.length} FAILURES`}`);
process.exit(failures.length === 0 ? 0 : 1);
