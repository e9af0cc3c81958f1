// Discovery: Qlik documents /.well-known/oauth-authorization-server; what the tutorial's
// /.well-known/openid-configuration answers is configurable, as no source settles it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OpenIdConfigurationMode } from '../src/sandbox/index.ts';
import { assertQlikError, get, getCode, signIn, withSandbox } from './helpers/sandbox.ts';

describe('discovery', () => {
  it('serves the documented metadata at /.well-known/oauth-authorization-server, no-store', () =>
    withSandbox({}, async (sb) => {
      const res = await get(`${sb.url}/.well-known/oauth-authorization-server`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const doc = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(doc.grant_types_supported, []);
      assert.deepEqual(doc.response_types_supported, []);
      assert.equal('code_challenge_methods_supported' in doc, false);
      assert.equal('authorization_response_iss_parameter_supported' in doc, false);
      assert.equal(doc.revocation_endpoint, `${sb.url}/oauth/revoke`);
      assert.equal(doc.jwks_uri, `${sb.url}/.well-known/jwks.json`);
    }));

  it("openidConfiguration 'metadata' (default): the same document at the tutorial's path", () =>
    withSandbox({}, async (sb) => {
      const a = await (await get(`${sb.url}/.well-known/openid-configuration`)).json();
      const b = await (await get(`${sb.url}/.well-known/oauth-authorization-server`)).json();
      assert.deepEqual(a, b);
    }));

  const modes: [OpenIdConfigurationMode, (res: Response, url: string) => Promise<void>][] = [
    ['notFound', async (res) => { await assertQlikError(res, 404, 'HTTP-404'); }],
    ['redirect', async (res, url) => {
      assert.equal(res.status, 302);
      const location = res.headers.get('location')!;
      assert.ok(location.startsWith(`${url}/login?`), location);
      const page = await get(location);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type')!, /^text\/html/);
    }],
    ['html', async (res) => {
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      assert.match(await res.text(), /<h1>Sign in<\/h1>/);
    }],
  ];
  for (const [mode, check] of modes) {
    it(`openidConfiguration '${mode}': the tutorial's path answers no metadata; the documented one still does`, () =>
      withSandbox({ openidConfiguration: mode }, async (sb) => {
        await check(await get(`${sb.url}/.well-known/openid-configuration`), sb.url);
        const doc = (await (await get(`${sb.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
        assert.equal(doc.issuer, sb.url);
      }));
  }
});

describe('the tenant\'s clock and iss', () => {
  it('sends its own clock in the Date header, consistent with expires_at, even when that clock is off', async () => {
    const skew = 10 * 60_000;
    await withSandbox({ now: () => Date.now() + skew }, async (sb) => {
      const res = await get(`${sb.url}/.well-known/oauth-authorization-server`);
      const tenantClock = Date.parse(res.headers.get('date')!);
      assert.ok(Math.abs(tenantClock - (Date.now() + skew)) < 5_000, res.headers.get('date')!);
      const tokens = await signIn(sb);
      assert.ok(Math.abs(Date.parse(tokens.expires_at) - (Date.now() + skew + 21_600_000)) < 5_000, tokens.expires_at);
    });
  });

  it('issInCallback: false gives callbacks without iss (Qlik documents none)', async () => {
    await withSandbox({ issInCallback: false }, async (sb) => {
      const { location } = await getCode(sb);
      assert.equal(location.searchParams.has('iss'), false);
    });
    await withSandbox({}, async (sb) => {
      assert.equal((await getCode(sb)).location.searchParams.get('iss'), sb.url);
    });
  });
});
