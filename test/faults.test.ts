// Faults: a tenant that is slow, down, or dies mid-answer — at start, at the callback, for many
// requests at once — and the process being stopped while a request waits on the tenant. Each time
// the user gets a page within the configured timeout, and the app keeps serving.
//
// Not repeated here (test/app-failures.test.ts has them): the tenant down at the callback, the token
// endpoint hanging or answering 500/HTML, a 429 at sign-in, a browser that gives up. The tenant
// down when `npm start` starts: test/app-main.test.ts (exit code 1, on purpose: docs/security.md).

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import { createApp } from '../src/app/index.ts';
import { QlikOAuthError } from '../src/errors.ts';
import { Browser } from './helpers/browser.ts';
import { HONEST, HOSTILE_CLIENT_ID, HOSTILE_CLIENT_SECRET, delayed, hang, hostileSignIn, json, reset, startHostileStack, startHostileTenant, tokenResponse, type HostileStack, type Responder } from './helpers/hostile-tenant.ts';
import { assertErrorPage } from './helpers/pages.ts';

describe('faults at start: createApp() gives up within the timeout', () => {
  it('rejects with TIMEOUT when discovery hangs', async () => {
    const tenant = await startHostileTenant();
    tenant.on.discovery = hang();
    try {
      const started = performance.now();
      const start = createApp({ tenantUrl: tenant.url, clientId: HOSTILE_CLIENT_ID, clientSecret: HOSTILE_CLIENT_SECRET, host: '127.0.0.1', port: 0, timeoutMs: 300 });
      await assert.rejects(start, (e: unknown) => e instanceof QlikOAuthError && e.code === 'TIMEOUT' && /within 300 ms/.test(e.message));
      assert.ok(performance.now() - started < 2_000);
    } finally {
      await tenant.close();
    }
  });

  it('rejects with DISCOVERY_FAILED when discovery answers 500 at both paths', async () => {
    const tenant = await startHostileTenant();
    tenant.on.discovery = json(500, { errors: [{ code: 'HTTP-500', title: 'Internal error' }] });
    try {
      const start = createApp({ tenantUrl: tenant.url, clientId: HOSTILE_CLIENT_ID, clientSecret: HOSTILE_CLIENT_SECRET, host: '127.0.0.1', port: 0 });
      await assert.rejects(start, (e: unknown) => e instanceof QlikOAuthError && e.code === 'DISCOVERY_FAILED' && /HTTP 500; /.test(e.message));
    } finally {
      await tenant.close();
    }
  });
});

describe('faults at the callback', () => {
  let stack: HostileStack;
  before(async () => {
    stack = await startHostileStack({ timeoutMs: 400 });
  });
  beforeEach(() => stack.tenant.reset());
  after(() => stack.close());

  it('shows 504 when the users API hangs past the timeout, and serves the next request', async () => {
    stack.tenant.on.usersMe = hang();
    const browser = new Browser();
    const started = performance.now();
    const { final } = await hostileSignIn(browser, stack.app);
    assertErrorPage(final, 504, 'TIMEOUT', /GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/users\/me did not finish within 400 ms/);
    assert.ok(performance.now() - started < 2_000);
    assert.equal((await browser.get(`${stack.app.url}/`)).status, 200);
  });

  it('shows 502 when the token endpoint dies halfway through its answer', async () => {
    stack.tenant.on.token = (_request, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 500 });
      res.write('{"access_token":"hst_at_half');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const browser = new Browser();
    assertErrorPage((await hostileSignIn(browser, stack.app)).final, 502, 'NETWORK_ERROR');
    assert.equal((await browser.get(`${stack.app.url}/`)).status, 200);
  });

  it('completes a sign-in when the tenant is slow but within the timeout', async () => {
    stack.tenant.on.token = delayed(150, HONEST.token);
    stack.tenant.on.usersMe = delayed(150, HONEST.usersMe);
    const { final } = await hostileSignIn(new Browser(), stack.app);
    assert.equal(final.status, 200);
    assert.match(final.body, /Signed in as Hal Hostile/);
  });

  it('signs in again once the tenant recovers from being down, failing, and hanging', async () => {
    const browser = new Browser();
    const faults: [Responder, number][] = [[reset(), 502], [json(500, { errors: [{ code: 'HTTP-500', title: 'Oops' }] }), 502], [hang(), 504]];
    for (const [fault, status] of faults) {
      stack.tenant.on.token = fault;
      assert.equal((await hostileSignIn(browser, stack.app)).final.status, status);
    }
    stack.tenant.reset();
    const { final } = await hostileSignIn(browser, stack.app);
    assert.match(final.body, /Signed in as Hal Hostile/);
  });

  it('keeps answering other requests at once while 20 callbacks wait on a hanging tenant', async () => {
    // The tenant holds every token request until the home page has been answered, then answers:
    // no timeout races the check, however loaded the machine (the time-out itself: the tests above).
    const slow = await startHostileStack({ timeoutMs: 30_000 });
    try {
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      slow.tenant.on.token = async (request, res, tenant) => {
        await released;
        await HONEST.token(request, res, tenant);
      };
      let answered = 0;
      const waiting = Array.from({ length: 20 }, () => hostileSignIn(new Browser(), slow.app).finally(() => (answered += 1)));
      for (let i = 0; i < 1_000 && slow.tenant.requests.filter((r) => r.path === '/oauth/token').length < 20; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(slow.tenant.requests.filter((r) => r.path === '/oauth/token').length, 20, 'all 20 wait on the tenant');
      const home = await new Browser().get(`${slow.app.url}/`);
      assert.equal(home.status, 200);
      assert.equal(answered, 0, 'the home page was answered while all 20 callbacks still waited');
      release();
      for (const { final } of await Promise.all(waiting)) assert.match(final.body, /Signed in as Hal Hostile/);
    } finally {
      await slow.close();
    }
  });
});

