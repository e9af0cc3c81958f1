// Part 3's measuring process, started by bench/memory.ts as
//   node --expose-gc --import tsx bench/memory-child.ts '<json settings>'
// It starts the app (createApp) against the in-fetch stub tenant (bench/lib/stub-tenant.ts), makes
// `n` sign-ins of one kind, and prints the heap before and after as one line of JSON. heapUsed is
// read after full garbage collections, so it is what the app keeps, not what it has yet to free.
//
// kind:  "pending"  — a new browser's GET /login: an anonymous session holding one pending sign-in
//        "signedIn" — GET /login, then GET /login/callback with a code: a signed-in session
//        "hostile"  — a cookieless GET /login, then HOSTILE_CALLBACKS callbacks with that session's
//                     cookie, a wrong state and a ~7 KB parameter name repeated (issue 12's attack):
//                     what an anonymous session costs when it is sent the worst it can be sent
// via:   "http"     — real requests over loopback to the app's server
//        "handler"  — the app's own 'request' listener called with minimal request/response objects:
//                     the same routing, handlers and session store, with no sockets, so that 100,000
//                     sign-ins fit in the bench's time budget

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createApp, type App } from '../src/app/index.ts';
import type { SessionLimits } from '../src/app/sessions.ts';
import { HOSTILE_CALLBACKS, HOSTILE_NAME_BYTES } from './lib/fixtures.ts';
import { installStubTenant, STUB_TENANT } from './lib/stub-tenant.ts';
import type { Fetch } from './lib/browser.ts';

export interface MemoryChildSettings {
  kind: 'pending' | 'signedIn' | 'hostile';
  via: 'http' | 'handler';
  n: number;
  warmup: number;
  /** Sign-ins in flight at once. Default 16 over HTTP, 8 through the handler. */
  concurrency?: number;
  /** Session store limits given to createApp; undefined: the app's defaults. */
  limits: Partial<SessionLimits> | undefined;
}

export interface MemoryChildResult {
  settings: MemoryChildSettings;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  durationMs: number;
}

interface Answer {
  status: number;
  location: string | undefined;
  setCookies: string[];
}
type Get = (path: string, cookie?: string) => Promise<Answer>;

function overHttp(fetchImpl: Fetch, app: App): Get {
  return async (path, cookie) => {
    const response = await fetchImpl(app.url + path, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
    await response.text();
    return { status: response.status, location: response.headers.get('location') ?? undefined, setCookies: response.headers.getSetCookie() };
  };
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** Calls the app's request listener directly: server.ts reads url, method, headers and writes with setHeader/end. */
function throughHandler(app: App): Get {
  const listeners = app.server.listeners('request') as Listener[];
  if (listeners.length !== 1) throw new Error(`expected the app's one 'request' listener, found ${listeners.length}`);
  const listener = listeners[0]!;
  return (path, cookie) =>
    new Promise<Answer>((resolve, reject) => {
      const req = Object.assign(new EventEmitter(), { url: path, method: 'GET', headers: cookie ? { cookie } : {} });
      const headers: Record<string, unknown> = {};
      const res = Object.assign(new EventEmitter(), {
        statusCode: 200,
        destroyed: false,
        headersSent: false,
        setHeader(name: string, value: unknown) {
          headers[name.toLowerCase()] = value;
          return res;
        },
        end() {
          const cookies = headers['set-cookie'];
          const location = headers.location;
          resolve({
            status: res.statusCode,
            location: typeof location === 'string' ? location : undefined,
            setCookies: Array.isArray(cookies) ? cookies.map(String) : typeof cookies === 'string' ? [cookies] : [],
          });
          return res;
        },
        destroy() {
          res.destroyed = true;
          reject(new Error(`the app destroyed the response to ${path}`));
          return res;
        },
      });
      listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    });
}

function expectStatus(answer: Answer, status: number, what: string): Answer {
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status}`);
  return answer;
}

async function signIn(get: Get, kind: MemoryChildSettings['kind']): Promise<void> {
  const login = expectStatus(await get('/login'), 302, 'GET /login');
  if (kind === 'pending') return;
  // The session cookie and the pending sign-in's sealed cookie (src/app/cookies.ts).
  const pairs = login.setCookies.map((line) => line.split(';')[0]!);
  const sid = pairs.find((pair) => pair.startsWith('sid='));
  const state = new URL(login.location!).searchParams.get('state');
  if (sid === undefined || state === null) throw new Error('GET /login gave no session cookie or no state');
  const cookie = pairs.join('; ');
  if (kind === 'hostile') {
    for (let i = 0; i < HOSTILE_CALLBACKS; i++) {
      // A fresh name each time (random bytes, so nothing is shared between sessions), sent twice.
      const name = randomBytes((HOSTILE_NAME_BYTES * 3) / 4).toString('base64url');
      const wrongState = randomBytes(32).toString('base64url');
      const callback = await get(`/login/callback?state=${wrongState}&code=x&${name}=1&${name}=2`, cookie);
      if (callback.status < 400 || callback.status >= 500) throw new Error(`a hostile callback got ${callback.status}, not a 4xx`);
    }
    return;
  }
  // What the tenant would send the browser back with (RFC 6749 §4.1.2, RFC 9207 §2).
  const query = new URLSearchParams({ code: `sbx_ac_${randomBytes(32).toString('base64url')}`, state, iss: STUB_TENANT });
  const callback = expectStatus(await get(`/login/callback?${query}`, cookie), 302, 'GET /login/callback');
  if (callback.location !== '/') throw new Error(`the callback sent the browser to ${callback.location}, not home`);
}

async function many(get: Get, kind: MemoryChildSettings['kind'], n: number, concurrency: number): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < n) {
        started += 1;
        await signIn(get, kind);
      }
    }),
  );
}

async function settledHeap(): Promise<{ heap: number; rss: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.argv[2] ?? '') as MemoryChildSettings;
  const browserFetch = installStubTenant();
  const start = (limits: Partial<SessionLimits> | undefined) =>
    createApp({
      tenantUrl: STUB_TENANT,
      clientId: 'bench-client',
      clientSecret: 'bench-secret',
      host: '127.0.0.1',
      port: 0,
      log: () => {},
      ...(limits ? { sessionLimits: limits } : {}),
    });
  const driver = (app: App) => (settings.via === 'http' ? overHttp(browserFetch, app) : throughHandler(app));
  const concurrency = settings.concurrency ?? (settings.via === 'http' ? 16 : 8);

  // Warm up on a first app (JIT, connection pool), then measure on a second one with an empty store.
  const warm = await start(settings.limits);
  await many(driver(warm), settings.kind, settings.warmup, concurrency);
  await warm.close();

  const app = await start(settings.limits);
  const get = driver(app);
  const before = await settledHeap();
  const t0 = performance.now();
  await many(get, settings.kind, settings.n, concurrency);
  const durationMs = performance.now() - t0;
  const after = await settledHeap();
  await app.close();

  const result: MemoryChildResult = {
    settings,
    heapBeforeBytes: before.heap,
    heapAfterBytes: after.heap,
    rssBeforeBytes: before.rss,
    rssAfterBytes: after.rss,
    durationMs,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
