// Hostile discovery, through the app: createApp() runs discovery (tutorial 3.1) before it listens,
// so a tenant whose metadata is wrong stops the start with the exact error — and nothing listens.
// The tenant is a real server on 127.0.0.1 (test/helpers/hostile-tenant.ts); unit-level cases of the
// same misbehaviour are in tenant-responses.test.ts.

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app/index.ts';
import { QlikOAuthError } from '../../src/errors.ts';
import { type CheckCode } from '../../src/checks.ts';
import { HOSTILE_CLIENT_ID, HOSTILE_CLIENT_SECRET, huge, json, redirect, startHostileTenant, text, type HostileTenant } from '../helpers/hostile-tenant.ts';

let tenant: HostileTenant;
before(async () => {
  tenant = await startHostileTenant();
});
beforeEach(() => tenant.reset());
after(() => tenant.close());

const document = (changes: Record<string, unknown> = {}) => ({
  issuer: tenant.url,
  authorization_endpoint: `${tenant.url}/oauth/authorize`,
  token_endpoint: `${tenant.url}/oauth/token`,
  revocation_endpoint: `${tenant.url}/oauth/revoke`,
  grant_types_supported: [],
  response_types_supported: [],
  ...changes,
});

/** createApp() against the hostile tenant rejects with exactly this class and code, and logs nothing. */
async function startFails(kind: typeof QlikOAuthError, code: CheckCode, port = 0): Promise<QlikOAuthError> {
  const logs: string[] = [];
  const error = await createApp({
    tenantUrl: tenant.url,
    clientId: HOSTILE_CLIENT_ID,
    clientSecret: HOSTILE_CLIENT_SECRET,
    host: '127.0.0.1',
    port,
    log: (line) => logs.push(line),
  }).then(
    async (app) => {
      await app.close();
      return assert.fail(`the app started, expected ${code}`);
    },
    (e: unknown) => e,
  );
  assert.ok(error instanceof kind, `expected ${kind.name}, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.ok(!error.message.includes(HOSTILE_CLIENT_SECRET) && !error.hint.includes(HOSTILE_CLIENT_SECRET));
  assert.deepEqual(logs, []);
  return error;
}

describe('hostile discovery through the app: createApp() refuses to start', () => {
  it('refuses a tenant whose document names another issuer (ISSUER_MISMATCH)', async () => {
    tenant.on.discovery = json(200, document({ issuer: 'https://acme.eu.qlikcloud.com' }));
    const error = await startFails(QlikOAuthError, 'ISSUER_MISMATCH');
    assert.match(error.message, /names issuer "https:\/\/acme\.eu\.qlikcloud\.com"/);
  });

  it('refuses an issuer that differs from the tenant URL only by a trailing slash (ISSUER_MISMATCH)', async () => {
    tenant.on.discovery = json(200, document({ issuer: `${tenant.url}/` }));
    await startFails(QlikOAuthError, 'ISSUER_MISMATCH');
  });

  it('refuses an issuer that differs from the tenant URL only in letter case (ISSUER_MISMATCH)', async () => {
    tenant.on.discovery = json(200, document({ issuer: tenant.url.replace('http://', 'HTTP://') }));
    await startFails(QlikOAuthError, 'ISSUER_MISMATCH');
  });

  it('refuses plain http endpoints off this machine (ENDPOINT_NOT_HTTPS), and sends nothing there', async () => {
    tenant.on.discovery = json(200, document({ token_endpoint: 'http://tenant.example/oauth/token' }));
    const error = await startFails(QlikOAuthError, 'ENDPOINT_NOT_HTTPS');
    assert.match(error.message, /token_endpoint "http:\/\/tenant\.example\/oauth\/token" cannot be used: it uses plain http/);
    assert.deepEqual(tenant.requests.map((r) => r.path).filter((p) => !p.startsWith('/.well-known/')), []);
  });

  it('refuses an HTML page for a document (NOT_JSON)', async () => {
    tenant.on.discovery = text(200, 'text/html; charset=utf-8', '<!doctype html><h1>Welcome to our portal</h1>');
    const error = await startFails(QlikOAuthError, 'DISCOVERY_FAILED');
    assert.match(error.message, /oauth-authorization-server → 200 with a body that came as text\/html; charset=utf-8, not application\/json; .*openid-configuration → 200 with a body that came as text\/html/);
  });

  it('refuses a document that is a JSON array (JSON_NOT_OBJECT)', async () => {
    tenant.on.discovery = json(200, [document()]);
    const error = await startFails(QlikOAuthError, 'DISCOVERY_FAILED');
    assert.match(error.message, /JSON but not an object/);
  });

  it('refuses a document over the 1 MiB cap without reading it all (BODY_TOO_LARGE)', async () => {
    tenant.on.discovery = huge(30 * 1024 * 1024, false);
    const error = await startFails(QlikOAuthError, 'DISCOVERY_FAILED');
    assert.match(error.message, /larger than 1048576 bytes/);
  });

  it('refuses a document without a token endpoint (ENDPOINT_MISSING)', async () => {
    tenant.on.discovery = json(200, document({ token_endpoint: undefined }));
    await startFails(QlikOAuthError, 'ENDPOINT_MISSING');
  });

  it('refuses a tenant that lists PKCE methods without S256 (S256_NOT_SUPPORTED)', async () => {
    tenant.on.discovery = json(200, document({ code_challenge_methods_supported: ['plain'] }));
    await startFails(QlikOAuthError, 'S256_NOT_SUPPORTED');
  });

  it('refuses a redirect from the well-known URL and does not follow it (REDIRECT_REFUSED)', async () => {
    tenant.on.discovery = redirect(302, '/somewhere-else/.well-known/openid-configuration');
    const error = await startFails(QlikOAuthError, 'DISCOVERY_FAILED');
    assert.match(error.message, /a redirect to http:\/\/127\.0\.0\.1:\d+\/somewhere-else/);
    assert.ok(!tenant.requests.some((r) => r.path.startsWith('/somewhere-else')), 'the redirect was not followed');
  });

  it('does not listen at all when discovery fails', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    tenant.on.discovery = json(200, document({ issuer: 'https://elsewhere.example' }));
    await startFails(QlikOAuthError, 'ISSUER_MISMATCH', port);
    const refused = await new Promise<string>((resolve) => {
      request({ host: '127.0.0.1', port, path: '/' }, () => resolve('answered'))
        .on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
        .end();
    });
    assert.equal(refused, 'ECONNREFUSED');
  });
});
