// The sandbox answers as Qlik's reference documents (issue 20): users/me's 301, the REST error shape,
// CORS for Qlik's browser code; and each thing no source settles is a switch (SANDBOX_*), tried both ways.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  SANDBOX_CLIENT_SECRET, SANDBOX_NATIVE_CLIENT_ID, SANDBOX_SWITCHES, sandboxOptionsFromEnv,
} from '../src/sandbox/index.ts';
import {
  FORM, assertDetailed, assertQlikError, assertTerse, exchange, get, getCode, me, post, refresh, signIn, withSandbox, type Tokens,
} from './helpers/sandbox.ts';

const NATIVE = { client_id: SANDBOX_NATIVE_CLIENT_ID, redirect_uri: 'http://127.0.0.1:49152/callback' };

describe('GET /api/v1/users/me: a 301 to the user, as documented', () => {
  it('answers 301 text/html with a relative Location /api/v1/users/{id}; that resource is the token\'s user', () =>
    withSandbox({}, async (sb) => {
      const { access_token } = await signIn(sb);
      const auth = { authorization: `Bearer ${access_token}` };
      const res = await get(`${sb.url}/api/v1/users/me`, auth);
      assert.equal(res.status, 301);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const location = res.headers.get('location')!;
      assert.match(location, /^\/api\/v1\/users\/[0-9a-f]{24}$/);
      const user = await get(new URL(location, sb.url).href, auth);
      assert.equal(user.status, 200);
      const body = (await user.json()) as { id: string; name: string; links: { self: { href: string } } };
      assert.equal(body.name, 'Ada');
      assert.equal(`/api/v1/users/${body.id}`, location);
      assert.equal(body.links.self.href, `${sb.url}${location}`);
    }));

  it('checks the token before redirecting; shows no other user (404) and no one without a token (401)', () =>
    withSandbox({}, async (sb) => {
      assert.equal((await get(`${sb.url}/api/v1/users/me`)).status, 401);
      const ada = await signIn(sb, {}, 'ada');
      const grace = await signIn(sb, {}, 'grace.hopper');
      const graceId = ((await (await me(sb, grace.access_token)).json()) as { id: string }).id;
      const other = await get(`${sb.url}/api/v1/users/${graceId}`, { authorization: `Bearer ${ada.access_token}` });
      const body = await assertQlikError(other, 404, 'HTTP-404');
      assert.equal(body.errors[0]!.status, 404, 'REST errors carry status as a number');
      await assertQlikError(await get(`${sb.url}/api/v1/users/${graceId}`), 401, 'HTTP-401');
      const put = await fetch(`${sb.url}/api/v1/users/${graceId}`, { method: 'PUT', headers: { authorization: `Bearer ${ada.access_token}` } });
      assert.equal(put.headers.get('allow'), 'GET');
    }));

  it('SANDBOX_USERS_ME=200 (usersMeRedirect: false) answers the user at once', () =>
    withSandbox(sandboxOptionsFromEnv({ SANDBOX_USERS_ME: '200' }), async (sb) => {
      const { access_token } = await signIn(sb);
      const res = await get(`${sb.url}/api/v1/users/me`, { authorization: `Bearer ${access_token}` });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { name: string }).name, 'Ada');
    }));
});

