import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from '../src/3.2-authorize.ts';
import { CLIENT, METADATA } from './helpers/tenant.ts';

test('RFC 7636 Appendix B: the S256 challenge of the example verifier', () => {
  // The 32 octets of the appendix, base64url-encoded, are the verifier …
  const octets = [116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121];
  const verifier = Buffer.from(octets).toString('base64url');
  assert.equal(verifier, 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
  // … and its S256 challenge is the appendix's.
  assert.equal(codeChallengeS256(verifier), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
});

test('createCodeVerifier: 43 base64url characters from 32 random bytes, different every time', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const verifier = createCodeVerifier();
    assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(verifier, 'base64url').length, 32);
    seen.add(verifier);
  }
  assert.equal(seen.size, 50);
});

test('VERIFIER_INVALID: a verifier passed in must be 43–128 unreserved characters', () => {
  const ok43 = 'a'.repeat(43);
  const ok128 = 'A1-._~'.repeat(21) + 'ab';
  assert.equal(createCodeVerifier(ok43), ok43);
  assert.equal(createCodeVerifier(ok128), ok128);
  for (const bad of ['a'.repeat(42), 'a'.repeat(129), 'a'.repeat(42) + '+', 'a'.repeat(42) + '/', 'a'.repeat(42) + '=', 'ä'.repeat(43), '']) {
    assert.throws(() => createCodeVerifier(bad), { code: 'VERIFIER_INVALID' }, JSON.stringify(bad));
  }
});

test('codeChallengeS256 is BASE64URL(SHA256(verifier)) without padding', () => {
  const verifier = createCodeVerifier();
  const expected = createHash('sha256').update(verifier).digest('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  assert.equal(codeChallengeS256(verifier), expected);
  assert.match(codeChallengeS256(verifier), /^[A-Za-z0-9_-]{43}$/);
});

test('createState and createCodeVerifier never repeat a value, across many refills of the random pool', () => {
  // 4 KiB of pool is 128 values: 1,000 draws cross seven refills. A pool handed out twice, or used
  // before it was filled (all zeros: "AAAA…"), shows up as a repeat.
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) seen.add(createState()).add(createCodeVerifier());
  assert.equal(seen.size, 1000);
  assert.ok(![...seen].some((value) => /^A+$/.test(value)));
});

test('createState and createCodeVerifier never share a byte of the pool: a public state says nothing of the next verifier', () => {
  // Overlapping slices would still be distinct strings; 8-byte runs catch them. 64 random bits
  // repeat by chance about once in 10^16 runs of this test.
  const runs = new Set<string>();
  for (let i = 0; i < 500; i++) {
    for (const value of [createState(), createCodeVerifier()]) {
      const bytes = Buffer.from(value, 'base64url');
      assert.equal(bytes.length, 32);
      for (let at = 0; at + 8 <= 32; at++) {
        const run = bytes.toString('hex', at, at + 8);
        assert.ok(!runs.has(run), 'a run of 8 bytes came out twice');
        runs.add(run);
      }
    }
  }
});

test('createState: at least 128 bits, base64url, different every time', () => {
  const states = new Set(Array.from({ length: 50 }, () => createState()));
  assert.equal(states.size, 50);
  for (const state of states) {
    assert.match(state, /^[A-Za-z0-9_-]+$/);
    assert.ok(Buffer.from(state, 'base64url').length >= 16);
  }
});

const params = () => ({ scope: 'user_default offline_access', state: createState(), codeChallenge: codeChallengeS256(createCodeVerifier()) });

test('buildAuthorizationUrl: every parameter Qlik requires, once, and nothing secret', () => {
  const p = params();
  const url = buildAuthorizationUrl(METADATA, CLIENT, p);
  assert.equal(url.origin + url.pathname, METADATA.authorizationEndpoint);
  const q = url.searchParams;
  assert.deepEqual([...new Set(q.keys())].sort(), ['client_id', 'code_challenge', 'code_challenge_method', 'redirect_uri', 'response_type', 'scope', 'state']);
  for (const key of q.keys()) assert.equal(q.getAll(key).length, 1, key);
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('client_id'), CLIENT.clientId);
  assert.equal(q.get('redirect_uri'), CLIENT.redirectUri);
  assert.equal(q.get('scope'), 'user_default offline_access');
  assert.equal(q.get('state'), p.state);
  assert.equal(q.get('code_challenge'), p.codeChallenge);
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.ok(!url.href.includes(CLIENT.clientSecret), 'the client secret never goes in a URL');
});

test('buildAuthorizationUrl keeps a query already on the authorization endpoint (RFC 6749 §3.1)', () => {
  const url = buildAuthorizationUrl({ ...METADATA, authorizationEndpoint: `${METADATA.authorizationEndpoint}?tenant_hint=acme` }, CLIENT, params());
  assert.equal(url.searchParams.get('tenant_hint'), 'acme');
  assert.equal(url.searchParams.get('response_type'), 'code');
});

test('STATE_TOO_SHORT: a state under 128 bits is refused', () => {
  assert.throws(() => buildAuthorizationUrl(METADATA, CLIENT, { ...params(), state: 'abc' }), { code: 'STATE_TOO_SHORT' });
  assert.throws(() => buildAuthorizationUrl(METADATA, CLIENT, { ...params(), state: 'a'.repeat(21) }), { code: 'STATE_TOO_SHORT' });
  assert.ok(buildAuthorizationUrl(METADATA, CLIENT, { ...params(), state: 'a'.repeat(22) }));
});

test('SCOPE_INVALID: an empty scope is refused, since Qlik requires scope at /oauth/authorize; the request always carries one', () => {
  assert.throws(() => buildAuthorizationUrl(METADATA, CLIENT, { ...params(), scope: '' }), { code: 'SCOPE_INVALID', message: /Qlik requires a scope/ });
  assert.equal(buildAuthorizationUrl(METADATA, CLIENT, params()).searchParams.get('scope'), params().scope);
});

test('SCOPE_INVALID: doubled spaces, a quote or a backslash', () => {
  for (const scope of ['user_default  offline_access', ' user_default', 'user_default\n', 'a"b', 'user_default a\\b']) {
    assert.throws(() => buildAuthorizationUrl(METADATA, CLIENT, { ...params(), scope }), { code: 'SCOPE_INVALID' }, JSON.stringify(scope));
  }
});
