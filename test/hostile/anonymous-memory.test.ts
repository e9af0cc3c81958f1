// Memory per session nobody signed in to, whatever it is sent (issue 12, finding 1). Anyone can make
// such a session — a GET /login without a cookie — and then send it callbacks with huge parameter
// names and codes. Before, each one kept up to 64,000 characters of transcript plus every "secret"
// it was sent (a 6 KB code, 64 times), and a slice of the whole callback URL: about 150 KB a session,
// so 10,000 of them took the app past 1 GB. Now a session that is not signed in keeps a small
// transcript (ANONYMOUS_TRACE_CHARS) whose remembered secrets count against its budget.
// scripts/load.ts measures the same with 2,000 sessions and reports the heap per session.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ANONYMOUS_TRACE_CHARS } from '../../src/app/sessions.ts';
import { Trace } from '../../src/trace.ts';
import { startStack, type Stack } from '../helpers/browser.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

interface Answer {
  status: number;
  cookies: string[];
  location: string | undefined;
  body: string;
}

let stack: Stack;
let agent: Agent;
before(async () => {
  stack = await startStack();
  agent = new Agent({ keepAlive: true, maxSockets: 10 });
});
after(async () => {
  agent.destroy();
  await stack.close();
});

function get(path: string, cookie?: string): Promise<Answer> {
  const { port } = stack.app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: cookie ? { cookie } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, cookies: (res.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]!), location: res.headers.location, body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** One hostile visitor: GET /login without a cookie, then `callbacks` callbacks of ~14 KB each. Returns its cookies. */
async function hostileVisitor(callbacks: number): Promise<string> {
  const login = await get('/login');
  const cookie = login.cookies.join('; ');
  const state = new URL(login.location!).searchParams.get('state')!;
  const name = 'n'.repeat(2_000);
  for (let i = 0; i < callbacks; i += 1) {
    // A repeated 2 KB parameter name, a 6 KB "code", and every other time the sign-in's own state.
    const query = `${name}${i}=1&${name}${i}=2&code=${'c'.repeat(6_000)}${i}&state=${i % 2 ? state : `x${i}${state.slice(2)}`}`;
    const answer = await get(`/login/callback?${query}`, cookie);
    assert.equal(answer.status, 400);
  }
  return cookie;
}

describe('a session nobody signed in to, sent oversized callbacks', () => {
  it('keeps a transcript within its small budget', async () => {
    const cookie = await hostileVisitor(30);
    const answer = await get('/trace?format=json', cookie);
    assert.equal(answer.status, 200);
    // Discovery at start heads every transcript (shared by all sessions, kept once): not this session's.
    const events = (JSON.parse(answer.body) as { events: { section: string }[] }).events.filter((event) => event.section !== '3.1');
    assert.ok(events.length > 0, 'the failures are on record');
    // The budget counts each event as JSON; one event may exceed it on its own (the newest is kept).
    const chars = events.reduce<number>((sum, event) => sum + JSON.stringify(event).length, 0);
    assert.ok(chars <= ANONYMOUS_TRACE_CHARS + 1_000, `${chars} characters of transcript`);
  });

  it('costs a few KB of heap, however many callbacks it is sent', async () => {
    const visitors = 150;
    const run = async (callbacks: number) => {
      const before = heapUsed();
      for (let i = 0; i < visitors; i += 10) await Promise.all(Array.from({ length: 10 }, () => hostileVisitor(callbacks)));
      return (heapUsed() - before) / visitors;
    };
    const few = await run(2);
    const many = await run(20);
    // Measured at about 10 KB a session; before, about 150 KB with 20 callbacks, and growing with each.
    assert.ok(many < 24 * 1024, `${Math.round(many)} bytes per hostile session with 20 callbacks (${Math.round(few)} with 2)`);
  });
});

describe('Trace: remembered secrets', () => {
  it('are few in a small transcript, and each costs a few bytes whatever its length: 6 KB "codes" are not kept whole', () => {
    const trace = new Trace([], { maxChars: 4_000 });
    for (let i = 0; i < 64; i += 1) trace.note('3.3', `GET https://app.example/login/callback?code=${'c'.repeat(6_000)}${i}&state=s${i}xxxxxx`);
    assert.ok(trace.secrets.size <= 10, `${trace.secrets.size} secrets`);
    const before = heapUsed();
    const traces = Array.from({ length: 200 }, (_, i) => new Trace([`${'c'.repeat(6_000)}${i}`], { maxChars: 4_000 }));
    const perTrace = (heapUsed() - before) / traces.length;
    assert.ok(perTrace < 2_000, `${Math.round(perTrace)} bytes for a transcript that remembers one 6 KB value`);
    // The newest are remembered, and scrubbed from free text; a 6 KB one too.
    assert.equal(trace.secrets.scrub('echo s63xxxxxx'), `echo ${trace.secrets.scrub('s63xxxxxx')}`);
    assert.doesNotMatch(trace.secrets.scrub('echo s63xxxxxx'), /s63xxxxxx/);
    assert.doesNotMatch(trace.secrets.scrub(`echo ${'c'.repeat(6_000)}63`), /cccccc/);
  });

  it('go, with the oldest events, when the budget is lowered (a failed sign-in kept by an anonymous session)', () => {
    const trace = new Trace();
    for (let i = 0; i < 20; i += 1) trace.note('3.3', `step ${i}: ${'x'.repeat(900)} https://t.example/cb?code=${'c'.repeat(2_000)}${i}`);
    assert.ok(trace.size > 4_000);
    assert.equal(trace.secrets.size, 20);
    trace.limitTo(4_000);
    assert.ok(trace.size <= 4_000, `${trace.size}`);
    assert.equal(trace.secrets.size, 10, 'the newest ten');
    assert.doesNotMatch(trace.secrets.scrub(`${'c'.repeat(2_000)}19`), /cccccc/);
  });
});
