// Tests for src/sandbox: a real server on 127.0.0.1, driven with fetch (redirect: 'manual').
// The sandbox's own detailed codes (SANDBOX-OAUTH-*) are checked with `errors: 'detailed'`; the terse
// default, as a real tenant answers, is in test/sandbox-terse.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, startSandbox, type Sandbox } from '../src/sandbox/index.ts';
import { FORM, REDIRECT_URI, assertErrorRedirect, assertQlikError, authorizeUrl, decide, exchange, get, getCode, manualClock, me, pkcePair, post, refresh, signIn, startConsent, withSandbox, type Tokens } from './helpers/sandbox.ts';

const DETAILED = { errors: 'detailed' } as const;

describe('discovery', () => {
  it('serves the same Qlik-shaped metadata at both well-known paths', () =>
    withSandbox({}, async (sb) => {
      assert.match(sb.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const a = await get(`${sb.url}/.well-known/openid-configuration`);
      const b = await get(`${sb.url}/.well-known/oauth-authorization-server`);
      assert.equal(a.status, 200);
      assert.equal(a.headers.get('content-type'), 'application/json');
      const doc = (await a.json()) as Record<string, unknown>;
      assert.deepEqual(await b.json(), doc);
      assert.deepEqual(doc, {
        issuer: sb.url,
        authorization_endpoint: `${sb.url}/oauth/authorize`,
        token_endpoint: `${sb.url}/oauth/token`,
        revocation_endpoint: `${sb.url}/oauth/revoke`,
        jwks_uri: `${sb.url}/.well-known/jwks.json`,
        grant_types_supported: [],
        response_types_supported: [],
      });
      const jwks = await get(doc.jwks_uri as string);
      assert.deepEqual(await jwks.json(), { keys: [] });
    }));

  it('advertises RFC 9207 iss only when asked', () =>
    withSandbox({ advertiseIss: true }, async (sb) => {
      const doc = (await (await get(`${sb.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.equal(doc.authorization_response_iss_parameter_supported, true);
    }));
});

describe('authorize and consent', () => {
  it('runs the whole flow: consent page → code → tokens → users/me', () =>
    withSandbox({}, async (sb) => {
      const { verifier, challenge } = pkcePair();
      const page = await get(authorizeUrl(sb, challenge));
      const html = await page.text();
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type')!, /^text\/html/);
      const csp = page.headers.get('content-security-policy')!;
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /form-action 'self' http:\/\/localhost:3000/);
      assert.doesNotMatch(html, /<script/i);
      assert.equal(html.match(/<form /g)?.length, 1);
      assert.match(html, /<form method="post" action="\/oauth\/authorize\/decision">/);
      assert.match(html, /name="user" value="ada"/);
      assert.match(html, /<button name="decision" value="allow">Allow<\/button>/);
      assert.match(html, /<button name="decision" value="deny">Deny<\/button>/);
      assert.match(html, /sandbox-web-client/);
      assert.match(html, /offline_access/);
      const tx = /name="tx" value="([^"]+)"/.exec(html)![1]!;

      const location = await decide(sb, tx, 'allow');
      assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI);
      assert.equal(location.searchParams.get('state'), 'state-123');
      assert.equal(location.searchParams.get('iss'), sb.url);
      const code = location.searchParams.get('code')!;

      const before = Date.now();
      const res = await exchange(sb, code, verifier);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('pragma'), 'no-cache');
      const tokens = (await res.json()) as Tokens;
      // Qlik's reference: expires_at (ISO date), lower-case bearer, auth_time (Unix seconds); no expires_in.
      assert.deepEqual(Object.keys(tokens).sort(), ['access_token', 'auth_time', 'expires_at', 'refresh_token', 'scope', 'token_type']);
      assert.equal(tokens.token_type, 'bearer');
      assert.match(tokens.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const expiresAt = Date.parse(tokens.expires_at);
      assert.ok(Math.abs(expiresAt - (before + 21600_000)) < 5_000, tokens.expires_at);
      assert.ok(Number.isInteger(tokens.auth_time) && Math.abs(tokens.auth_time! * 1000 - before) < 5_000, String(tokens.auth_time));
      assert.equal(tokens.scope, 'user_default offline_access');
      assert.match(tokens.access_token, /^sbx_at_[A-Za-z0-9_-]{43}$/);
      assert.match(tokens.refresh_token ?? '', /^sbx_rt_[A-Za-z0-9_-]{43}$/);

      const user = await me(sb, tokens.access_token);
      assert.equal(user.status, 200);
      const body = (await user.json()) as Record<string, unknown>;
      assert.equal(body.name, 'Ada');
      assert.equal(body.subject, 'sandbox|ada');
      assert.equal(body.email, 'ada@sandbox.example');
      assert.equal(body.status, 'active');
      assert.match(body.id as string, /^[0-9a-f]{24}$/);
      assert.deepEqual(body.links, { self: { href: `${sb.url}/api/v1/users/${body.id}` } });
      // users/me's 301, then the user it leads to.
      assert.deepEqual(sb.stats(), { tokenRequests: 1, refreshRequests: 0, revokeRequests: 0, apiRequests: 2 });
    }));

  it('signs in as the chosen user, with a stable id per name', () =>
    withSandbox({}, async (sb) => {
      const users = [];
      for (const name of ['grace.hopper', 'grace.hopper', 'ada']) {
        const { code, verifier } = await getCode(sb, {}, name);
        const tokens = (await (await exchange(sb, code, verifier)).json()) as Tokens;
        users.push((await (await me(sb, tokens.access_token)).json()) as { id: string; name: string });
      }
      assert.equal(users[0]!.name, 'Grace Hopper');
      assert.equal(users[0]!.id, users[1]!.id);
      assert.notEqual(users[0]!.id, users[2]!.id);
    }));

  it('prefills login_hint, escaped', () =>
    withSandbox({}, async (sb) => {
      const html = await (await get(authorizeUrl(sb, pkcePair().challenge, { login_hint: '"><script>x</script>' }))).text();
      assert.doesNotMatch(html, /<script/);
      assert.match(html, /value="&quot;&gt;&lt;script&gt;x&lt;\/script&gt;"/);
    }));

  it('answers an unknown client_id with a 400, never a redirect', () =>
    withSandbox(DETAILED, async (sb) => {
      const res = await get(authorizeUrl(sb, pkcePair().challenge, { client_id: 'evil-client' }));
      assert.equal(res.headers.get('location'), null);
      await assertQlikError(res, 400, 'SANDBOX-OAUTH-2');
      const missing = await get(authorizeUrl(sb, pkcePair().challenge, { client_id: undefined }));
      await assertQlikError(missing, 400, 'SANDBOX-OAUTH-2');
    }));

  it('answers an unregistered redirect_uri with a 400, never a redirect (exact match only)', () =>
    withSandbox(DETAILED, async (sb) => {
      for (const uri of ['http://localhost:3000/login/callback/', 'http://localhost:3001/login/callback', 'https://evil.example/cb', undefined]) {
        const res = await get(authorizeUrl(sb, pkcePair().challenge, { redirect_uri: uri }));
        assert.equal(res.headers.get('location'), null, String(uri));
        await assertQlikError(res, 400, 'SANDBOX-OAUTH-3');
      }
    }));

  it('redirects request errors back to the client with error, error_code, state and iss', () =>
    withSandbox({}, async (sb) => {
      const { challenge } = pkcePair();
      const cases: [Record<string, string | undefined>, string, string][] = [
        [{ code_challenge_method: undefined }, 'invalid_request', 'SANDBOX-OAUTH-6'],
        [{ code_challenge_method: 'plain' }, 'invalid_request', 'SANDBOX-OAUTH-6'],
        [{ code_challenge: undefined }, 'invalid_request', 'SANDBOX-OAUTH-7'],
        [{ code_challenge: challenge.slice(1) }, 'invalid_request', 'SANDBOX-OAUTH-7'],
        [{ scope: 'openid user_default' }, 'invalid_scope', 'SANDBOX-OAUTH-5'],
        [{ scope: 'User_Default' }, 'invalid_scope', 'SANDBOX-OAUTH-5'],
        [{ scope: 'user_default admin.apps:export!' }, 'invalid_scope', 'SANDBOX-OAUTH-5'],
        [{ response_type: 'token' }, 'unsupported_response_type', 'SANDBOX-OAUTH-4'],
        [{ response_type: undefined }, 'invalid_request', 'SANDBOX-OAUTH-1'],
        [{ scope: undefined }, 'invalid_scope', 'SANDBOX-OAUTH-5'],
        [{ scope: ' ' }, 'invalid_scope', 'SANDBOX-OAUTH-5'],
        [{ prompt: 'none' }, 'login_required', 'SANDBOX-OAUTH-9'],
        [{ prompt: 'select_account' }, 'invalid_request', 'SANDBOX-OAUTH-1'],
        [{ max_age: '-1' }, 'invalid_request', 'SANDBOX-OAUTH-1'],
      ];
      for (const [overrides, error, code] of cases) {
        const params = assertErrorRedirect(await get(authorizeUrl(sb, challenge, overrides)), error, code, sb);
        assert.equal(params.get('state'), 'state-123', JSON.stringify(overrides));
      }
      const noState = assertErrorRedirect(await get(authorizeUrl(sb, challenge, { state: undefined })), 'invalid_request', 'SANDBOX-OAUTH-1', sb);
      assert.equal(noState.get('state'), null);
      const twice = await get(`${authorizeUrl(sb, challenge)}&scope=admin_classic`);
      assertErrorRedirect(twice, 'invalid_request', 'SANDBOX-OAUTH-1', sb);
    }));

  it('accepts Qlik\'s optional prompt=login (or consent), max_age and login_hint', () =>
    withSandbox({}, async (sb) => {
      for (const prompt of ['login', 'consent']) {
        const { location } = await getCode(sb, { prompt, max_age: '0', login_hint: 'grace.hopper' });
        assert.ok(location.searchParams.get('code'));
      }
    }));

  it('keeps an existing query on the redirect URI', () =>
    withSandbox({}, async (sb) => {
      const uri = 'http://localhost:3000/cb?tenant=a%20b&x';
      sb.addRedirectUri(SANDBOX_CLIENT_ID, uri);
      const { location } = await getCode(sb, { redirect_uri: uri });
      assert.ok(location.href.startsWith(`${uri}&code=`), location.href);
      const err = await get(authorizeUrl(sb, pkcePair().challenge, { redirect_uri: uri, scope: 'openid' }));
      assert.ok(err.headers.get('location')!.startsWith(`${uri}&error=invalid_scope`));
    }));

  it('redirects Deny as access_denied with state and iss', () =>
    withSandbox({}, async (sb) => {
      const tx = await startConsent(authorizeUrl(sb, pkcePair().challenge));
      const location = await decide(sb, tx, 'deny');
      assert.equal(location.searchParams.get('error'), 'access_denied');
      assert.equal(location.searchParams.get('error_code'), 'SANDBOX-OAUTH-8');
      assert.ok(location.searchParams.get('error_description'));
      assert.equal(location.searchParams.get('state'), 'state-123');
      assert.equal(location.searchParams.get('iss'), sb.url);
      assert.equal(location.searchParams.get('code'), null);
    }));

  it('refuses an unknown, used or expired tx and a bad user name with a 400', async () => {
    const clock = manualClock();
    await withSandbox({ now: clock.now }, async (sb) => {
      const decision = (tx: string, user = 'ada') => post(`${sb.url}/oauth/authorize/decision`, { tx, decision: 'allow', user });
      await assertQlikError(await decision('made-up'), 400, 'SANDBOX-OAUTH-10');

      const tx = await startConsent(authorizeUrl(sb, pkcePair().challenge));
      await assertQlikError(await decision(tx, 'Ada Lovelace'), 400, 'SANDBOX-OAUTH-11');
      await assertQlikError(await decision(tx, 'a'.repeat(41)), 400, 'SANDBOX-OAUTH-11');
      assert.equal((await decision(tx)).status, 302); // a bad name did not spend the tx
      await assertQlikError(await decision(tx), 400, 'SANDBOX-OAUTH-10');

      const old = await startConsent(authorizeUrl(sb, pkcePair().challenge));
      clock.advance(10 * 60_000 + 1);
      await assertQlikError(await decision(old), 400, 'SANDBOX-OAUTH-10');
    });
  });
});

describe('token endpoint', () => {
  it('explains a wrong, missing or unknown client (detailed style), never echoing the secret', () =>
    withSandbox(DETAILED, async (sb) => {
      const { code, verifier } = await getCode(sb);
      const res = await exchange(sb, code, verifier, { client_secret: 'wrong' });
      const body = await assertQlikError(res, 401, 'SANDBOX-OAUTH-22');
      assert.deepEqual(Object.keys(body), ['error', 'error_description', 'errors', 'traceId']);
      assert.equal(body.error, 'invalid_client');
      assert.equal(body.errors[0]!.title, 'Invalid client_secret');
      assert.doesNotMatch(JSON.stringify(body), new RegExp(SANDBOX_CLIENT_SECRET));
      await assertQlikError(await exchange(sb, code, verifier, { client_secret: undefined }), 401, 'SANDBOX-OAUTH-35');
      await assertQlikError(await exchange(sb, code, verifier, { client_id: 'nobody' }), 401, 'SANDBOX-OAUTH-36');
      await assertQlikError(await exchange(sb, code, verifier, { client_id: undefined, client_secret: undefined }), 401, 'SANDBOX-OAUTH-36');
    }));

  it('checks the PKCE verifier: format and match (both invalid_grant, 401)', () =>
    withSandbox(DETAILED, async (sb) => {
      const short = await getCode(sb);
      await assertQlikError(await exchange(sb, short.code, 'a'.repeat(42)), 401, 'SANDBOX-OAUTH-25');
      const wrong = await getCode(sb);
      await assertQlikError(await exchange(sb, wrong.code, pkcePair().verifier), 401, 'SANDBOX-OAUTH-31');
      await assertQlikError(await exchange(sb, wrong.code, wrong.verifier), 401, 'SANDBOX-OAUTH-27'); // spent by the failed try
    }));

  it('allows a code once; a replay revokes the tokens issued from it', () =>
    withSandbox(DETAILED, async (sb) => {
      const { code, verifier } = await getCode(sb);
      const first = (await (await exchange(sb, code, verifier)).json()) as Tokens;
      assert.equal((await me(sb, first.access_token)).status, 200);
      await assertQlikError(await exchange(sb, code, verifier), 401, 'SANDBOX-OAUTH-27');
      assert.equal((await me(sb, first.access_token)).status, 401);
      await assertQlikError(await refresh(sb, first.refresh_token!), 401, 'SANDBOX-OAUTH-32');
    }));

  it('expires a code after 60 seconds', async () => {
    const clock = manualClock();
    await withSandbox({ ...DETAILED, now: clock.now }, async (sb) => {
      const fresh = await getCode(sb);
      clock.advance(59_000);
      assert.equal((await exchange(sb, fresh.code, fresh.verifier)).status, 200);
      const stale = await getCode(sb);
      clock.advance(60_000);
      await assertQlikError(await exchange(sb, stale.code, stale.verifier), 401, 'SANDBOX-OAUTH-28');
    });
  });

  it('requires the same redirect_uri as the authorization request', () =>
    withSandbox(DETAILED, async (sb) => {
      const { code, verifier } = await getCode(sb);
      await assertQlikError(await exchange(sb, code, verifier, { redirect_uri: `${REDIRECT_URI}/` }), 401, 'SANDBOX-OAUTH-30');
      const other = await getCode(sb);
      await assertQlikError(await exchange(sb, other.code, other.verifier, { redirect_uri: undefined }), 400, 'SANDBOX-OAUTH-21');
    }));

  it('refuses a code issued to another client', () =>
    withSandbox(
      {
        ...DETAILED,
        clients: [
          { clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, redirectUris: [] },
          { clientId: 'other', clientSecret: 'other-secret', redirectUris: [REDIRECT_URI] },
        ],
      },
      async (sb) => {
        const { code, verifier } = await getCode(sb);
        const res = await exchange(sb, code, verifier, { client_id: 'other', client_secret: 'other-secret' });
        await assertQlikError(res, 401, 'SANDBOX-OAUTH-29');
      },
    ));

  it('gives a refresh_token only when offline_access was granted', () =>
    withSandbox({}, async (sb) => {
      const tokens = await signIn(sb, { scope: 'user_default' });
      assert.equal(tokens.scope, 'user_default');
      assert.equal('refresh_token' in tokens, false);
    }));

  it('accepts a JSON body and refuses other media types, unknown grants and repeated parameters', () =>
    withSandbox(DETAILED, async (sb) => {
      const { code, verifier } = await getCode(sb);
      const json = {
        grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI,
        client_id: SANDBOX_CLIENT_ID, client_secret: SANDBOX_CLIENT_SECRET,
      };
      assert.equal((await post(`${sb.url}/oauth/token`, JSON.stringify(json), { 'content-type': 'application/json' })).status, 200);
      await assertQlikError(await post(`${sb.url}/oauth/token`, JSON.stringify({ ...json, code: 1 }), { 'content-type': 'application/json' }), 400, 'HTTP-400');
      await assertQlikError(await post(`${sb.url}/oauth/token`, '{not json', { 'content-type': 'application/json' }), 400, 'HTTP-400');
      await assertQlikError(await post(`${sb.url}/oauth/token`, 'grant_type=x', { 'content-type': 'text/plain' }), 400, 'HTTP-400');
      await assertQlikError(await post(`${sb.url}/oauth/token`, { grant_type: 'password' }), 400, 'SANDBOX-OAUTH-24');
      await assertQlikError(await post(`${sb.url}/oauth/token`, { client_id: SANDBOX_CLIENT_ID }), 400, 'SANDBOX-OAUTH-21');
      await assertQlikError(await post(`${sb.url}/oauth/token`, 'grant_type=refresh_token&refresh_token=a&refresh_token=b'), 400, 'SANDBOX-OAUTH-21');
    }));
});

describe('refresh', () => {
  it('rotates by default: a new refresh_token, the old one refused, the new one unharmed', () =>
    withSandbox(DETAILED, async (sb) => {
      const first = await signIn(sb);
      const res = await refresh(sb, first.refresh_token!);
      const second = (await res.json()) as Tokens;
      assert.ok(second.refresh_token);
      assert.notEqual(second.refresh_token, first.refresh_token);
      await assertQlikError(await refresh(sb, first.refresh_token!), 401, 'SANDBOX-OAUTH-32');
      // No reuse detection by default (Qlik documents none): the newest token and its access token live on.
      assert.equal((await me(sb, second.access_token)).status, 200);
      assert.equal((await refresh(sb, second.refresh_token!)).status, 200);
    }));

  it('with reuse detection: replaying a rotated refresh token ends the whole sign-in', () =>
    withSandbox({ ...DETAILED, refreshTokenReuseDetection: true }, async (sb) => {
      const first = await signIn(sb);
      const res = await refresh(sb, first.refresh_token!);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const second = (await res.json()) as Tokens;
      assert.ok(second.refresh_token);
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.notEqual(second.access_token, first.access_token);
      assert.equal(second.scope, 'user_default offline_access');
      assert.equal((await me(sb, second.access_token)).status, 200);

      const replay = await assertQlikError(await refresh(sb, first.refresh_token!), 401, 'SANDBOX-OAUTH-32');
      assert.match(replay.errors[0]!.detail!, /every token from this sign-in is now revoked/);
      await assertQlikError(await refresh(sb, second.refresh_token!), 401, 'SANDBOX-OAUTH-32');
      assert.equal((await me(sb, second.access_token)).status, 401);
      assert.equal(sb.stats().refreshRequests, 3);
      assert.equal(sb.stats().tokenRequests, 4);
    }));

  it('without rotation: no refresh_token in the answer, the old one keeps working', () =>
    withSandbox({ rotateRefreshTokens: false }, async (sb) => {
      const first = await signIn(sb);
      for (let i = 0; i < 2; i += 1) {
        const res = await refresh(sb, first.refresh_token!);
        assert.equal(res.status, 200);
        const body = (await res.json()) as Tokens;
        assert.equal('refresh_token' in body, false);
        assert.equal((await me(sb, body.access_token)).status, 200);
      }
    }));

  it('accepts a refresh without client_id, still checks the secret, and may narrow the scope', () =>
    withSandbox(DETAILED, async (sb) => {
      const first = await signIn(sb);
      const send = (token: string, extra: Record<string, string>) =>
        post(`${sb.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: token, ...extra });
      await assertQlikError(await send(first.refresh_token!, { client_secret: 'wrong' }), 401, 'SANDBOX-OAUTH-22');
      await assertQlikError(await send(first.refresh_token!, { client_secret: SANDBOX_CLIENT_SECRET, scope: 'admin_classic' }), 400, 'SANDBOX-OAUTH-34');
      const res = await send(first.refresh_token!, { client_secret: SANDBOX_CLIENT_SECRET, scope: 'offline_access' });
      assert.equal(res.status, 200);
      const narrowed = (await res.json()) as Tokens;
      assert.equal(narrowed.scope, 'offline_access');
      await assertQlikError(await me(sb, narrowed.access_token), 403, 'HTTP-403');
      await assertQlikError(await send('sbx_rt_unknown', { client_secret: SANDBOX_CLIENT_SECRET }), 401, 'SANDBOX-OAUTH-32');
      await assertQlikError(await send(first.access_token, { client_secret: SANDBOX_CLIENT_SECRET }), 401, 'SANDBOX-OAUTH-32');
    }));

  it('expires access tokens after 6 h and refresh tokens after 30 days', async () => {
    const clock = manualClock();
    await withSandbox({ ...DETAILED, now: clock.now }, async (sb) => {
      const tokens = await signIn(sb);
      clock.advance(6 * 3600_000);
      const expired = await me(sb, tokens.access_token);
      assert.equal(expired.headers.get('www-authenticate'), 'Bearer realm="qlik", error="invalid_token"');
      await assertQlikError(expired, 401, 'HTTP-401');
      clock.advance(30 * 86400_000);
      await assertQlikError(await refresh(sb, tokens.refresh_token!), 401, 'SANDBOX-OAUTH-32');
    });
  });
});

describe('revoke', () => {
  it('revokes an access token; users/me then answers 401 invalid_token', () =>
    withSandbox({}, async (sb) => {
      const tokens = await signIn(sb);
      const res = await post(`${sb.url}/oauth/revoke`, {
        token: tokens.access_token, token_type_hint: 'access_token', client_id: SANDBOX_CLIENT_ID, client_secret: SANDBOX_CLIENT_SECRET,
      });
      assert.equal(res.status, 200);
      const after = await me(sb, tokens.access_token);
      assert.equal(after.headers.get('www-authenticate'), 'Bearer realm="qlik", error="invalid_token"');
      const body = await assertQlikError(after, 401, 'HTTP-401');
      assert.match(body.traceId ?? '', /^[0-9a-f]{32}$/);
      assert.equal((await refresh(sb, tokens.refresh_token!)).status, 200); // the refresh token lives on
      assert.equal(sb.stats().revokeRequests, 1);
    }));

  it('revoking a refresh token also revokes the access tokens of its grant', () =>
    withSandbox(DETAILED, async (sb) => {
      const tokens = await signIn(sb);
      const res = await post(`${sb.url}/oauth/revoke`, { token: tokens.refresh_token!, client_secret: SANDBOX_CLIENT_SECRET });
      assert.equal(res.status, 200);
      assert.equal((await me(sb, tokens.access_token)).status, 401);
      await assertQlikError(await refresh(sb, tokens.refresh_token!), 401, 'SANDBOX-OAUTH-32');
    }));

  it('answers 200 for an unknown token, and 400 without a token or with it twice', () =>
    withSandbox(DETAILED, async (sb) => {
      const creds = { client_id: SANDBOX_CLIENT_ID, client_secret: SANDBOX_CLIENT_SECRET };
      assert.equal((await post(`${sb.url}/oauth/revoke`, { token: 'no-such-token', ...creds })).status, 200);
      await assertQlikError(await post(`${sb.url}/oauth/revoke`, creds), 400, 'SANDBOX-OAUTH-21');
      await assertQlikError(await post(`${sb.url}/oauth/revoke`, 'token=a&token=b'), 400, 'SANDBOX-OAUTH-21');
    }));
});

describe('REST API', () => {
  it('challenges a request without a bearer token, without an error code', () =>
    withSandbox({}, async (sb) => {
      const headerSets: Record<string, string>[] = [{}, { authorization: 'Basic abc' }];
      for (const headers of headerSets) {
        const res = await get(`${sb.url}/api/v1/users/me`, headers);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="qlik"');
        const body = await assertQlikError(res, 401, 'HTTP-401');
        assert.equal(body.errors[0]!.title, 'Unauthorized');
        assert.ok(body.traceId);
      }
      const bogus = await me(sb, 'sbx_at_bogus');
      assert.equal(bogus.headers.get('www-authenticate'), 'Bearer realm="qlik", error="invalid_token"');
    }));

  it('refuses a token without user_default with 403 insufficient_scope', () =>
    withSandbox({}, async (sb) => {
      const tokens = await signIn(sb, { scope: 'admin.apps' });
      const res = await me(sb, tokens.access_token);
      assert.match(res.headers.get('www-authenticate')!, /^Bearer realm="qlik", error="insufficient_scope"/);
      await assertQlikError(res, 403, 'HTTP-403');
    }));

  it('pages spaces; following links.next visits each of the 12 once', () =>
    withSandbox({}, async (sb) => {
      const { access_token } = await signIn(sb);
      const auth = { authorization: `Bearer ${access_token}` };
      let href: string | undefined = `${sb.url}/api/v1/spaces`;
      const pageSizes: number[] = [];
      const ids = new Set<string>();
      while (href !== undefined) {
        assert.ok(href.startsWith(`${sb.url}/api/v1/spaces?`) || pageSizes.length === 0, href);
        const res = await get(href, auth);
        assert.equal(res.status, 200);
        const page = (await res.json()) as { data: { id: string; name: string; type: string; createdAt: string }[]; links: { self: { href: string }; next?: { href: string } } };
        assert.ok(page.links.self.href.startsWith(sb.url));
        pageSizes.push(page.data.length);
        for (const space of page.data) ids.add(space.id);
        href = page.links.next?.href;
      }
      assert.deepEqual(pageSizes, [5, 5, 2]);
      assert.equal(ids.size, 12);
      const big = (await (await get(`${sb.url}/api/v1/spaces?limit=100`, auth)).json()) as { data: unknown[]; links: object };
      assert.equal(big.data.length, 12);
      assert.equal('next' in big.links, false);
      await assertQlikError(await get(`${sb.url}/api/v1/spaces?limit=0`, auth), 400, 'HTTP-400');
      await assertQlikError(await get(`${sb.url}/api/v1/spaces?next=bogus`, auth), 400, 'HTTP-400');
      assert.equal((await get(`${sb.url}/api/v1/spaces`)).status, 401);
    }));

});

describe('robustness', () => {
  it('answers unknown paths 404, wrong methods 405, big bodies 413, and keeps serving', () =>
    withSandbox({}, async (sb) => {
      await assertQlikError(await get(`${sb.url}/nope`), 404, 'HTTP-404');
      await assertQlikError(await get(`${sb.url}//127.0.0.1/oauth/token`), 404, 'HTTP-404');
      const wrongMethod = await get(`${sb.url}/oauth/token`);
      assert.equal(wrongMethod.headers.get('allow'), 'POST');
      await assertQlikError(wrongMethod, 405, 'HTTP-405');
      await assertQlikError(await post(`${sb.url}/oauth/token`, `a=${'x'.repeat(70_000)}`), 413, 'HTTP-413');
      assert.equal(await chunkedPost(sb, 70_000), 413);
      assert.equal(await chunkedPost(sb, 100), 400);
      await assertQlikError(await get(`${sb.url}/oauth/authorize?client_id=%zz&client_id=%E0%A4%A`), 400, 'OAUTH-1');
      assert.equal((await get(`${sb.url}/.well-known/openid-configuration`)).status, 200);
    }));

  it('rejects bad configuration', async () => {
    await assert.rejects(startSandbox({ clients: [{ clientId: 'a', clientSecret: 's', redirectUris: ['/relative'] }] }));
    await assert.rejects(startSandbox({ clients: [{ clientId: 'a', redirectUris: [] }] }), /web client "a" needs a secret/);
    await assert.rejects(startSandbox({ clients: [{ clientId: 'a', type: 'spa', clientSecret: 's', redirectUris: [] }] }), /public/);
    await assert.rejects(startSandbox({ clients: [{ clientId: 'a', type: 'native', redirectUris: [], grantTypes: ['client_credentials'] }] }), /web clients only/);
    await assert.rejects(startSandbox({ clients: [{ clientId: 'a', clientSecret: 's', redirectUris: [], scopes: ['bad scope'] }] }), /invalid scope/);
    await assert.rejects(startSandbox({ clients: [{ clientId: 'a', type: 'spa', redirectUris: [], allowedOrigins: ['http://x.example/'] }] }), /is not an origin/);
    const sb = await startSandbox();
    try {
      assert.throws(() => sb.addRedirectUri('nobody', REDIRECT_URI));
      assert.throws(() => sb.addRedirectUri(SANDBOX_CLIENT_ID, 'http://localhost/cb#frag'));
    } finally {
      await sb.close();
    }
  });
});

describe('independence', () => {
  it('imports nothing of the client: only node: built-ins, its own files, and the servers\' shared plumbing (listen, escapeHtml)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = new URL('../src/sandbox/', import.meta.url);
    const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));
    assert.ok(files.length > 10);
    // cli.ts is the command, not the tenant: it reads its settings as every command does (src/settings.ts).
    for (const name of files.filter((file) => file !== 'cli.ts')) {
      const source = readFileSync(new URL(name, dir), 'utf8');
      for (const [, specifier] of source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)) {
        assert.match(specifier!, /^(node:[a-z/_]+|\.\/[\w-]+\.ts|\.\.\/local-server\.ts)$/, `${name} imports ${specifier}`);
      }
      assert.doesNotMatch(source, /import\(\s*['"](?!node:|\.\/)/, `${name} has a dynamic import from outside`);
    }
  });
});

/** POST a body with chunked transfer encoding (no Content-Length) and return the status. */
function chunkedPost(sb: Sandbox, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${sb.url}/oauth/token`, { method: 'POST', headers: FORM }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    for (let sent = 0; sent < size; sent += 1000) req.write(`a=${'x'.repeat(998)}`);
    req.end();
  });
}
