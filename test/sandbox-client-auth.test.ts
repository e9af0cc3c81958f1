// Client authentication (RFC 6749 §2.3): Basic or the body, never both; public clients with client_id
// alone; revocation (RFC 7009) with or without credentials.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_NATIVE_CLIENT_ID, SANDBOX_SPA_CLIENT_ID, SANDBOX_SPA_REDIRECT_URIS } from '../src/sandbox/index.ts';
import { FORM, REDIRECT_URI, assertDetailed, assertTerse, basic, exchange, get, getCode, me, post, postJson, refresh, signIn, withSandbox } from './helpers/sandbox.ts';

const DETAILED = { errors: 'detailed' } as const;

describe('HTTP Basic client authentication (RFC 6749 §2.3.1)', () => {
  it('accepts client_id:secret in an Authorization header, for the code and refresh grants', () =>
    withSandbox({}, async (sb) => {
      const header = { ...FORM, authorization: basic(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET) };
      const { code, verifier } = await getCode(sb);
      const res = await exchange(sb, code, verifier, { client_id: undefined, client_secret: undefined }, header);
      assert.equal(res.status, 200, await res.clone().text());
      const tokens = (await res.json()) as { refresh_token: string; access_token: string };
      assert.equal((await me(sb, tokens.access_token)).status, 200);
      const refreshed = await post(`${sb.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, header);
      assert.equal(refreshed.status, 200);
    }));

  it('form-decodes both halves before comparing (special characters in id and secret)', () => {
    const clientId = 'odd client:1';
    const secret = 'p@ss:wörd+% /';
    return withSandbox({ clients: [{ clientId, clientSecret: secret, redirectUris: [REDIRECT_URI] }] }, async (sb) => {
      const { code, verifier } = await getCode(sb, { client_id: clientId });
      const res = await exchange(sb, code, verifier, { client_id: undefined, client_secret: undefined }, { ...FORM, authorization: basic(clientId, secret) });
      assert.equal(res.status, 200, await res.text());
    });
  });

  it('refuses a wrong secret or a malformed header with 401 and a Basic challenge', () =>
    withSandbox(DETAILED, async (sb) => {
      const send = (authorization: string) => post(`${sb.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: 'x' }, { ...FORM, authorization });
      const wrong = await send(basic(SANDBOX_CLIENT_ID, 'wrong'));
      assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="qlik"');
      await assertDetailed(wrong, 401, 'SANDBOX-OAUTH-22', 'invalid_client');
      for (const header of ['Basic !!!', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Bearer abc', 'Basic ' + Buffer.from('%zz:x').toString('base64')]) {
        await assertDetailed(await send(header), 401, 'SANDBOX-OAUTH-37', 'invalid_client');
      }
    }));

  it('refuses two methods in one request with 400 (RFC 6749 §2.3)', () =>
    withSandbox(DETAILED, async (sb) => {
      const { code, verifier } = await getCode(sb);
      const header = { ...FORM, authorization: basic(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET) };
      await assertDetailed(await exchange(sb, code, verifier, {}, header), 400, 'SANDBOX-OAUTH-23', 'invalid_request');
      await assertDetailed(await exchange(sb, code, verifier, { client_secret: undefined, client_id: 'other' }, header), 400, 'SANDBOX-OAUTH-23', 'invalid_request');
      const both = await exchange(sb, code, verifier, { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'x.y.z' });
      await assertDetailed(both, 400, 'SANDBOX-OAUTH-23', 'invalid_request');
    }));

  it('still accepts client_secret_post, and client_id in the body next to a matching Basic header', () =>
    withSandbox({}, async (sb) => {
      const a = await getCode(sb);
      assert.equal((await exchange(sb, a.code, a.verifier)).status, 200);
      const b = await getCode(sb);
      const header = { ...FORM, authorization: basic(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET) };
      assert.equal((await exchange(sb, b.code, b.verifier, { client_secret: undefined }, header)).status, 200);
    }));
});

describe('public clients (native, single-page app): client_id and PKCE, no secret', () => {
  for (const [clientId, redirectUri] of [[SANDBOX_NATIVE_CLIENT_ID, 'http://127.0.0.1:49152/callback'], [SANDBOX_SPA_CLIENT_ID, SANDBOX_SPA_REDIRECT_URIS[0]!]] as const) {
    it(`${clientId}: signs in and refreshes without a secret; a secret is refused`, () =>
      withSandbox(DETAILED, async (sb) => {
        const overrides = { client_id: clientId, redirect_uri: redirectUri };
        const { code, verifier } = await getCode(sb, overrides);
        const withSecret = await exchange(sb, code, verifier, { ...overrides, client_secret: 'anything' });
        await assertDetailed(withSecret, 401, 'SANDBOX-OAUTH-38', 'invalid_client');
        const again = await getCode(sb, overrides);
        const res = await exchange(sb, again.code, again.verifier, { ...overrides, client_secret: undefined });
        assert.equal(res.status, 200, await res.clone().text());
        const tokens = (await res.json()) as { refresh_token: string; access_token: string };
        assert.equal((await me(sb, tokens.access_token)).status, 200);
        // The refresh names the client (or not: Qlik's schema has no client_id) and sends no secret.
        const refreshed = await post(`${sb.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
        assert.equal(refreshed.status, 200, await refreshed.clone().text());
        // Someone else's code: PKCE still decides.
        const stolen = await getCode(sb, overrides);
        await assertDetailed(await exchange(sb, stolen.code, again.verifier, { ...overrides, client_secret: undefined }), 401, 'SANDBOX-OAUTH-31', 'invalid_grant');
      }));
  }
});

describe('revocation (RFC 7009)', () => {
  it('works without client credentials, as Qlik documents; an unknown token still gets 200', () =>
    withSandbox({}, async (sb) => {
      const tokens = await signIn(sb);
      assert.equal((await post(`${sb.url}/oauth/revoke`, { token: tokens.access_token })).status, 200);
      assert.equal((await me(sb, tokens.access_token)).status, 401);
      assert.equal((await post(`${sb.url}/oauth/revoke`, { token: 'no-such-token' })).status, 200);
      assert.equal((await post(`${sb.url}/oauth/revoke`, JSON.stringify({ token: tokens.refresh_token }), { 'content-type': 'application/json' })).status, 200);
      await assertTerse(await refresh(sb, tokens.refresh_token!), 401, 'OAUTH-5', 'Unauthorized');
    }));

  it('never answers 401 for credentials it was not asked to check: a wrong secret, Basic or Bearer header, form or JSON', () =>
    withSandbox(DETAILED, async (sb) => {
      const tries: [Record<string, string>, Record<string, string>][] = [
        [{ client_id: SANDBOX_CLIENT_ID, client_secret: 'bad' }, FORM],
        [{}, { ...FORM, authorization: basic(SANDBOX_CLIENT_ID, 'bad') }],
        [{}, { ...FORM, authorization: 'Basic !!!' }],
        [{ client_id: SANDBOX_NATIVE_CLIENT_ID }, FORM],
      ];
      for (const [extra, headers] of tries) {
        const tokens = await signIn(sb);
        const res = await post(`${sb.url}/oauth/revoke`, { token: tokens.access_token, token_type_hint: 'access_token', ...extra }, headers);
        assert.equal(res.status, 200, JSON.stringify(extra));
        assert.equal((await me(sb, tokens.access_token)).status, 401, 'revoked');
      }
      // @qlik/sdk's way: JSON, and the access token as a Bearer header.
      const tokens = await signIn(sb);
      const sdk = await postJson(`${sb.url}/oauth/revoke`, { token: tokens.refresh_token, token_type_hint: 'refresh_token' }, { authorization: `Bearer ${tokens.access_token}` });
      assert.equal(sdk.status, 200);
      assert.equal((await me(sb, tokens.access_token)).status, 401, 'the refresh token\'s grant is revoked');
      await assertDetailed(await postJson(`${sb.url}/oauth/revoke`, { token: 7 }), 400, 'HTTP-400', 'invalid_request');
      assert.equal((await get(`${sb.url}/oauth/revoke`)).status, 405);
    }));
});