describe('faults: the process is stopped mid-request', () => {
  const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const TSX = import.meta.resolve('tsx');

  it('finishes a callback waiting on a slow token endpoint after SIGTERM, then exits 0', async () => {
    const tenant = await startHostileTenant();
    tenant.on.token = delayed(1_000, json(200, tokenResponse()));
    const { PATH, HOME } = process.env;
    const cwd = mkdtempSync(join(tmpdir(), 'faults-main-'));
    after(() => rmSync(cwd, { recursive: true, force: true }));
    const child = spawn(process.execPath, ['--import', TSX, MAIN], {
      cwd,
      env: { PATH, HOME, QLIK_TENANT_URL: tenant.url, QLIK_CLIENT_ID: HOSTILE_CLIENT_ID, QLIK_CLIENT_SECRET: HOSTILE_CLIENT_SECRET, PORT: '0', TRACE: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let url: string | undefined;
      for (let i = 0; i < 300 && url === undefined && child.exitCode === null; i += 1) {
        url = /Open +(http:\/\/localhost:\d+)\n/.exec(stdout)?.[1];
        if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(url, `main.ts did not start:\n${stdout}\n${stderr}`);

      // /login → the tenant signs in at once → the callback, which now waits 1 s on the token endpoint.
      const browser = new Browser();
      const toTenant = await browser.get(`${url}/login`);
      const back = await browser.get(toTenant.location!);
      const callback = browser.get(back.location!);
      for (let i = 0; i < 100 && !tenant.requests.some((r) => r.path === '/oauth/token'); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(tenant.requests.some((r) => r.path === '/oauth/token'), 'the callback is waiting on the token endpoint');

      const stopped = performance.now();
      child.kill('SIGTERM');
      const answer = await callback;
      assert.equal(answer.status, 302, answer.body.slice(0, 300));
      assert.equal(answer.location, `${url}/`);
      assert.ok(answer.headers.getSetCookie().some((line) => /^sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/.test(line)));
      assert.equal(await exited, 0, stderr);
      assert.ok(performance.now() - stopped < 3_000, 'exited once the request was answered, before the 3 s cut-off');
      assert.match(stdout, /SIGTERM: stopping…/);
      assert.equal(stderr, '');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await tenant.close();
    }
  });
});

describe('faults: sign-out while an API call waits on the tenant', () => {
  it('lets no refresh start after sign-out, so every refresh token issued is revoked', async () => {
    const stack = await startHostileStack();
    try {
      const browser = new Browser();
      const issued: string[] = [];
      stack.tenant.on.token = (req, res, t) => {
        const tokens = tokenResponse();
        issued.push(tokens.refresh_token as string);
        return json(200, tokens)(req, res, t);
      };
      await hostileSignIn(browser, stack.app);
      // The access token has died at the tenant; the 401 arrives while the sign-out is under way.
      stack.tenant.on.usersMe = delayed(300, json(401, { errors: [{ code: 'HTTP-401', title: 'Unauthorized' }] }));
      stack.tenant.on.revoke = delayed(500, HONEST.revoke);
      const me = browser.get(`${stack.app.url}/api/me`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const out = await browser.request(`${stack.app.url}/logout`, { method: 'POST', origin: stack.app.url });
      assert.equal(out.status, 302);
      assert.equal((await me).status, 401);
      await new Promise((resolve) => setTimeout(resolve, 800));
      const revoked = stack.tenant.requests.filter((r) => r.path === '/oauth/revoke').map((r) => new URLSearchParams(r.body).get('token'));
      assert.deepEqual(issued.filter((token) => !revoked.includes(token)), [], 'a refresh token was left valid');
    } finally {
      await stack.close();
    }
  });
});
