// Seeded fuzzing: random bytes and random JSON at every response processor, and random query strings
// at /login/callback through the running app. Bounded in count, so it runs in a few seconds.
//
// What must hold: a processor throws nothing but a QlikOAuthError subclass (the parse* helpers throw
// nothing at all); the app never answers 500, never shows a stack trace or a source path, never
// echoes markup, never leaks a secret; no promise rejection goes unhandled.
//
// A failure prints the seed. Run again with it: FUZZ_SEED=1234 node --import tsx --test test/fuzz.test.ts

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { processDiscoveryResponse } from '../src/3.1-discovery.ts';
import { processTokenResponse, validateCallback } from '../src/3.3-token.ts';
import { parseWwwAuthenticate, processUserResponse } from '../src/3.4-api.ts';
import type { HttpResult } from '../src/http.ts';
import { parseErrorBody } from '../src/tenant-error.ts';
import { QlikOAuthError } from '../src/errors.ts';
import { findLeaks, startStack, watchSecrets, type Page, type Stack } from './helpers/browser.ts';
import { INTERNALS } from './helpers/pages.ts';
import { parseRetryAfter } from '../src/tenant-error.ts';

const SEED = process.env.FUZZ_SEED === undefined ? 0x9700 : Number(process.env.FUZZ_SEED);
if (!Number.isSafeInteger(SEED)) throw new Error(`FUZZ_SEED must be a whole number, not "${process.env.FUZZ_SEED}"`);
const ITERATIONS = 5_000;
const REQUESTS = 2_000;
const tag = `[FUZZ_SEED=${SEED}]`;

/** mulberry32: a tiny seeded PRNG, so that every run with the same seed throws the same inputs. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- random inputs

class Fuzz {
  readonly random: () => number;
  constructor(seed: number) {
    this.random = mulberry32(seed);
  }
  int(below: number): number {
    return Math.floor(this.random() * below);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A string from a mix of alphabets: ASCII, markup, controls, Unicode, lone surrogates, long runs. */
  string(maxLength = 40): string {
    const alphabets = [
      'abcdefghijklmnopqrstuvwxyz0123456789',
      '<>"\'&/=;:,?#%+ \\`${}[]()',
      '\u0000\u0001\t\n\r\u007f\u0085\u2028\u2029',
      'äéü€😀中文\u202e\ufeff\ufffd',
      '\ud800\udfff', // halves of surrogate pairs, alone
    ];
    const length = this.chance(0.05) ? 1000 + this.int(5000) : this.int(maxLength);
    let text = '';
    for (let i = 0; i < length; i += 1) {
      const alphabet = this.pick(alphabets);
      text += alphabet[this.int(alphabet.length)];
    }
    return text;
  }

  /** Any JSON value, nested up to `depth`, with the names the processors look for. */
  json(depth = 3): unknown {
    const kind = this.int(depth > 0 ? 9 : 6);
    switch (kind) {
      case 0: return null;
      case 1: return this.chance(0.5);
      case 2: return this.pick([0, -0, -1, 1, 1.5, 21600, -21600, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER]);
      case 3: return this.string();
      case 4: return this.pick(['', 'bearer', 'Bearer', 'mac', 'S256', 'code', 'client_secret_post', '2030-01-01T00:00:00Z', 'yesterday', '3600', '-5']);
      case 5: return this.pick([TENANT, `${TENANT}/`, 'https://evil.example', 'javascript:alert(1)', '/relative', 'http://127.0.0.1:1/x']);
      case 6:
      case 7: return this.object(depth - 1);
      default: return Array.from({ length: this.int(4) }, () => this.json(depth - 1));
    }
  }

  object(depth: number): Record<string, unknown> {
    const keys = [
      'issuer', 'authorization_endpoint', 'token_endpoint', 'revocation_endpoint', 'code_challenge_methods_supported',
      'response_types_supported', 'token_endpoint_auth_methods_supported', 'authorization_response_iss_parameter_supported',
      'access_token', 'token_type', 'expires_in', 'expires_at', 'refresh_token', 'scope',
      'id', 'name', 'subject', 'tenantId', 'email', 'error', 'error_description', 'errors', 'code', 'title', 'detail', 'traceId',
      '__proto__', 'constructor', 'toString',
    ];
    const object: Record<string, unknown> = {};
    for (let i = this.int(10); i > 0; i -= 1) {
      const key = this.chance(0.9) ? this.pick(keys) : this.string(10);
      // The secret marker only ever sits where a real tenant puts secrets.
      object[key] = (key === 'access_token' || key === 'refresh_token') && this.chance(0.5) ? SECRET_MARK : this.json(depth);
    }
    return object;
  }

  /** A body: valid JSON of a plausible document, mangled JSON, or random bytes. */
  body(plausible: () => Record<string, unknown>): string {
    const roll = this.int(10);
    if (roll < 4) return JSON.stringify({ ...plausible(), ...this.object(2) });
    if (roll < 6) return JSON.stringify(this.json());
    if (roll < 8) {
      const text = JSON.stringify({ ...plausible(), ...this.object(1) });
      const cut = this.int(text.length + 1);
      return this.chance(0.5) ? text.slice(0, cut) : text.slice(0, cut) + this.string(5) + text.slice(cut);
    }
    if (roll < 9) return this.pick(['', ' ', 'null', '[]', '"x"', '\ufeff{}', '{"a":1,"a":2}', '['.repeat(10_000), '<html><body>502</body></html>']);
    return Buffer.from(Array.from({ length: this.int(200) }, () => this.int(256))).toString('utf8');
  }

  /** A response as httpRequest() would hand it over. */
  result(plausible: () => Record<string, unknown>, extraHeaders: () => Record<string, string> = () => ({})): HttpResult {
    const status = this.chance(0.6) ? 200 : this.pick([0, 100, 201, 204, 301, 307, 400, 401, 403, 404, 429, 500, 502, 503, 999]);
    const contentType = this.pick(['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/problem+json', 'text/html', 'text/plain', '', 'json', 'application/jsonx', ';;;', 'application/json;']);
    const headers = new Headers(extraHeaders());
    if (contentType !== '' || this.chance(0.5)) headers.set('content-type', contentType);
    return { status, headers, body: this.body(plausible) };
  }

  /** A header value as a server might send it: printable Latin-1, since Headers refuses controls. */
  headerValue(): string {
    const pieces = ['Bearer', 'Basic', ' ', ',', '=', '"', '\\', 'realm', 'error', 'invalid_token', 'insufficient_scope', 'scope', 'error_description', '"a b"', '"unterminated', '==', ',,', 'x'.repeat(this.int(3000)), '120', '-1', 'Wed, 21 Oct 2015 07:28:00 GMT', '1e3', '0x10', ' 7 ', '\t'];
    return Array.from({ length: this.int(12) }, () => this.pick(pieces)).join('');
  }
}

