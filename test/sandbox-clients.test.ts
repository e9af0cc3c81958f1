// Every Qlik client type on the sandbox: web (confidential), native (public, any loopback port),
// single-page app (public), and machine-to-machine (client_credentials and impersonation).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMPERSONATION_GRANT, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_JWT_CLIENT_ID, SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET, SANDBOX_NATIVE_CLIENT_ID, SANDBOX_NATIVE_REDIRECT_URIS, SANDBOX_SPA_CLIENT_ID } from '../src/sandbox/index.ts';
import { assertDetailed, assertTerse, authorizeUrl, basic, FORM, get, getCode, me, pkcePair, post, postJson, signIn, withSandbox, type Tokens } from './helpers/sandbox.ts';

const DETAILED = { errors: 'detailed' } as const;
const M2M = { client_id: SANDBOX_M2M_CLIENT_ID, client_secret: SANDBOX_M2M_CLIENT_SECRET };

describe('the default clients', () => {
  it('one per client type, each with its own id', () =>
    withSandbox({}, async (sb) => {
      const clients = sb.clients();
      assert.deepEqual(clients.map((c) => [c.clientId, c.type, c.clientSecret !== undefined]), [
        [SANDBOX_CLIENT_ID, 'web', true],
        ['sandbox-native-client', 'native', false],
        [SANDBOX_M2M_CLIENT_ID, 'web', true],
        [SANDBOX_SPA_CLIENT_ID, 'spa', false],
        [SANDBOX_JWT_CLIENT_ID, 'web', false],
      ]);
      assert.match(clients[4]!.publicKey!, /^-----BEGIN PUBLIC KEY-----/);
      assert.equal(clients[0]!.clientSecret, SANDBOX_CLIENT_SECRET);
      assert.deepEqual(clients[1]!.redirectUris, SANDBOX_NATIVE_REDIRECT_URIS);
      assert.deepEqual(clients[2]!.grantTypes, ['client_credentials', IMPERSONATION_GRANT]);
    }));
});

describe('native client: any loopback port (RFC 8252 §7.3)', () => {
  it('accepts http://127.0.0.1:<any>/callback and http://localhost:<any>/callback; the code goes to that exact URI', () =>
    withSandbox({}, async (sb) => {
      for (const redirectUri of ['http://127.0.0.1:49152/callback', 'http://127.0.0.1:8080/callback', 'http://localhost:3999/callback', 'http://127.0.0.1/callback']) {
        const { location } = await getCode(sb, { client_id: SANDBOX_NATIVE_CLIENT_ID, redirect_uri: redirectUri });
        assert.ok(location.href.startsWith(`${redirectUri}?code=`), location.href);
      }
    }));

  it('refuses another path, host, scheme or a port on a web client', () =>
    withSandbox({}, async (sb) => {
      const refused = [
        [SANDBOX_NATIVE_CLIENT_ID, 'http://127.0.0.1:8080/other'],
        [SANDBOX_NATIVE_CLIENT_ID, 'http://127.0.0.1:8080/callback/'],
        [SANDBOX_NATIVE_CLIENT_ID, 'http://127.0.0.2:8080/callback'],
        [SANDBOX_NATIVE_CLIENT_ID, 'https://127.0.0.1:8080/callback'],
        [SANDBOX_NATIVE_CLIENT_ID, 'http://127.0.0.1:0/callback'],
        [SANDBOX_NATIVE_CLIENT_ID, 'http://127.0.0.1:99999/callback'],
        [SANDBOX_NATIVE_CLIENT_ID, 'http://evil.example:8080/callback'],
        [SANDBOX_CLIENT_ID, 'http://localhost:3001/login/callback'],
      ];
      for (const [clientId, redirectUri] of refused) {
        const res = await get(authorizeUrl(sb, pkcePair().challenge, { client_id: clientId, redirect_uri: redirectUri }));
        assert.equal(res.headers.get('location'), null, redirectUri);
        await assertTerse(res, 400, 'OAUTH-1', 'redirect_uri is not registered');
      }
    }));
});

