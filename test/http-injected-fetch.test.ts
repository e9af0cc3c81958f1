// httpRequest with an injected fetch (HttpOptions.fetch): the protections hold whatever fetch it is
// given, including one that ignores the abort signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QlikOAuthError } from '../src/errors.ts';
import { httpRequest, type HttpExchange } from '../src/http.ts';

const URL_ = 'https://acme.eu.qlikcloud.com/api/v1/users/me';

/** A fetch that answers 200 with these chunks, and never looks at the signal. */
function chunkedFetch(chunks: Uint8Array[], then: 'close' | 'hang' = 'close', headers: Record<string, string> = {}): typeof fetch {
  return async () => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < chunks.length) controller.enqueue(chunks[i++]!);
        else if (then === 'close') controller.close();
        // 'hang': no more bytes, ever, and the stream stays open
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json', ...headers } });
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<QlikOAuthError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof QlikOAuthError, `an QlikOAuthError, got ${String(error)}`);
  assert.equal(error.code, code);
  return error;
}

test('the injected fetch is the one used, not the global one', async () => {
  const seen: string[] = [];
  const result = await httpRequest(
    { method: 'GET', url: URL_ },
    { fetch: async (input, init) => (seen.push(`${init?.method} ${String(input)} ${init?.redirect}`), new Response('{"a":1}', { headers: { 'content-type': 'application/json' } })) },
  );
  assert.equal(result.body, '{"a":1}');
  assert.deepEqual(seen, [`GET ${URL_} manual`]);
});

test('TIMEOUT: a body that stops coming, from a fetch that ignores the abort signal', async () => {
  const started = Date.now();
  await rejectsWith(httpRequest({ method: 'GET', url: URL_ }, { timeoutMs: 50, fetch: chunkedFetch([Buffer.from('{"a":')], 'hang') }), 'TIMEOUT');
  assert.ok(Date.now() - started < 2000, 'gave up at the timeout');
});

test('TIMEOUT: a fetch that answers only when aborted is stopped at the timeout', async () => {
  const neverUnlessAborted: typeof fetch = (_input, init) =>
    new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
  await rejectsWith(httpRequest({ method: 'GET', url: URL_ }, { timeoutMs: 30, fetch: neverUnlessAborted }), 'TIMEOUT');
});

test('a body in many chunks, with a character split between two, is read whole', async () => {
  const text = '{"name":"Zoë Ångström"}';
  const bytes = Buffer.from(text);
  const split = bytes.indexOf(0xc3) + 1; // inside the two bytes of "ë"
  const chunks = [bytes.subarray(0, split), bytes.subarray(split, split + 3), bytes.subarray(split + 3)];
  const result = await httpRequest({ method: 'GET', url: URL_ }, { fetch: chunkedFetch(chunks) });
  assert.equal(result.body, text);
});

test('a one-chunk body that is a view into a larger buffer is read as just its bytes', async () => {
  const backing = Buffer.from('xxxx{"a":1}yyyy');
  const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 7);
  const result = await httpRequest({ method: 'GET', url: URL_ }, { fetch: chunkedFetch([view]) });
  assert.equal(result.body, '{"a":1}');
});

test('BODY_TOO_LARGE: chunks past the cap from an injected fetch, without content-length', async () => {
  const chunk = new Uint8Array(600);
  await rejectsWith(httpRequest({ method: 'GET', url: URL_ }, { maxBodyBytes: 1000, fetch: chunkedFetch([chunk, chunk], 'hang') }), 'BODY_TOO_LARGE');
});

test('REDIRECT_REFUSED with an injected fetch', async () => {
  const redirecting: typeof fetch = async () => new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } });
  await rejectsWith(httpRequest({ method: 'GET', url: URL_ }, { fetch: redirecting }), 'REDIRECT_REFUSED');
});

test('onExchange gets the response headers and body', async () => {
  const exchanges: HttpExchange[] = [];
  await httpRequest(
    { method: 'GET', url: URL_ },
    { timeoutMs: 60_000, onExchange: (e) => exchanges.push(e), fetch: chunkedFetch([Buffer.from('{}')], 'close', { 'x-trace': 'yes' }) },
  );
  assert.equal(exchanges.length, 1);
  assert.equal(exchanges[0]!.result?.headers.get('x-trace'), 'yes');
  assert.equal(exchanges[0]!.result?.body, '{}');
});

test("the caller's signal stops a body that stops coming, from a fetch that ignores the signal", async () => {
  const caller = new AbortController();
  setTimeout(() => caller.abort(), 30);
  const error = await rejectsWith(
    httpRequest({ method: 'GET', url: URL_ }, { timeoutMs: 60_000, signal: caller.signal, fetch: chunkedFetch([Buffer.from('{"a":')], 'hang') }),
    'TIMEOUT',
  );
  assert.match(error.message, /was stopped/);
});

test("a caller's signal aborted before the request: nothing is read", async () => {
  const caller = new AbortController();
  caller.abort();
  let sent = false;
  const fetchSeen: typeof fetch = async (_input, init) => {
    sent = true;
    init?.signal?.throwIfAborted();
    return new Response('{}', { headers: { 'content-type': 'application/json' } });
  };
  await rejectsWith(httpRequest({ method: 'GET', url: URL_ }, { signal: caller.signal, fetch: fetchSeen }), 'TIMEOUT');
  assert.ok(sent, 'fetch saw the aborted signal and refused');
});
