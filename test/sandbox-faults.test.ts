// Named faults (SANDBOX_FAULT=<name>): each breaks the sandbox in one documented way, and the
// settings reader that turns SANDBOX_* variables into options.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ANOTHER_ISSUER, PLAIN_HTTP_TOKEN_ENDPOINT, SANDBOX_FAULTS, TEST_FAULTS, parseSandboxFault, sandboxOptionsFromEnv, startSandbox, type Sandbox, type SandboxFaultName } from '../src/sandbox/index.ts';
import { assertDetailed, assertQlikError, assertTerse, authorizeUrl, decide, exchange, get, getCode, me, pkcePair, refresh, signIn, startConsent, withSandbox } from './helpers/sandbox.ts';

async function metadata(sb: Sandbox): Promise<Record<string, unknown>> {
  return (await (await get(`${sb.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
}

/** One test per fault: what the sandbox does wrong, seen on the wire. */
const CHECKS: Record<SandboxFaultName, (sb: Sandbox) => Promise<void>> = {
  'discovery-http-endpoint': async (sb) => {
    const doc = await metadata(sb);
    assert.equal(doc.token_endpoint, PLAIN_HTTP_TOKEN_ENDPOINT);
    const url = new URL(PLAIN_HTTP_TOKEN_ENDPOINT);
    assert.equal(url.protocol, 'http:');
    assert.ok(!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
    assert.equal((await get(`${sb.url}/.well-known/openid-configuration`).then((r) => r.json()) as Record<string, unknown>).token_endpoint, PLAIN_HTTP_TOKEN_ENDPOINT);
  },
  'iss-mismatch': async (sb) => {
    assert.equal((await metadata(sb)).authorization_response_iss_parameter_supported, true);
    const { location } = await getCode(sb);
    assert.equal(location.searchParams.get('iss'), ANOTHER_ISSUER);
    assert.notEqual(ANOTHER_ISSUER, sb.url);
    const denied = await decide(sb, await startConsent(authorizeUrl(sb, pkcePair().challenge)), 'deny');
    assert.equal(denied.searchParams.get('iss'), ANOTHER_ISSUER);
  },
  'iss-missing': async (sb) => {
    assert.equal((await metadata(sb)).authorization_response_iss_parameter_supported, true);
    const { location } = await getCode(sb);
    assert.equal(location.searchParams.has('iss'), false);
    assert.ok(location.searchParams.get('code'));
  },
  'state-tampered': async (sb) => {
    const { location } = await getCode(sb, { state: 'the-state-we-sent' });
    const state = location.searchParams.get('state');
    assert.ok(state);
    assert.notEqual(state, 'the-state-we-sent');
  },
  'code-reused': async (sb) => {
    const first = await getCode(sb);
    await assertTerse(await exchange(sb, first.code, first.verifier), 401, 'OAUTH-5', 'Unauthorized');
  },
  'token-error': async (sb) => {
    const { code, verifier } = await getCode(sb);
    await assertTerse(await exchange(sb, code, verifier), 401, 'OAUTH-5', 'Unauthorized');
    await assertTerse(await refresh(sb, 'sbx_rt_x'), 401, 'OAUTH-5', 'Unauthorized');
  },
  'token-forbidden': async (sb) => {
    const { code, verifier } = await getCode(sb);
    await assertTerse(await exchange(sb, code, verifier), 403, 'HTTP-403', 'Forbidden');
  },
  'token-429': async (sb) => {
    const { code, verifier } = await getCode(sb);
    const res = await exchange(sb, code, verifier);
    assert.equal(res.headers.get('retry-after'), '30');
    const body = await assertQlikError(res, 429, 'HTTP-429');
    assert.equal(body.errors[0]!.title, 'API rate limit reached.');
  },
  'token-500': async (sb) => {
    const { code, verifier } = await getCode(sb);
    await assertTerse(await exchange(sb, code, verifier), 500, 'HTTP-500', 'Internal Server Error');
  },
  'token-502': async (sb) => {
    const { code, verifier } = await getCode(sb);
    const res = await exchange(sb, code, verifier);
    assert.equal(res.status, 502);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    assert.match(await res.text(), /<h1>502 Bad Gateway<\/h1>/);
  },
  'token-slow': async (sb) => {
    // slowTokenMs is 400 here: a client that waits 100 ms gives up; one that waits longer gets tokens.
    const { code, verifier } = await getCode(sb);
    const body = new URLSearchParams({ grant_type: 'authorization_code' });
    await assert.rejects(fetch(`${sb.url}/oauth/token`, { method: 'POST', body, signal: AbortSignal.timeout(100) }), { name: 'TimeoutError' });
    assert.equal((await exchange(sb, code, verifier)).status, 200);
  },
  'token-not-json': async (sb) => {
    const { code, verifier } = await getCode(sb);
    const res = await exchange(sb, code, verifier);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    assert.match(await res.text(), /<h1>Sign in to continue<\/h1>/);
  },
  'api-401': async (sb) => {
    const res = await me(sb, (await signIn(sb)).access_token);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="qlik", error="invalid_token"');
    await assertQlikError(res, 401, 'HTTP-401');
  },
  'api-429': async (sb) => {
    const { access_token } = await signIn(sb);
    for (let i = 0; i < 3; i += 1) {
      const res = await me(sb, access_token);
      assert.equal(res.headers.get('retry-after'), '13');
      const body = await assertQlikError(res, 429, 'HTTP-429');
      // Qlik's documented title, and the wait in the detail.
      assert.equal(body.errors[0]!.title, 'API rate limit reached.');
      assert.match(body.errors[0]!.detail!, /Wait 13 s/);
    }
  },
  'api-429-once': async (sb) => {
    const { access_token } = await signIn(sb);
    const res = await me(sb, access_token);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.match((await assertQlikError(res, 429, 'HTTP-429')).errors[0]!.detail!, /Wait 1 s/);
    assert.deepEqual(sb.faults.named, [], 'it switched itself off');
    assert.equal((await me(sb, access_token)).status, 200);
  },
};

describe('named faults', () => {
  it('the list: unique names, a description and the client check each should trigger', () => {
    const names = [...SANDBOX_FAULTS, ...TEST_FAULTS].map((fault) => fault.name);
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual([...names].sort(), Object.keys(CHECKS).sort());
    for (const fault of SANDBOX_FAULTS) {
      assert.match(fault.description, /^[A-Z].{20,}\.$/, fault.name);
      assert.match(fault.expectedCheck, /^[A-Z][A-Z_]+$/, fault.name);
      assert.ok(['3.1', '3.3', '3.4'].includes(fault.step), fault.name);
    }
  });

  for (const fault of [...SANDBOX_FAULTS, ...TEST_FAULTS]) {
    it(`${fault.name}: ${fault.description}`, () =>
      withSandbox({ faults: [fault.name], slowTokenMs: 400 }, (sb) => CHECKS[fault.name](sb)));
  }

  it('faults switch on and off while the sandbox runs (sandbox.faults.named)', () =>
    withSandbox({}, async (sb) => {
      const { access_token } = await signIn(sb);
      sb.faults.named = ['api-429'];
      assert.equal((await me(sb, access_token)).status, 429);
      sb.faults.named = [];
      assert.equal((await me(sb, access_token)).status, 200);
    }));

  it('code-reused in detailed style names the reason', () =>
    withSandbox({ faults: ['code-reused'], errors: 'detailed' }, async (sb) => {
      const { code, verifier } = await getCode(sb);
      await assertDetailed(await exchange(sb, code, verifier), 401, 'SANDBOX-OAUTH-27', 'invalid_grant');
    }));

  it('token-slow: close() does not wait for the slow answer', async () => {
    const sb = await startSandbox({ faults: ['token-slow'] }); // the real 15 s
    const pending = fetch(`${sb.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token' }) }).then(
      (res) => `answered ${res.status}`,
      () => 'failed',
    );
    while (sb.stats().tokenRequests === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const raced = await Promise.race([pending, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 100))]);
    assert.equal(raced, 'still waiting');
    const started = Date.now();
    await sb.close();
    assert.ok(Date.now() - started < 500, 'close() was prompt');
    assert.equal(await pending, 'failed');
    assert.equal(sb.stats().refreshRequests, 1);
  });
});