describe('answers as the reference writes them', () => {
  it('status is a number in REST errors and a string in /oauth/* errors; auth_time is Unix seconds', () =>
    withSandbox({}, async (sb) => {
      const rest = (await (await get(`${sb.url}/api/v1/spaces`)).json()) as { errors: { status: unknown }[] };
      assert.equal(rest.errors[0]!.status, 401);
      const oauth = (await (await post(`${sb.url}/oauth/token`, { grant_type: 'password' })).json()) as { errors: { status: unknown }[] };
      assert.equal(oauth.errors[0]!.status, '400');
      const tokens = await signIn(sb);
      assert.equal(typeof tokens.auth_time, 'number');
      assert.ok(Math.abs(tokens.auth_time! - Date.now() / 1000) < 5, String(tokens.auth_time));
    }));

  it('CORS as Qlik\'s browser code needs it: credentials with the echoed origin, qlik-* headers, every method; web clients may list origins', () => {
    const origin = 'https://app.example.com';
    const clients = [{ clientId: 'web', clientSecret: 's', redirectUris: [], grantTypes: ['client_credentials' as const], allowedOrigins: [origin] }];
    return withSandbox({ clients }, async (sb) => {
      const preflight = await fetch(`${sb.url}/api/v1/spaces`, {
        method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'qlik-csrf-token' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
      assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET, POST, PUT, PATCH, DELETE');
      const allowed = preflight.headers.get('access-control-allow-headers')!.split(', ');
      for (const name of ['authorization', 'content-type', 'qlik-api-version', 'qlik-csrf-token']) assert.ok(allowed.includes(name), name);
      const token = await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', client_id: 'web', client_secret: 's' }, { ...FORM, origin });
      assert.equal(token.status, 200);
      assert.equal(token.headers.get('access-control-allow-origin'), origin);
      assert.equal(token.headers.get('access-control-allow-credentials'), 'true');
    });
  });
});

describe('[?] switches: what no source settles, tried both ways', () => {
  it('every switch has a SANDBOX_* name, two values (the default first), and help; a bad value lists both', () => {
    for (const { env, values, help } of SANDBOX_SWITCHES) {
      assert.match(env, /^SANDBOX_[A-Z0-9_]+$/);
      assert.equal(values.length, 2);
      assert.ok(help.length > 20, env);
      assert.throws(() => sandboxOptionsFromEnv({ [env]: 'maybe' }), new RegExp(`${env}: "maybe" is not valid\\. Valid values: ${values[0][0]} \\(the default\\) or ${values[1][0]}`));
    }
    assert.deepEqual(sandboxOptionsFromEnv({
      SANDBOX_WEB_CODE_SECRET: 'optional', SANDBOX_PUBLIC_REFRESH: 'none', SANDBOX_REFRESH_CLIENT_ID: 'refused', SANDBOX_403_CHALLENGE: 'none', SANDBOX_USERS_ME: '301',
    }), { webCodeWithoutSecret: true, publicClientRefreshTokens: false, refreshClientId: 'refused', challengeOn403: false, usersMeRedirect: true });
  });

  it('SANDBOX_WEB_CODE_SECRET: a web client\'s code exchange without its secret is refused (default) or allowed; a wrong one never', async () => {
    await withSandbox({ errors: 'detailed' }, async (sb) => {
      const { code, verifier } = await getCode(sb);
      await assertDetailed(await exchange(sb, code, verifier, { client_secret: undefined }), 401, 'SANDBOX-OAUTH-35', 'invalid_client');
    });
    await withSandbox(sandboxOptionsFromEnv({ SANDBOX_WEB_CODE_SECRET: 'optional' }), async (sb) => {
      const a = await getCode(sb);
      assert.equal((await exchange(sb, a.code, a.verifier, { client_secret: undefined })).status, 200);
      const b = await getCode(sb);
      await assertTerse(await exchange(sb, b.code, b.verifier, { client_secret: 'wrong' }), 401, 'OAUTH-5', 'Unauthorized');
      // Only the code exchange: machine grants still need the secret.
      await assertTerse(await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', client_id: 'sandbox-m2m-client' }), 401, 'OAUTH-5', 'Unauthorized');
    });
  });

  it('SANDBOX_PUBLIC_REFRESH: a public client gets a refresh token for offline_access (default) or none; a web client always does', async () => {
    const native = async (sb: Parameters<Parameters<typeof withSandbox>[1]>[0]) => {
      const { code, verifier } = await getCode(sb, NATIVE);
      return (await (await exchange(sb, code, verifier, { ...NATIVE, client_secret: undefined })).json()) as Tokens;
    };
    await withSandbox({}, async (sb) => assert.ok((await native(sb)).refresh_token));
    await withSandbox(sandboxOptionsFromEnv({ SANDBOX_PUBLIC_REFRESH: 'none' }), async (sb) => {
      const tokens = await native(sb);
      assert.equal('refresh_token' in tokens, false);
      assert.ok(tokens.access_token);
      assert.ok((await signIn(sb)).refresh_token, 'the web client still gets one');
    });
  });

  it('SANDBOX_REFRESH_CLIENT_ID: a client_id on a refresh is ignored (default) or refused with 400', async () => {
    await withSandbox({}, async (sb) => {
      const tokens = await signIn(sb);
      // Ignored: not even a client_id naming another client changes who the token belongs to.
      assert.equal((await refresh(sb, tokens.refresh_token!, { client_id: SANDBOX_NATIVE_CLIENT_ID })).status, 200);
    });
    await withSandbox(sandboxOptionsFromEnv({ SANDBOX_REFRESH_CLIENT_ID: 'refused' }), async (sb) => {
      const tokens = await signIn(sb);
      await assertTerse(await refresh(sb, tokens.refresh_token!), 400, 'HTTP-400', 'Bad Request');
      const res = await post(`${sb.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_secret: SANDBOX_CLIENT_SECRET });
      assert.equal(res.status, 200);
    });
  });

  it('SANDBOX_403_CHALLENGE: a 403 for a missing scope carries WWW-Authenticate insufficient_scope (default) or none', async () => {
    for (const [env, challenge] of [[{}, /^Bearer realm="qlik", error="insufficient_scope", scope="user_default"$/], [{ SANDBOX_403_CHALLENGE: 'none' }, null]] as const) {
      await withSandbox(sandboxOptionsFromEnv(env), async (sb) => {
        const { access_token } = await signIn(sb, { scope: 'admin.apps' });
        const res = await me(sb, access_token);
        const header = res.headers.get('www-authenticate');
        if (challenge === null) assert.equal(header, null);
        else assert.match(header ?? '', challenge);
        await assertQlikError(res, 403, 'HTTP-403');
      });
    }
  });
});
