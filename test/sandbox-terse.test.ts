// The sandbox's default: errors as a real Qlik tenant sends them (qlik-oauth-facts.md), and the
// SANDBOX_ERRORS=detailed switch that explains them instead.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from '../src/sandbox/index.ts';
import { assertDetailed, assertQlikError, assertTerse, authorizeUrl, exchange, get, getCode, manualClock, pkcePair, post, refresh, signIn, withSandbox } from './helpers/sandbox.ts';

describe('terse errors by default, as a real tenant', () => {
  it('answers every client-auth and grant failure at the token endpoint with 401 OAUTH-5 "Unauthorized" and a traceId', async () => {
    const clock = manualClock();
    await withSandbox({ now: clock.now }, async (sb) => {
      const failures: [string, () => Promise<Response>][] = [
        ['bad secret', async () => { const c = await getCode(sb); return exchange(sb, c.code, c.verifier, { client_secret: 'wrong' }); }],
        ['missing secret', async () => { const c = await getCode(sb); return exchange(sb, c.code, c.verifier, { client_secret: undefined }); }],
        ['unknown client', async () => { const c = await getCode(sb); return exchange(sb, c.code, c.verifier, { client_id: 'nobody' }); }],
        ['unknown code', async () => exchange(sb, 'sbx_ac_made_up', pkcePair().verifier)],
        ['redirect_uri mismatch', async () => { const c = await getCode(sb); return exchange(sb, c.code, c.verifier, { redirect_uri: 'http://localhost:3000/other' }); }],
        ['PKCE failure', async () => { const c = await getCode(sb); return exchange(sb, c.code, pkcePair().verifier); }],
        ['malformed verifier', async () => { const c = await getCode(sb); return exchange(sb, c.code, 'short'); }],
        ['reused code', async () => {
          const c = await getCode(sb);
          assert.equal((await exchange(sb, c.code, c.verifier)).status, 200);
          return exchange(sb, c.code, c.verifier);
        }],
        ['expired code', async () => { const c = await getCode(sb); clock.advance(61_000); return exchange(sb, c.code, c.verifier); }],
        ['bad refresh token', async () => refresh(sb, 'sbx_rt_made_up')],
      ];
      for (const [name, attempt] of failures) {
        const res = await attempt();
        await assert.doesNotReject(assertTerse(res, 401, 'OAUTH-5', 'Unauthorized'), name);
      }
    });
  });

  it('answers an unregistered redirect_uri or client at /oauth/authorize with 400 OAUTH-1, never a redirect', () =>
    withSandbox({}, async (sb) => {
      const badRedirect = await get(authorizeUrl(sb, pkcePair().challenge, { redirect_uri: 'https://evil.example/cb' }));
      assert.equal(badRedirect.headers.get('location'), null);
      await assertTerse(badRedirect, 400, 'OAUTH-1', 'redirect_uri is not registered');
      const badClient = await get(authorizeUrl(sb, pkcePair().challenge, { client_id: 'nobody' }));
      assert.equal(badClient.headers.get('location'), null);
      await assertQlikError(badClient, 400, 'OAUTH-1');
    }));

  it('answers a malformed token or revocation request with 400 in the same shape', () =>
    withSandbox({}, async (sb) => {
      await assertTerse(await post(`${sb.url}/oauth/token`, { client_id: SANDBOX_CLIENT_ID }), 400, 'HTTP-400', 'Bad Request');
      await assertTerse(await post(`${sb.url}/oauth/token`, '{', { 'content-type': 'application/json' }), 400, 'HTTP-400', 'Bad Request');
      await assertTerse(await post(`${sb.url}/oauth/revoke`, {}), 400, 'HTTP-400', 'Bad Request');
      await assertTerse(await post(`${sb.url}/oauth/revoke`, 'token=x', { 'content-type': 'text/plain' }), 400, 'HTTP-400', 'Bad Request');
    }));

  it('answers 403 for a disabled user or a reached token limit (fault token-forbidden)', () =>
    withSandbox({ faults: ['token-forbidden'] }, async (sb) => {
      const { code, verifier } = await getCode(sb);
      await assertTerse(await exchange(sb, code, verifier), 403, 'HTTP-403', 'Forbidden');
    }));

  it('never sends expires_in unless asked; includeExpiresIn adds it', async () => {
    await withSandbox({}, async (sb) => {
      const tokens = await signIn(sb);
      assert.equal('expires_in' in tokens, false);
      assert.ok(tokens.expires_at);
    });
    await withSandbox({ includeExpiresIn: true, accessTokenLifetimeSeconds: 90 }, async (sb) => {
      assert.equal((await signIn(sb)).expires_in, 90);
    });
  });
});

describe('errors: detailed (SANDBOX_ERRORS=detailed)', () => {
  it('explains each failure with the sandbox\'s own code and RFC 6749 §5.2 error, same status', () =>
    withSandbox({ errors: 'detailed' }, async (sb) => {
      const c = await getCode(sb);
      const body = await assertDetailed(await exchange(sb, c.code, c.verifier, { client_secret: 'wrong' }), 401, 'SANDBOX-OAUTH-22', 'invalid_client');
      assert.match(body.errors[0]!.detail!, /client_secret is not the one registered/);
      assert.doesNotMatch(JSON.stringify(body), new RegExp(SANDBOX_CLIENT_SECRET));
      const d = await getCode(sb);
      await assertDetailed(await exchange(sb, d.code, pkcePair().verifier), 401, 'SANDBOX-OAUTH-31', 'invalid_grant');
      await assertDetailed(await post(`${sb.url}/oauth/token`, { grant_type: 'password' }), 400, 'SANDBOX-OAUTH-24', 'unsupported_grant_type');
      const redirect = await get(authorizeUrl(sb, pkcePair().challenge, { redirect_uri: 'https://evil.example/cb' }));
      await assertDetailed(redirect, 400, 'SANDBOX-OAUTH-3', 'invalid_request');
    }));
});

describe('the error code list (src/sandbox/README.md)', () => {
  it('lists every code the sandbox can send, and marks ours with SANDBOX-', async () => {
    const { readFileSync } = await import('node:fs');
    const codes = await import('../src/sandbox/error-codes.ts');
    const readme = readFileSync(new URL('../src/sandbox/README.md', import.meta.url), 'utf8');
    for (const table of [codes.AUTHORIZE, codes.CONSENT, codes.TOKEN, codes.SPACES]) {
      for (const { code, title } of Object.values(table)) {
        assert.ok(code.startsWith('SANDBOX-') || code.startsWith('SPACES-SANDBOX-'), code);
        assert.ok(readme.includes(`| \`${code}\` | ${title} |`), `README lists ${code} ${title}`);
      }
    }
    // The only real OAuth codes the sandbox sends, as documented or seen: OAUTH-1 and OAUTH-5.
    const real = [...Object.values(codes.AUTHORIZE), ...Object.values(codes.TOKEN)].map((e) => e.real.code).filter((c) => c.startsWith('OAUTH-'));
    assert.deepEqual([...new Set(real)].sort(), ['OAUTH-1', 'OAUTH-5']);
  });
});