const TENANT = 'https://acme.eu.qlikcloud.com';
const SECRET_MARK = 'fuzz_secret_0123456789abcdefXYZ';

/** Runs `fn`; anything thrown must be a QlikOAuthError, whose message and hint hold no secret. */
function onlyOurErrors(what: string, input: unknown, fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof QlikOAuthError)) {
      assert.fail(`${tag} ${what} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} for ${JSON.stringify(input).slice(0, 300)}`);
    }
    assert.ok(!error.message.includes(SECRET_MARK) && !error.hint.includes(SECRET_MARK), `${tag} ${what}: a secret in the message: ${error.message}`);
  }
}

// ---------------------------------------------------------------- the processors

/** The fastest of `runs` runs of `work`, in ms: a pause of a busy machine (GC, another process) slows one run, a slow input every run. */
function fastestMs(runs: number, work: () => void): number {
  let fastest = Infinity;
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    work();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

describe(`fuzz: the response processors, ${ITERATIONS} inputs each`, () => {
  it('processDiscoveryResponse throws only QlikOAuthError', () => {
    const fuzz = new Fuzz(SEED + 1);
    const document = () => ({ issuer: TENANT, authorization_endpoint: `${TENANT}/oauth/authorize`, token_endpoint: `${TENANT}/oauth/token` });
    for (let i = 0; i < ITERATIONS; i += 1) {
      const result = fuzz.result(document);
      onlyOurErrors('processDiscoveryResponse', result, () => processDiscoveryResponse(result, TENANT));
    }
  });

  it('processTokenResponse throws only QlikOAuthError, and never quotes a token', () => {
    const fuzz = new Fuzz(SEED + 2);
    const tokens = () => ({ access_token: SECRET_MARK, token_type: 'bearer', expires_in: 3600 });
    for (let i = 0; i < ITERATIONS; i += 1) {
      const result = fuzz.result(tokens);
      onlyOurErrors('processTokenResponse', result, () => processTokenResponse(result, Date.now()));
    }
  });

  it('processUserResponse throws only QlikOAuthError', () => {
    const fuzz = new Fuzz(SEED + 3);
    const user = () => ({ id: 'i', name: 'n', subject: 's', tenantId: 't' });
    const headers = () => ({
      ...(fuzz.chance(0.5) ? { 'www-authenticate': fuzz.headerValue() } : {}),
      ...(fuzz.chance(0.5) ? { 'retry-after': fuzz.headerValue() } : {}),
    });
    for (let i = 0; i < ITERATIONS; i += 1) {
      const result = fuzz.result(user, headers);
      onlyOurErrors('processUserResponse', result, () => processUserResponse(result));
    }
  });

  it('validateCallback throws only QlikOAuthError', () => {
    const fuzz = new Fuzz(SEED + 4);
    const state = 'k'.repeat(43);
    const names = ['state', 'code', 'iss', 'error', 'error_description', 'error_uri', 'error_code', 'error_detail', 'x'];
    for (let i = 0; i < ITERATIONS; i += 1) {
      const parts: string[] = [];
      for (let n = fuzz.int(8); n > 0; n -= 1) {
        const name = fuzz.chance(0.9) ? fuzz.pick(names) : fuzz.string(8);
        const value = name === 'state' && fuzz.chance(0.5) ? state : name === 'iss' && fuzz.chance(0.5) ? TENANT : fuzz.string();
        const encode = (text: string) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '\ufffd'));
        parts.push(fuzz.chance(0.8) ? `${encode(name)}=${encode(value)}` : `${name}=${value}`);
      }
      const url = `http://localhost:3000/login/callback?${parts.join(fuzz.pick(['&', '&&', ';', '&=&']))}`;
      const expected = { expectedState: state, issuer: TENANT, issRequired: fuzz.chance(0.3) };
      onlyOurErrors('validateCallback', url, () => validateCallback(fuzz.chance(0.5) ? url : new URL(url), expected));
    }
  });

  it('parseWwwAuthenticate never throws, returns strings, and takes linear time', () => {
    const fuzz = new Fuzz(SEED + 5);
    for (let i = 0; i < ITERATIONS; i += 1) {
      const header = fuzz.chance(0.5) ? fuzz.headerValue() : fuzz.string(200);
      let params: Record<string, string> = {};
      assert.doesNotThrow(() => (params = parseWwwAuthenticate(header)), `${tag} ${JSON.stringify(header)}`);
      assert.ok(fastestMs(3, () => parseWwwAuthenticate(header)) < 50, `${tag} slow on ${JSON.stringify(header).slice(0, 200)}`);
      for (const value of Object.values(params)) assert.equal(typeof value, 'string', tag);
    }
  });

  it('parseRetryAfter never throws, and gives undefined or a whole number of seconds, never negative', () => {
    const fuzz = new Fuzz(SEED + 6);
    for (let i = 0; i < ITERATIONS; i += 1) {
      const header = fuzz.chance(0.2) ? null : fuzz.chance(0.6) ? fuzz.headerValue() : fuzz.string(40);
      let seconds: number | undefined;
      assert.doesNotThrow(() => (seconds = parseRetryAfter(header, Date.now())), `${tag} ${JSON.stringify(header)}`);
      if (seconds !== undefined) assert.ok(Number.isInteger(seconds) && seconds >= 0, `${tag} ${JSON.stringify(header)} → ${seconds}`);
    }
  });

  it('parseErrorBody never throws, and gives undefined or string fields', () => {
    const fuzz = new Fuzz(SEED + 7);
    const qlik = () => ({ errors: [{ code: 'OAUTH-1', title: 't', detail: 'd' }], traceId: 'x' });
    for (let i = 0; i < ITERATIONS; i += 1) {
      const result = fuzz.result(qlik);
      let parsed: ReturnType<typeof parseErrorBody>;
      assert.doesNotThrow(() => (parsed = parseErrorBody(result)), `${tag} ${JSON.stringify(result.body).slice(0, 200)}`);
      if (parsed !== undefined) {
        for (const value of [parsed.code, parsed.message, parsed.traceId]) assert.ok(value === undefined || typeof value === 'string', tag);
      }
    }
  });
});

