import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse, delay } from 'msw';
import { httpRequest, parseJsonObject, isLoopbackHost, type HttpExchange } from '../src/http.ts';
import { QlikOAuthError } from '../src/errors.ts';
import { TENANT, mockTenant, result } from './helpers/tenant.ts';
import { parseErrorBody } from '../src/tenant-error.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

const url = `${TENANT}/thing`;

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<QlikOAuthError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, got success`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof QlikOAuthError, `expected QlikOAuthError, got ${String(error)}`);
  assert.equal(error.code, code);
  return error;
}

test('a 200 JSON response is read in full', async () => {
  server.use(http.get(url, () => HttpResponse.json({ a: 1 })));
  const res = await httpRequest({ method: 'GET', url });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), { a: 1 });
});

test('TIMEOUT: a tenant that does not answer in time', async () => {
  server.use(http.get(url, async () => { await delay(600); return HttpResponse.json({}); }));
  const started = Date.now();
  const error = await rejectsWith(httpRequest({ method: 'GET', url }, { timeoutMs: 50 }), 'TIMEOUT');
  assert.ok(Date.now() - started < 500, 'gave up at the timeout, not when the tenant answered');
  assert.match(error.message, /within 50 ms/);
});

test('TIMEOUT: a body that drips past the timeout', async () => {
  server.use(
    http.get(url, () => {
      const stream = new ReadableStream({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode('{"a":'));
          await delay(600);
          controller.enqueue(new TextEncoder().encode('1}'));
          controller.close();
        },
      });
      return new HttpResponse(stream, { headers: { 'content-type': 'application/json' } });
    }),
  );
  await rejectsWith(httpRequest({ method: 'GET', url }, { timeoutMs: 100 }), 'TIMEOUT');
});

test('DEFAULT timeout is 10 s and body cap is 1 MiB', async () => {
  const { DEFAULT_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES } = await import('../src/http.ts');
  assert.equal(DEFAULT_TIMEOUT_MS, 10_000);
  assert.equal(DEFAULT_MAX_BODY_BYTES, 1_048_576);
});

test('BODY_TOO_LARGE: a declared content-length over the cap is refused before reading', async () => {
  let pulls = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (++pulls > 20) return controller.close();
      controller.enqueue(new Uint8Array(100));
    },
  });
  server.use(http.get(url, () => new HttpResponse(body, { headers: { 'content-length': '2000' } })));
  await rejectsWith(httpRequest({ method: 'GET', url }, { maxBodyBytes: 1000 }), 'BODY_TOO_LARGE');
  assert.ok(pulls <= 2, `refused on the header, not after reading ${pulls} chunks`);
});

test('BODY_TOO_LARGE: a streamed body one chunk past the cap is refused', async () => {
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new Uint8Array(1001));
      controller.close();
    },
  });
  server.use(http.get(url, () => new HttpResponse(body)));
  await rejectsWith(httpRequest({ method: 'GET', url }, { maxBodyBytes: 1000 }), 'BODY_TOO_LARGE');
});

test('BODY_TOO_LARGE: a streamed body without content-length is cut at the cap', async () => {
  let chunksSent = 0;
  server.use(
    http.get(url, () => {
      const stream = new ReadableStream({
        pull(controller) {
          chunksSent++;
          if (chunksSent > 1000) return controller.close();
          controller.enqueue(new Uint8Array(1024));
        },
      });
      return new HttpResponse(stream);
    }),
  );
  await rejectsWith(httpRequest({ method: 'GET', url }, { maxBodyBytes: 4096 }), 'BODY_TOO_LARGE');
  assert.ok(chunksSent < 100, `stopped reading early (read ${chunksSent} chunks)`);
});

test('a body exactly at the cap is accepted', async () => {
  server.use(http.get(url, () => new HttpResponse('y'.repeat(1000))));
  const res = await httpRequest({ method: 'GET', url }, { maxBodyBytes: 1000 });
  assert.equal(res.body.length, 1000);
});

test('REDIRECT_REFUSED: a redirect is an error and is not followed', async () => {
  let followed = false;
  server.use(
    http.get(url, () => new HttpResponse(null, { status: 302, headers: { location: 'http://127.0.0.2:9/elsewhere' } })),
    http.get('http://127.0.0.2:9/elsewhere', () => { followed = true; return HttpResponse.json({}); }),
  );
  const error = await rejectsWith(httpRequest({ method: 'GET', url }), 'REDIRECT_REFUSED');
  assert.equal(followed, false);
  assert.match(error.message, /302.*127\.0\.0\.2/);
});

test('NETWORK_ERROR: a tenant that cannot be reached', async () => {
  server.use(http.get(url, () => HttpResponse.error()));
  const error = await rejectsWith(httpRequest({ method: 'GET', url }), 'NETWORK_ERROR');
  assert.match(error.hint, /tenant URL/);
});

test('onExchange sees the request and the response, once', async () => {
  server.use(http.post(url, () => HttpResponse.json({ ok: true }, { status: 201 })));
  const seen: HttpExchange[] = [];
  await httpRequest(
    { method: 'POST', url, headers: { 'content-type': 'text/plain' }, body: 'hello' },
    { onExchange: (e) => seen.push(e) },
  );
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.request.method, 'POST');
  assert.equal(seen[0]!.request.body, 'hello');
  assert.equal(seen[0]!.request.headers.accept, 'application/json', 'the headers as sent');
  assert.equal(seen[0]!.result?.status, 201);
  assert.equal(seen[0]!.result?.body, '{"ok":true}');
  assert.equal(seen[0]!.error, undefined);
});

test('onExchange keeps the status of an answer whose body could not be read', async () => {
  server.use(http.get(url, () => HttpResponse.text('x'.repeat(5_000), { status: 401 })));
  const seen: HttpExchange[] = [];
  await httpRequest({ method: 'GET', url }, { maxBodyBytes: 100, onExchange: (e) => seen.push(e) }).catch(() => {});
  assert.equal(seen[0]!.status, 401);
  assert.equal(seen[0]!.result, undefined);
  assert.equal(seen[0]!.error?.code, 'BODY_TOO_LARGE');
});

test('onExchange sees a failed exchange with its error code', async () => {
  server.use(http.get(url, () => HttpResponse.error()));
  const seen: HttpExchange[] = [];
  await httpRequest({ method: 'GET', url }, { onExchange: (e) => seen.push(e) }).catch(() => {});
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.error?.code, 'NETWORK_ERROR');
  assert.equal(seen[0]!.result, undefined);
});

test('NOT_JSON: an HTML page is not taken for JSON', () => {
  assert.throws(
    () => parseJsonObject(result(200, '<html>{}</html>', { 'content-type': 'text/html' }), 'The thing'),
    (e: QlikOAuthError) => e.code === 'NOT_JSON' && /text\/html/.test(e.message),
  );
});

test('NOT_JSON: a JSON body without a content type is refused', () => {
  const res = { status: 200, headers: new Headers(), body: '{}' };
  assert.throws(() => parseJsonObject(res, 'The thing'), { code: 'NOT_JSON' });
});

test('NOT_JSON: JSON-looking types that are not application/json or +json', () => {
  for (const type of ['text/json', 'application/jsonp', 'application/json-seq']) {
    assert.throws(() => parseJsonObject(result(200, '{}', { 'content-type': type }), 'x'), { code: 'NOT_JSON' }, type);
  }
});

test('application/json with a charset, and +json types, are JSON', () => {
  const body = '{"a":1}';
  for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/problem+json']) {
    assert.deepEqual(parseJsonObject({ status: 200, headers: new Headers({ 'content-type': type }), body }, 'x'), { a: 1 });
  }
});

test('JSON_INVALID: truncated JSON', () => {
  assert.throws(() => parseJsonObject(result(200, '{"access_token":"ab', { 'content-type': 'application/json' }), 'x'), {
    code: 'JSON_INVALID',
  });
});

test('JSON_NOT_OBJECT: an array, a string, null', () => {
  for (const body of [[], 'text', null, 42]) {
    assert.throws(() => parseJsonObject(result(200, JSON.stringify(body), { 'content-type': 'application/json' }), 'x'), {
      code: 'JSON_NOT_OBJECT',
    });
  }
});

test('parseErrorBody reads RFC 6749 §5.2 and Qlik error shapes, and tolerates anything else', () => {
  assert.deepEqual(parseErrorBody(result(400, { error: 'invalid_grant', error_description: 'Code expired' })), {
    code: 'invalid_grant',
    message: 'Code expired',
    traceId: undefined,
  });
  assert.deepEqual(
    parseErrorBody(
      result(401, {
        errors: [{ code: 'OAUTH-22', title: 'Invalid client_secret', detail: 'Wrong secret', status: '401' }],
        traceId: 't-1',
      }),
    ),
    { code: 'OAUTH-22', message: 'Invalid client_secret: Wrong secret', traceId: 't-1' },
  );
  assert.equal(parseErrorBody(result(500, '<html>oops</html>')), undefined);
  assert.equal(parseErrorBody(result(401, '')), undefined);
  assert.equal(parseErrorBody(result(400, { something: 'else' })), undefined);
});

test('isLoopbackHost allows only loopback names', () => {
  for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['example.com', '127.0.0.1.example.com', 'localhost.evil.com', '10.0.0.1', '0.0.0.0']) {
    assert.equal(isLoopbackHost(host), false, host);
  }
});