describe('machine-to-machine client', () => {
  it('client_credentials (form or JSON): a token with the allow-list, no refresh token; users/me is the bot user', () =>
    withSandbox({}, async (sb) => {
      const form = await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', ...M2M });
      assert.equal(form.status, 200);
      const tokens = (await form.json()) as Tokens;
      assert.deepEqual(Object.keys(tokens).sort(), ['access_token', 'expires_at', 'scope', 'token_type']);
      assert.equal(tokens.scope, 'user_default admin_classic admin.apps admin.spaces');
      const user = (await (await me(sb, tokens.access_token)).json()) as { name: string; subject: string };
      assert.equal(user.name, `${SANDBOX_M2M_CLIENT_ID} (bot)`);
      assert.equal(user.subject, `sandbox-bot|${SANDBOX_M2M_CLIENT_ID}`);

      const json = await postJson(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', ...M2M, scope: 'user_default' });
      assert.equal(((await json.json()) as Tokens).scope, 'user_default');
      const viaBasic = await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials' }, { ...FORM, authorization: basic(SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET) });
      assert.equal(viaBasic.status, 200);
    }));

  it('client_credentials: wrong secret is OAUTH-5; a scope beyond the allow-list (offline_access) is refused', () =>
    withSandbox({}, async (sb) => {
      await assertTerse(await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', ...M2M, client_secret: 'x' }), 401, 'OAUTH-5', 'Unauthorized');
      await assertTerse(await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', ...M2M, scope: 'offline_access' }), 400, 'HTTP-400', 'Bad Request');
    }));

  it('impersonation with user_lookup (JSON, nested; or form): answers as that user, by subject or userId', () =>
    withSandbox({}, async (sb) => {
      const ada = await postJson(`${sb.url}/oauth/token`, {
        grant_type: IMPERSONATION_GRANT, ...M2M, scope: 'user_default', user_lookup: { field: 'subject', value: 'sandbox|ada' },
      });
      assert.equal(ada.status, 200, await ada.clone().text());
      const tokens = (await ada.json()) as Tokens;
      assert.equal('refresh_token' in tokens, false);
      assert.equal(tokens.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
      const user = (await (await me(sb, tokens.access_token)).json()) as { id: string; name: string };
      assert.equal(user.name, 'Ada');

      const byId = await post(`${sb.url}/oauth/token`, {
        grant_type: IMPERSONATION_GRANT, ...M2M, 'user_lookup[field]': 'userId', 'user_lookup[value]': user.id,
      });
      assert.equal(byId.status, 200);
      assert.equal(((await (await me(sb, ((await byId.json()) as Tokens).access_token)).json()) as { id: string }).id, user.id);
    }));

  it('impersonation finds users who signed in; an unknown user or a bad lookup is a clear error', () =>
    withSandbox(DETAILED, async (sb) => {
      const lookup = (user_lookup: unknown) => postJson(`${sb.url}/oauth/token`, { grant_type: IMPERSONATION_GRANT, ...M2M, user_lookup });
      const unknown = await assertDetailed(await lookup({ field: 'subject', value: 'sandbox|margaret' }), 401, 'SANDBOX-OAUTH-40', 'invalid_grant');
      assert.match(unknown.errors[0]!.detail!, /No user with subject "sandbox\|margaret"/);
      await signIn(sb, {}, 'margaret');
      assert.equal((await lookup({ field: 'subject', value: 'sandbox|margaret' })).status, 200);
      await assertDetailed(await lookup({ field: 'email', value: 'x' }), 400, 'SANDBOX-OAUTH-21', 'invalid_request');
      await assertDetailed(await postJson(`${sb.url}/oauth/token`, { grant_type: IMPERSONATION_GRANT, ...M2M }), 400, 'SANDBOX-OAUTH-21', 'invalid_request');
      await assertDetailed(await lookup({ field: 'subject', value: 7 }), 400, 'HTTP-400', 'invalid_request');
    }));
});

describe('grant types per client type', () => {
  it('a web client without M2M, or a public client, may not use client_credentials or impersonation', () =>
    withSandbox(DETAILED, async (sb) => {
      const web = await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', client_id: SANDBOX_CLIENT_ID, client_secret: SANDBOX_CLIENT_SECRET });
      const body = await assertDetailed(web, 400, 'SANDBOX-OAUTH-39', 'unauthorized_client');
      assert.match(body.errors[0]!.detail!, /Allow machine-to-machine/);
      const native = await post(`${sb.url}/oauth/token`, { grant_type: IMPERSONATION_GRANT, client_id: SANDBOX_NATIVE_CLIENT_ID });
      await assertDetailed(native, 400, 'SANDBOX-OAUTH-39', 'unauthorized_client');
    }));

  it('terse: the same refusal is a real tenant\'s 401 OAUTH-5', () =>
    withSandbox({}, async (sb) => {
      const web = await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', client_id: SANDBOX_CLIENT_ID, client_secret: SANDBOX_CLIENT_SECRET });
      await assertTerse(web, 401, 'OAUTH-5', 'Unauthorized');
    }));

  it('an M2M-only client may not start a user sign-in (unauthorized_client on the redirect)', () =>
    withSandbox({}, async (sb) => {
      sb.addRedirectUri(SANDBOX_M2M_CLIENT_ID, 'http://localhost:3000/m2m/callback');
      const res = await get(authorizeUrl(sb, pkcePair().challenge, { client_id: SANDBOX_M2M_CLIENT_ID, redirect_uri: 'http://localhost:3000/m2m/callback' }));
      assert.equal(res.status, 302);
      assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'unauthorized_client');
    }));
});

describe('single-page app: CORS for its allowed origins', () => {
  const ORIGIN = 'http://localhost:5173';

  it('answers a preflight and marks answers (errors too) readable for an allowed origin only', () =>
    withSandbox({}, async (sb) => {
      const preflight = await fetch(`${sb.url}/oauth/token`, {
        method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), ORIGIN);
      assert.match(preflight.headers.get('access-control-allow-headers')!, /content-type/);

      const { code, verifier } = await getCode(sb, { client_id: SANDBOX_SPA_CLIENT_ID, redirect_uri: `${ORIGIN}/callback` });
      const body = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: `${ORIGIN}/callback`, client_id: SANDBOX_SPA_CLIENT_ID };
      const res = await post(`${sb.url}/oauth/token`, body, { ...FORM, origin: ORIGIN });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
      assert.equal(res.headers.get('vary'), 'Origin');
      const tokens = (await res.json()) as Tokens;
      const api = await get(`${sb.url}/api/v1/users/me`, { origin: ORIGIN, authorization: `Bearer ${tokens.access_token}` });
      assert.equal(api.headers.get('access-control-allow-origin'), ORIGIN);
      const refused = await post(`${sb.url}/oauth/token`, body, { ...FORM, origin: ORIGIN });
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('access-control-allow-origin'), ORIGIN);
    }));

  it('gives another origin no CORS headers and refuses its preflight; authorize has no CORS at all', () =>
    withSandbox({}, async (sb) => {
      const evil = 'https://evil.example';
      const preflight = await fetch(`${sb.url}/oauth/token`, { method: 'OPTIONS', headers: { origin: evil, 'access-control-request-method': 'POST' } });
      assert.equal(preflight.status, 403);
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
      const res = await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', client_id: SANDBOX_M2M_CLIENT_ID, client_secret: SANDBOX_M2M_CLIENT_SECRET }, { ...FORM, origin: evil });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      const authorize = await get(authorizeUrl(sb, pkcePair().challenge), { origin: ORIGIN });
      assert.equal(authorize.headers.get('access-control-allow-origin'), null);
    }));
});