// ---------------------------------------------------------------- the app

describe(`fuzz: ${REQUESTS} random callbacks through the app`, () => {
  let stack: Stack;
  let watch: ReturnType<typeof watchSecrets>;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });

  before(async () => {
    process.on('unhandledRejection', onRejection);
    watch = watchSecrets(); // sees every secret the app sends to or gets from the tenant
    stack = await startStack();
  });
  after(async () => {
    agent.destroy();
    watch.stop();
    await stack.close();
    process.off('unhandledRejection', onRejection);
  });

  /** One raw request: the path goes on the wire as given (node:http only refuses spaces and controls). */
  function get(path: string, cookie?: string): Promise<Page> {
    const { port } = new URL(stack.app.url);
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent, headers: cookie ? { cookie } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const one of [value ?? []].flat()) headers.append(name, one);
          }
          const location = res.headers.location;
          resolve({ url: `${stack.app.url}${path}`, method: 'GET', status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8'), location });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * A random query string: our parameter names or others, values of every kind, encodings right and
   * wrong. With a real state, half the time only a code and unknown names follow, so the callback
   * gets past the checks to the tenant.
   */
  function randomQuery(fuzz: Fuzz, state: string | undefined): string {
    const ours = ['state', 'code', 'iss', 'error', 'error_description', 'error_uri', 'error_code', 'error_detail'];
    const harmless = ['session_state', 'lang', '', 'utm_source'];
    const toTenant = state !== undefined && fuzz.chance(0.5);
    const names = toTenant ? harmless : [...ours, ...harmless];
    const parts: string[] = [];
    if (state !== undefined) parts.push(`state=${encodeURIComponent(state)}`);
    if (toTenant) parts.push(`code=${encodeURIComponent(fuzz.string(60).replace(/[\ud800-\udfff]/g, '')) || 'c'}`);
    for (let n = fuzz.int(toTenant ? 3 : 7); n > 0; n -= 1) {
      const name = fuzz.chance(0.85) ? fuzz.pick(names) : `x${fuzz.string(6)}`;
      const value = name === 'iss' && fuzz.chance(0.3) ? stack.app.metadata.issuer : `${fuzz.chance(0.3) ? '<fz>' : ''}${fuzz.string()}`;
      const encode = (text: string) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '\ufffd'));
      const raw = (text: string) =>
        // Printable bytes as they are; anything node:http would refuse to send gets a percent, right or wrong.
        text.replace(/[^\x21-\x7e]/gu, (ch) => (fuzz.chance(0.5) ? encode(ch) : fuzz.pick(['%', '%z', '%E0%A4', '%00', '%FF'])));
      parts.push(fuzz.chance(0.6) ? `${encode(name)}=${encode(value)}` : `${raw(name)}=${raw(value)}`);
    }
    if (!toTenant && fuzz.chance(0.5)) parts.sort(() => fuzz.random() - 0.5);
    return parts.join(toTenant ? '&' : fuzz.pick(['&', '&', '&', '&&', ';', '#']));
  }

  it('never answers 500, never shows internals, markup or a secret, and rejects nothing unhandled', async () => {
    // Every query is drawn before any is sent, so the same seed gives the same queries whatever
    // order the answers come back in. A quarter carry the state of a real pending sign-in (filled
    // in when it exists), so that they get past the state check to the tenant.
    const fuzz = new Fuzz(SEED);
    const STATE = '\u0000state\u0000';
    const queries = Array.from({ length: REQUESTS }, () => {
      const withState = fuzz.chance(0.25);
      return { withState, query: randomQuery(fuzz, withState ? STATE : undefined) };
    });
    const pages: Page[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < REQUESTS) {
        const { withState, query } = queries[next++]!;
        let cookie: string | undefined;
        let path = `/login/callback?${query}`;
        if (withState) {
          const login = await get('/login');
          // The session cookie and the sign-in's sealed cookie (src/app/cookies.ts).
          cookie = login.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
          const state = new URL(login.location!).searchParams.get('state')!;
          path = path.replace(encodeURIComponent(STATE), encodeURIComponent(state));
        }
        const page = await get(path, cookie);
        pages.push(page);
        statuses.set(page.status, (statuses.get(page.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    for (const page of pages) {
      const where = `${tag} ${page.url.slice(0, 300)} → ${page.status}`;
      assert.ok([400, 431, 502].includes(page.status), `${where}: ${page.body.slice(0, 300)}`);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/, where);
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer', where);
      assert.doesNotMatch(page.body, INTERNALS, where);
      assert.ok(!page.body.includes('<fz>') && !/<script/i.test(page.body), `${where}: markup from the URL`);
    }
    assert.deepEqual(findLeaks(watch.secrets, pages, stack.logs), [], tag);
    assert.ok(!stack.logs.some((line) => line.startsWith('500')), `${tag} ${stack.logs.filter((l) => l.startsWith('500')).join('\n')}`);
    assert.deepEqual(rejections, [], `${tag} unhandled rejections`);
    // The fuzzer reached every kind of answer: checks that failed (400), and the tenant refusing (502).
    assert.ok((statuses.get(400) ?? 0) > REQUESTS / 2 && (statuses.get(502) ?? 0) > 100 && (statuses.get(431) ?? 0) > 0, `${tag} ${JSON.stringify([...statuses])}`);
    assert.ok(watch.secrets.size > 100, 'the verifiers and the client secret were watched');
  });
});
