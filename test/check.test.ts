// `npm run check` (src/cli/preflight.ts, src/cli/check.ts): the preflight passes against the
// sandbox, and against a misconfigured tenant each failure is named — wrong secret, discovery at
// neither path, another issuer, a skewed clock, an unregistered redirect URI. No secret or token is
// ever printed, not even when the tenant echoes it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preflight, type CheckLine } from '../src/cli/preflight.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET, startSandbox, type Sandbox, type SandboxOptions } from '../src/sandbox/index.ts';
import { HOSTILE_CLIENT_ID, HOSTILE_CLIENT_SECRET, json, redirect, startHostileTenant, type HostileTenant, type Responder } from './helpers/hostile-tenant.ts';

const CHECK = fileURLToPath(new URL('../src/cli/check.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const DEFAULT_REDIRECT = 'http://localhost:3000/login/callback';

interface Run {
  exitCode: number;
  lines: CheckLine[];
  /** Everything printed. */
  output: string;
  line(name: string): CheckLine;
}

async function check(env: Record<string, string>, fetchImpl?: typeof fetch): Promise<Run> {
  const printed: string[] = [];
  const result = await preflight(env, { onLine: (line) => printed.push(line), ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  const output = printed.join('\n');
  return {
    exitCode: result.exitCode,
    lines: result.lines,
    output,
    line: (name) => {
      const found = result.lines.find((line) => line.name === name);
      assert.ok(found, `a "${name}" line in:\n${output}`);
      return found;
    },
  };
}

function assertNoSecret(run: Run, ...secrets: string[]): void {
  for (const secret of secrets) assert.ok(!run.output.includes(secret), `the output shows a secret:\n${run.output}`);
}

const ALL = ['tenant URL', 'client', 'redirect URI', 'scope', 'discovery', 'issuer', 'clock', 'authorize', 'credentials'];

describe('npm run check against the sandbox', () => {
  it('with no tenant configured, checks the built-in sandbox: every line ok (credentials: ok or could not tell), exit 0', async () => {
    const run = await check({});
    assert.equal(run.exitCode, 0, run.output);
    assert.deepEqual(run.lines.map((line) => line.name), ALL);
    for (const line of run.lines) if (line.name !== 'credentials') assert.equal(line.status, 'ok', run.output);
    assert.match(run.output, /^ok {3}tenant URL: http:\/\/127\.0\.0\.1:\d+ — the built-in sandbox tenant/m);
    assert.match(run.output, /^ok {3}redirect URI: http:\/\/localhost:3000\/login\/callback \(APP_URL \+ \/login\/callback\)/m);
    assert.match(run.line('discovery').text, /^metadata at http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-authorization-server \(RFC 8414, Qlik's documented path\); .*openid-configuration \(the tutorial's path\) → metadata too$/);
    // Terse errors, as a real tenant: client_credentials alone proves nothing, and the revocation
    // probe only when the sandbox checks credentials there (Qlik documents revocation without them).
    assert.match(run.line('credentials').text, /^(accepted: the revocation endpoint took the configured ID and secret|could not tell — ).*client_credentials answered HTTP 401 OAUTH-5 "Unauthorized", traceId \w+, which proves nothing by itself/);
    assertNoSecret(run, SANDBOX_CLIENT_SECRET);
  });

  it('npm run check itself: one line per check, a summary, exit 0, no secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'check-'));
    try {
      const { PATH, HOME } = process.env;
      const child = spawn(process.execPath, ['--import', TSX, CHECK], { cwd: dir, env: { PATH, HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 0, stdout);
      const lines = stdout.trimEnd().split('\n');
      assert.deepEqual(lines.slice(0, -1).map((line) => /^(ok {3}|warn )([a-zA-Z ]+):/.exec(line)?.[2]), ALL);
      assert.match(lines.at(-1)!, /^All checks passed(, 1 warning)?\.$/);
      assert.ok(!stdout.includes(SANDBOX_CLIENT_SECRET));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm run check reads .env in the working directory; unusable settings exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'check-env-'));
    try {
      writeFileSync(join(dir, '.env'), 'QLIK_TENANT_URL=http://example.com\nQLIK_CLIENT_ID=id\nQLIK_CLIENT_SECRET=shh-secret-value\n');
      const { PATH, HOME } = process.env;
      const child = spawn(process.execPath, ['--import', TSX, CHECK], { cwd: dir, env: { PATH, HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 2, stdout);
      assert.match(stdout, /^FAIL tenant URL: QLIK_TENANT_URL: The tenant URL "http:\/\/example\.com" cannot be used: .* Fix: Give the https:\/\/ address/m);
      assert.match(stdout, /^skip discovery: the settings above must be fixed first; nothing was sent to the tenant$/m);
      assert.match(stdout, /\nThe settings cannot be used; fix them and run npm run check again\.\n$/);
      assert.ok(!stdout.includes('shh-secret-value'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm run check with a .env it cannot read: one FAIL settings line saying so, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'check-env-'));
    try {
      mkdirSync(join(dir, '.env')); // a directory: it cannot be read as a file
      const { PATH, HOME } = process.env;
      const child = spawn(process.execPath, ['--import', TSX, CHECK], { cwd: dir, env: { PATH, HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      assert.equal(await new Promise<number | null>((resolve) => child.on('exit', resolve)), 2);
      assert.match(stdout, /^FAIL settings: could not read \.env: .* Fix: Correct or remove the \.env file\.\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('a real tenant (the sandbox, configured as one)', () => {
    let sandbox: Sandbox;
    let detailed: Sandbox;
    const start = async (options: SandboxOptions) => {
      const sb = await startSandbox(options);
      sb.addRedirectUri(SANDBOX_CLIENT_ID, DEFAULT_REDIRECT);
      return sb;
    };
    before(async () => {
      sandbox = await start({});
      detailed = await start({ errors: 'detailed' });
    });
    after(async () => {
      await sandbox.close();
      await detailed.close();
    });
    const tenant = (sb: Sandbox, clientId: string, clientSecret: string) => ({ QLIK_TENANT_URL: sb.url, QLIK_CLIENT_ID: clientId, QLIK_CLIENT_SECRET: clientSecret });

    it('a wrong secret on a terse tenant: could not tell (the revocation endpoint answers both secrets alike), never FAIL', async () => {
      const run = await check(tenant(sandbox, SANDBOX_CLIENT_ID, 'not-the-right-secret-123'));
      assert.equal(run.exitCode, 0, run.output);
      assert.equal(run.line('credentials').status, 'warn');
      assert.match(run.line('credentials').text, /^could not tell — sign in with npm start to find out: the revocation endpoint answered (HTTP \d+[^;]*) to the configured secret and \1 to a deliberately wrong one/);
      for (const name of ALL.filter((name) => name !== 'credentials')) assert.equal(run.line(name).status, 'ok', run.output);
      assertNoSecret(run, 'not-the-right-secret-123', SANDBOX_CLIENT_SECRET);
      assert.doesNotMatch(run.output, /deliberately-wrong-[0-9a-f]/, 'the control secret is not printed either');
    });

    it('a wrong secret on a tenant that says invalid_client: FAIL from the token endpoint alone', async () => {
      const run = await check(tenant(detailed, SANDBOX_CLIENT_ID, 'not-the-right-secret-123'));
      assert.equal(run.exitCode, 1);
      assert.match(run.line('credentials').text, /^refused: the client ID or secret is wrong.* The token endpoint answered client_credentials with HTTP 401 invalid_client /);
      assertNoSecret(run, 'not-the-right-secret-123');
    });

    it('the right secret on a tenant that says unauthorized_client: accepted, no machine-to-machine', async () => {
      const run = await check(tenant(detailed, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET));
      assert.equal(run.exitCode, 0, run.output);
      assert.match(run.line('credentials').text, /^accepted, without machine-to-machine \(sign-in does not need it\): client_credentials was refused with HTTP 400 unauthorized_client /);
    });

    it('an M2M client: accepted, and the token it got is revoked and never printed', async () => {
      const tokens: string[] = [];
      const recording: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (String(input).endsWith('/oauth/token') && response.status === 200) tokens.push(((await response.clone().json()) as { access_token: string }).access_token);
        return response;
      };
      const run = await check({ ...tenant(sandbox, SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET), QLIK_SCOPE: 'user_default' }, recording);
      assert.match(run.line('credentials').text, /^accepted: a client_credentials request got an access token, so this client may also do machine-to-machine; the token it gave was revoked at once$/);
      assert.equal(tokens.length, 1);
      const me = await fetch(`${sandbox.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${tokens[0]}` } });
      assert.equal(me.status, 401, 'the token no longer works');
      assertNoSecret(run, tokens[0]!, SANDBOX_M2M_CLIENT_SECRET);
      // The M2M client has no redirect URI: the authorization endpoint refuses it, and the check says so.
      assert.equal(run.line('authorize').status, 'FAIL');
      assert.match(run.line('authorize').text, /^the tenant refused the authorization request: HTTP 400 OAUTH-1 "redirect_uri is not registered", traceId \w+\. OAUTH-1 means the client ID or the redirect URI is not registered: register exactly http:\/\/localhost:3000\/login\/callback for client "sandbox-m2m-client"/);
      assert.equal(run.line('scope').status, 'warn', 'no offline_access');
    });
  });
});

describe('npm run check against a misconfigured tenant', () => {
  let hostile: HostileTenant;
  before(async () => {
    hostile = await startHostileTenant();
  });
  after(() => hostile.close());
  const run = (changes: Partial<Record<'discovery' | 'authorize' | 'token' | 'revoke', Responder>>, env: Record<string, string> = {}) => {
    hostile.reset();
    hostile.requests.length = 0;
    Object.assign(hostile.on, changes);
    return check({ QLIK_TENANT_URL: hostile.url, QLIK_CLIENT_ID: HOSTILE_CLIENT_ID, QLIK_CLIENT_SECRET: HOSTILE_CLIENT_SECRET, ...env });
  };
  const metadata = (issuer: string) => ({
    issuer,
    authorization_endpoint: `${hostile.url}/oauth/authorize`,
    token_endpoint: `${hostile.url}/oauth/token`,
    revocation_endpoint: `${hostile.url}/oauth/revoke`,
    grant_types_supported: [],
    response_types_supported: [],
  });
  const withDate = (offsetMs: number): Responder => (request, res, tenant) =>
    json(200, metadata(tenant), { date: new Date(Date.now() + offsetMs).toUTCString() })(request, res, tenant);

  it('the honest tenant passes, the token from client_credentials revoked', async () => {
    const result = await run({});
    assert.equal(result.exitCode, 0, result.output);
    for (const line of result.lines) assert.equal(line.status, 'ok', result.output);
    const revokes = hostile.requests.filter((request) => request.path === '/oauth/revoke');
    assert.equal(revokes.length, 1);
    assert.match(revokes[0]!.body, /^token=hst_at_/);
    assertNoSecret(result, HOSTILE_CLIENT_SECRET, new URLSearchParams(revokes[0]!.body).get('token')!);
  });

  it('documented path 404 and the tutorial path redirecting to a login page: discovery FAIL naming both', async () => {
    const result = await run({
      discovery: (request, res, tenant) =>
        request.path === '/.well-known/oauth-authorization-server'
          ? json(404, { errors: [{ code: 'HTTP-404', title: 'Not found' }] })(request, res, tenant)
          : redirect(302, '/login?returnto=%2F.well-known')(request, res, tenant),
    });
    assert.equal(result.exitCode, 1);
    const line = result.line('discovery');
    assert.equal(line.status, 'FAIL');
    assert.equal(
      line.text,
      `neither well-known path gave metadata: ${hostile.url}/.well-known/oauth-authorization-server (RFC 8414, Qlik's documented path) → HTTP 404; ` +
        `${hostile.url}/.well-known/openid-configuration (the tutorial's path) → HTTP 302 redirect to ${hostile.url}/login?returnto=%2F.well-known. ` +
        "Check QLIK_TENANT_URL: it is the tenant's own address, e.g. https://acme.eu.qlikcloud.com (DISCOVERY_FAILED).",
    );
    assert.equal(result.line('authorize').status, 'skip');
    assert.equal(result.line('credentials').status, 'skip');
    assert.ok(!hostile.requests.some((request) => request.path === '/oauth/token'), 'nothing sent to the token endpoint');
  });

  it('metadata only at the documented path (the tutorial path redirects): ok, and says what each answered', async () => {
    const result = await run({
      discovery: (request, res, tenant) =>
        request.path === '/.well-known/oauth-authorization-server' ? json(200, metadata(tenant))(request, res, tenant) : redirect(302, '/login')(request, res, tenant),
    });
    assert.equal(result.exitCode, 0, result.output);
    assert.equal(
      result.line('discovery').text,
      `metadata at ${hostile.url}/.well-known/oauth-authorization-server (RFC 8414, Qlik's documented path); ${hostile.url}/.well-known/openid-configuration (the tutorial's path) → HTTP 302 redirect to ${hostile.url}/login`,
    );
  });

  it('metadata of another issuer: issuer FAIL, with both issuers', async () => {
    const result = await run({ discovery: (request, res, tenant) => json(200, metadata('https://other.eu.qlikcloud.com'))(request, res, tenant) });
    assert.equal(result.exitCode, 1);
    assert.equal(result.line('issuer').status, 'FAIL');
    assert.match(result.line('issuer').text, new RegExp(`^the metadata names issuer "https://other\\.eu\\.qlikcloud\\.com", but QLIK_TENANT_URL gives "${hostile.url.replaceAll('.', '\\.')}"; they must be equal to the letter \\(RFC 8414 §3\\.3, ISSUER_MISMATCH\\)`));
    assert.equal(result.line('credentials').status, 'skip');
  });

  it('a tenant clock 10 minutes ahead: clock FAIL with the numbers', async () => {
    const result = await run({ discovery: withDate(10 * 60_000) });
    assert.equal(result.exitCode, 1);
    assert.equal(result.line('clock').status, 'FAIL');
    assert.match(result.line('clock').text, /^the tenant's clock is (599|600) s \((9\.98|10\.0) min\) ahead of this machine's \(its Date header, .* GMT\); over 5 min\. This machine's clock is wrong/);
  });

  it('a tenant clock 90 s behind: clock warn (exit 0); 10 s: ok', async () => {
    const behind = await run({ discovery: withDate(-90_000) });
    assert.equal(behind.exitCode, 0, behind.output);
    assert.equal(behind.line('clock').status, 'warn');
    assert.match(behind.line('clock').text, /^the tenant's clock is (90|91) s behind this machine's .*over 30 s\. Tokens still work/);
    const close = await run({ discovery: withDate(10_000) });
    assert.equal(close.line('clock').status, 'ok');
    assert.match(close.line('clock').text, /^the tenant's clock is (9|10) s ahead of this machine's \(its Date header\); under 30 s is fine$/);
  });

  it('an unregistered redirect URI (OAUTH-1): authorize FAIL naming the URI to register', async () => {
    const result = await run(
      { authorize: json(400, { errors: [{ code: 'OAUTH-1', title: 'redirect_uri is not registered', status: '400' }], traceId: 'trace-oauth-1' }) },
      { APP_URL: 'https://app.example.com' },
    );
    assert.equal(result.exitCode, 1);
    assert.equal(result.line('redirect URI').text, `register exactly https://app.example.com/login/callback (APP_URL + /login/callback) for client "${HOSTILE_CLIENT_ID}" in Administration activity center → OAuth (older docs: Management Console → OAuth)`);
    assert.match(result.line('authorize').text, /^the tenant refused the authorization request: HTTP 400 OAUTH-1 "redirect_uri is not registered", traceId trace-oauth-1\. .*register exactly https:\/\/app\.example\.com\/login\/callback/);
  });

  const oauth5 = json(401, { errors: [{ title: 'Unauthorized', code: 'OAUTH-5', status: '401' }], traceId: 'trace-5' });
  const firstSaid =
    'client_credentials answered HTTP 401 OAUTH-5 "Unauthorized", traceId trace-5, which proves nothing by itself ' +
    '(Qlik answers "Unauthorized" alike to a wrong ID or secret and to a client without machine-to-machine)';

  it('OAUTH-5 to client_credentials and 200 to any revocation (as Qlik documents it): could not tell, verdict first, exit 0', async () => {
    const result = await run({ token: oauth5 });
    assert.equal(result.exitCode, 0, result.output);
    assert.equal(result.line('credentials').status, 'warn');
    assert.equal(
      result.line('credentials').text,
      'could not tell — sign in with npm start to find out: the revocation endpoint answered HTTP 200 to the configured secret and HTTP 200 to a ' +
        `deliberately wrong one, so it does not tell them apart; ${firstSaid}`,
    );
  });

  it('OAUTH-5 to client_credentials and the same refusal of both secrets at revocation: could not tell, never FAIL', async () => {
    const result = await run({ token: oauth5, revoke: oauth5 });
    assert.equal(result.exitCode, 0, result.output);
    assert.equal(result.line('credentials').status, 'warn');
    assert.match(result.line('credentials').text, /^could not tell — .*answered HTTP 401 OAUTH-5 "Unauthorized" to the configured secret and HTTP 401 OAUTH-5 "Unauthorized" to a deliberately wrong one/);
  });

  it('OAUTH-5 to client_credentials, and a revocation endpoint that takes the configured secret and refuses a wrong one: accepted, verdict first', async () => {
    const result = await run({
      token: oauth5,
      revoke: (request, res, tenant) =>
        new URLSearchParams(request.body).get('client_secret') === HOSTILE_CLIENT_SECRET ? json(200, {})(request, res, tenant) : oauth5(request, res, tenant),
    });
    assert.equal(result.exitCode, 0, result.output);
    assert.equal(result.line('credentials').status, 'ok');
    assert.equal(
      result.line('credentials').text,
      `accepted: the revocation endpoint took the configured ID and secret and refused a deliberately wrong secret (HTTP 401 OAUTH-5 "Unauthorized"); ${firstSaid}`,
    );
  });

  it('a rate-limited token endpoint: credentials warn with the wait, nothing else asked', async () => {
    const result = await run({ token: json(429, { errors: [{ code: 'HTTP-429', title: 'Too Many Requests' }] }, { 'retry-after': '13' }) });
    assert.equal(result.line('credentials').status, 'warn');
    assert.match(result.line('credentials').text, /^not checked: the token endpoint is rate limited \(HTTP 429 HTTP-429 "Too Many Requests"\); Qlik asks to wait 13 s\./);
    assert.ok(!hostile.requests.some((request) => request.path === '/oauth/revoke'));
  });

  it('a tenant that echoes the secret back: the line shows its mark, never the secret', async () => {
    const result = await run({
      token: (request, res, tenant) => {
        const secret = new URLSearchParams(request.body).get('client_secret')!;
        return json(401, { error: 'invalid_client', error_description: `bad secret ${secret}, encoded ${encodeURIComponent(secret)}` })(request, res, tenant);
      },
    }, { QLIK_CLIENT_SECRET: 'secret with spaces/and+plus' });
    assert.equal(result.line('credentials').status, 'FAIL');
    assert.match(result.line('credentials').text, /"bad secret (\[redacted\]|…\(27 chars #[0-9a-f]{4}\)), encoded (\[redacted\]|…\(27 chars #[0-9a-f]{4}\))"/);
    assertNoSecret(result, 'secret with spaces/and+plus', encodeURIComponent('secret with spaces/and+plus'));
  });

  it('a tenant that echoes the secret where the message is cut: no part of it is shown (scrubbed before the cut)', async () => {
    const secret = 'echo-me-0123456789abcdefghijklmnop'; // 34 characters
    // The description is cut at 100 characters, so the secret after 67 would straddle the cut.
    const description = (body: string) => `${'x'.repeat(67)}${new URLSearchParams(body).get('client_secret')}`;
    const result = await run(
      {
        token: (request, res, tenant) => json(401, { error: 'invalid_client', error_description: description(request.body) })(request, res, tenant),
        authorize: (request, res, tenant) => json(400, { errors: [{ code: 'OAUTH-1', title: description(`client_secret=${secret}`) }] })(request, res, tenant),
      },
      { QLIK_CLIENT_SECRET: secret },
    );
    assert.equal(result.line('credentials').status, 'FAIL', result.output);
    assert.equal(result.line('authorize').status, 'FAIL', result.output);
    assertNoSecret(result, secret.slice(0, 8), secret.slice(8, 16), secret.slice(16, 24), secret.slice(-10));
  });

  it('a tenant that echoes the state in its redirect: the state is not shown', async () => {
    const result = await run({
      authorize: (request, res, tenant) => {
        const back = new URL(request.query.get('redirect_uri')!);
        back.search = new URLSearchParams({ error: 'access_denied', error_description: `state was ${request.query.get('state')}`, state: request.query.get('state')! }).toString();
        return redirect(302, back.href)(request, res, tenant);
      },
    });
    assert.equal(result.line('authorize').status, 'FAIL', result.output);
    const state = hostile.requests.find((request) => request.path === '/oauth/authorize')!.query.get('state')!;
    assert.match(result.line('authorize').text, /error=access_denied \(state was …\(43 chars #[0-9a-f]{4}\)\)/);
    assertNoSecret(result, state);
  });
});

describe('npm run check: settings that cannot be used exit 2 before any request', () => {
  it('openid in the scope and a missing secret: each named, the network checks skipped', async () => {
    const result = await check({ QLIK_TENANT_URL: 'https://acme.eu.qlikcloud.com', QLIK_CLIENT_ID: 'abc', QLIK_SCOPE: 'openid user_default' });
    assert.equal(result.exitCode, 2);
    assert.equal(result.line('client').status, 'FAIL');
    assert.match(result.line('client').text, /^QLIK_TENANT_URL is set, but QLIK_CLIENT_SECRET is not\. Fix: Copy it from your OAuth client/);
    assert.equal(result.line('scope').status, 'FAIL');
    assert.match(result.line('scope').text, /asks for "openid"/);
    for (const name of ['discovery', 'issuer', 'clock', 'authorize', 'credentials']) assert.equal(result.line(name).status, 'skip');
  });

  it('a set but empty QLIK_SCOPE: scope is required at /oauth/authorize', async () => {
    const result = await check({ QLIK_TENANT_URL: 'https://acme.eu.qlikcloud.com', QLIK_CLIENT_ID: 'abc', QLIK_CLIENT_SECRET: 'shh-secret-value', QLIK_SCOPE: ' ' });
    assert.equal(result.exitCode, 2);
    assert.equal(result.line('scope').status, 'FAIL');
    assert.match(result.line('scope').text, /^QLIK_SCOPE is set but empty; Qlik requires a scope at \/oauth\/authorize\. Fix: /);
  });

  it('a tenant URL on plain http', async () => {
    const result = await check({ QLIK_TENANT_URL: 'http://acme.eu.qlikcloud.com', QLIK_CLIENT_ID: 'abc', QLIK_CLIENT_SECRET: 'shh-secret-value' });
    assert.equal(result.exitCode, 2);
    assert.match(result.line('tenant URL').text, /^QLIK_TENANT_URL: The tenant URL "http:\/\/acme\.eu\.qlikcloud\.com" cannot be used: it uses plain http on a host that is not this machine\. Fix: /);
    assertNoSecret(result, 'shh-secret-value');
  });

  it('SANDBOX_* next to a real tenant: "these only apply to the sandbox"', async () => {
    const result = await check({ QLIK_TENANT_URL: 'https://acme.eu.qlikcloud.com', QLIK_CLIENT_ID: 'abc', QLIK_CLIENT_SECRET: 'shh-secret-value', SANDBOX_FAULT: 'api-429' });
    assert.equal(result.exitCode, 2);
    assert.deepEqual(result.lines.map((line) => `${line.status} ${line.name}`), ['FAIL settings']);
    assert.match(result.lines[0]!.text, /^SANDBOX_FAULT is set, but QLIK_TENANT_URL is too: these only apply to the sandbox\./);
  });

  it('a client ID without a tenant: refused, not silently replaced by the sandbox', async () => {
    const result = await check({ QLIK_CLIENT_ID: 'abc' });
    assert.equal(result.exitCode, 2);
    assert.match(result.lines[0]!.text, /^QLIK_CLIENT_ID is set, but QLIK_TENANT_URL is not\. Fix: Set QLIK_TENANT_URL/);
  });

  it('a bad PORT with the sandbox: the redirect URI line names it', async () => {
    const result = await check({ PORT: 'eighty' });
    assert.equal(result.exitCode, 2);
    assert.equal(result.line('redirect URI').status, 'FAIL');
    assert.match(result.line('redirect URI').text, /^PORT is "eighty"; it must be a number from 0 to 65535\. Fix: /);
  });

  it('a bad SANDBOX_FAULT with the sandbox', async () => {
    const result = await check({ SANDBOX_FAULT: 'no-such-fault' });
    assert.equal(result.exitCode, 2);
    assert.match(result.lines[0]!.text, /^SANDBOX_FAULT: unknown fault "no-such-fault"/);
  });
});