describe('settings from the environment', () => {
  it('reads SANDBOX_FAULT (comma-separated), SANDBOX_TOKEN_SECONDS and SANDBOX_ERRORS', () => {
    assert.deepEqual(sandboxOptionsFromEnv({}), {});
    assert.deepEqual(sandboxOptionsFromEnv({ SANDBOX_FAULT: '', SANDBOX_TOKEN_SECONDS: ' ', SANDBOX_ERRORS: '' }), {});
    assert.deepEqual(sandboxOptionsFromEnv({ SANDBOX_FAULT: ' iss-missing, api-429 ,iss-missing', SANDBOX_TOKEN_SECONDS: '30', SANDBOX_ERRORS: 'detailed' }), {
      faults: ['iss-missing', 'api-429'],
      accessTokenLifetimeSeconds: 30,
      errors: 'detailed',
    });
    assert.deepEqual(sandboxOptionsFromEnv({ SANDBOX_ERRORS: 'terse' }), { errors: 'terse' });
  });

  it('refuses unknown or malformed values with a message listing what is valid', () => {
    assert.throws(() => sandboxOptionsFromEnv({ SANDBOX_FAULT: 'iss-missing,nope' }), (error: Error) =>
      /SANDBOX_FAULT: unknown fault "nope"/.test(error.message) && SANDBOX_FAULTS.every((fault) => error.message.includes(fault.name)));
    assert.throws(() => parseSandboxFault('constructor'), /unknown fault "constructor"/);
    for (const seconds of ['0', '-5', '1.5', 'soon', '99999999999']) {
      assert.throws(() => sandboxOptionsFromEnv({ SANDBOX_TOKEN_SECONDS: seconds }), /SANDBOX_TOKEN_SECONDS: .* is not a whole number of seconds from 1 to 2592000/, seconds);
    }
    assert.throws(() => sandboxOptionsFromEnv({ SANDBOX_ERRORS: 'verbose' }), /SANDBOX_ERRORS: "verbose" is not valid\. Valid values: terse .* or detailed/);
    assert.throws(() => sandboxOptionsFromEnv({ SANDBOX_FAULTS: 'iss-missing' }), /SANDBOX_FAULTS is not a sandbox setting \(did you mean SANDBOX_FAULT\?\)/);
    assert.throws(() => sandboxOptionsFromEnv({ SANDBOX_ERROR: 'detailed' }), /did you mean SANDBOX_ERRORS\?/);
    assert.deepEqual(sandboxOptionsFromEnv({ SANDBOX_PORT: '3001', PATH: '/bin' }), {});
  });

  it('SANDBOX_TOKEN_SECONDS sets the access token lifetime', () =>
    withSandbox(sandboxOptionsFromEnv({ SANDBOX_TOKEN_SECONDS: '45' }), async (sb) => {
      const before = Date.now();
      const tokens = await signIn(sb);
      assert.ok(Math.abs(Date.parse(tokens.expires_at) - (before + 45_000)) < 5_000, tokens.expires_at);
    }));
});
