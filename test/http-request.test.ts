// Where every request of a step leaves (src/http.ts httpRequest): the one secure-URL rule, an
// injected fetch that carries every request, and a caller's signal that stops one early.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { httpRequest, insecureUrlReason } from '../src/http.ts';
import { exchangeCode } from '../src/3.3-token.ts';
import { QlikOAuthError } from '../src/errors.ts';
import { CLIENT, METADATA, TENANT, mockTenant } from './helpers/tenant.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

test('INSECURE_URL: the one rule — https anywhere, http only to loopback and only for a loopback http tenant', () => {
  assert.equal(insecureUrlReason(new URL('https://acme.eu.qlikcloud.com/oauth/token'), 'https://acme.eu.qlikcloud.com'), undefined);
  assert.equal(insecureUrlReason(new URL('http://127.0.0.1:8080/oauth/token'), 'http://127.0.0.1:8080'), undefined);
  assert.equal(insecureUrlReason(new URL('http://localhost:8080/x')), undefined, 'no issuer known yet: a local tenant');
  assert.match(insecureUrlReason(new URL('http://127.0.0.1:8080/token'), 'https://acme.eu.qlikcloud.com')!, /not a local http one/);
  assert.match(insecureUrlReason(new URL('http://acme.eu.qlikcloud.com/token'))!, /plain http/);
  assert.match(insecureUrlReason(new URL('ftp://127.0.0.1/token'))!, /ftp/);
});

test('INSECURE_URL: httpRequest refuses an http token endpoint for an https tenant, and sends nothing', async () => {
  let sent = false;
  const fetchSpy = (async () => {
    sent = true;
    return new Response('{}');
  }) as typeof fetch;
  const https = { ...METADATA, issuer: 'https://acme.eu.qlikcloud.com', tokenEndpoint: 'http://127.0.0.1:8080/oauth/token' };
  await assert.rejects(exchangeCode(https, CLIENT, { code: 'c', codeVerifier: 'v'.repeat(43) }, { fetch: fetchSpy }), (e: unknown) => {
    assert.ok(e instanceof QlikOAuthError);
    assert.equal(e.code, 'INSECURE_URL');
    assert.doesNotMatch(e.message, new RegExp(CLIENT.clientSecret));
    return true;
  });
  assert.equal(sent, false);
});

test('fetch can be injected: every request of a step goes through it, the global fetch is not used', async () => {
  const seen: string[] = [];
  const canned = (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push(`${init?.method} ${String(input)}`);
    return Response.json(
      { access_token: 'at-canned-123', token_type: 'bearer', expires_in: 3600 },
      { headers: { 'content-type': 'application/json' } },
    );
  }) as typeof fetch;
  // msw fails any request it does not handle: a request through the global fetch would reject.
  const tokens = await exchangeCode(METADATA, CLIENT, { code: 'c', codeVerifier: 'v'.repeat(43) }, { fetch: canned });
  assert.equal(tokens.accessToken, 'at-canned-123');
  assert.deepEqual(seen, [`POST ${TENANT}/oauth/token`]);
});

test('a caller signal stops a request early, as TIMEOUT with its own message', async () => {
  const hanging = ((_input: unknown, init?: RequestInit) =>
    new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)))) as typeof fetch;
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(httpRequest({ method: 'GET', url: `${TENANT}/x` }, { fetch: hanging, signal: controller.signal }), (e: QlikOAuthError) => {
    assert.equal(e.code, 'TIMEOUT');
    assert.match(e.message, /ran out of time/);
    return true;
  });
});
