// A tenant that misbehaves on request: a real HTTP server on 127.0.0.1 whose every endpoint a test
// can reprogram. Out of the box it is an honest, minimal Qlik tenant that signs anyone in at once
// (the authorize endpoint redirects straight back with a code, no consent page), so a test changes
// only the one endpoint it is about and drives the app end to end through everything else.
//
// Unlike msw (test/helpers/tenant.ts), nothing is mocked inside the process: the app's fetch talks
// to a real socket, so timeouts, dripping bodies, resets and huge bodies behave as on the wire. It
// also works for an app running in another process (main.ts, the SIGTERM test).

import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createApp, type App, type AppOptions } from '../../src/app/index.ts';
import { Browser, type Page } from './browser.ts';

/** One request to the tenant, read in full. */
export interface TenantRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers one request. `tenant` is the tenant's own URL (its issuer). */
export type Responder = (request: TenantRequest, res: ServerResponse, tenant: string) => void | Promise<void>;

export type Endpoint = 'discovery' | 'authorize' | 'token' | 'usersMe' | 'spaces' | 'revoke';

const ROUTES: Record<string, Endpoint> = {
  // Both well-known paths answer alike, so a non-document is seen at both (3.1-discovery.ts falls back).
  'GET /.well-known/oauth-authorization-server': 'discovery',
  'GET /.well-known/openid-configuration': 'discovery',
  'GET /oauth/authorize': 'authorize',
  'POST /oauth/token': 'token',
  'GET /api/v1/users/me': 'usersMe',
  'GET /api/v1/spaces': 'spaces',
  'POST /oauth/revoke': 'revoke',
};

export const HOSTILE_CLIENT_ID = 'hostile-client';
export const HOSTILE_CLIENT_SECRET = 'hostile-client-secret-0123456789';
/** The name every sign-in through the honest tenant gets. */
export const HOSTILE_USER_NAME = 'Hal Hostile';

// ------------------------------------------------------------------ responders a test can use

/** A JSON answer. `body` is serialised unless it is a string (then sent as is: broken JSON, say). */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Responder {
  return (_request, res) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
}

/** Any answer with the given content type (or none, with `contentType` undefined). */
export function text(status: number, contentType: string | undefined, body: string, headers: Record<string, string> = {}): Responder {
  return (_request, res) => {
    res.writeHead(status, { ...(contentType ? { 'content-type': contentType } : {}), 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };
}

/** A redirect; a relative `location` is taken against the tenant. */
export function redirect(status: number, location: string): Responder {
  return (_request, res, tenant) => {
    res.writeHead(status, { location: new URL(location, tenant).href, 'content-length': 0 });
    res.end();
  };
}

/** Never answers; the socket stays open until the client gives up or the tenant closes. */
export function hang(): Responder {
  return () => {};
}

/** Cuts the connection without a word. */
export function reset(): Responder {
  return (_request, res) => {
    res.socket?.destroy();
  };
}

/** Answers with `honest` after `ms` milliseconds. */
export function delayed(ms: number, honest: Responder): Responder {
  return async (request, res, tenant) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (!res.destroyed) await honest(request, res, tenant);
  };
}

/**
 * A 200 JSON body of `bytes` bytes, streamed with backpressure, so 30 MB cost no memory here. With
 * `declareLength` false it is sent chunked, so the client finds out only by counting.
 */
export function huge(bytes: number, declareLength: boolean): Responder {
  return async (_request, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...(declareLength ? { 'content-length': bytes } : {}) });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    while (sent < bytes && !res.destroyed) {
      const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
      sent += piece.length;
      if (!res.write(piece)) await drained(res);
    }
    if (!res.destroyed) res.end();
  };
}

/** Resolves when the response can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Headers at once, then `body` one byte every `everyMs` — a tenant stuck mid-answer. */
export function drip(body: string, everyMs: number): Responder {
  return async (_request, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    for (const byte of Buffer.from(body)) {
      if (res.destroyed) return;
      res.write(Buffer.of(byte));
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
    if (!res.destroyed) res.end();
  };
}

// ------------------------------------------------------------------ the honest tenant

function metadata(tenant: string): Record<string, unknown> {
  return {
    issuer: tenant,
    authorization_endpoint: `${tenant}/oauth/authorize`,
    token_endpoint: `${tenant}/oauth/token`,
    revocation_endpoint: `${tenant}/oauth/revoke`,
    jwks_uri: `${tenant}/.well-known/jwks.json`,
    grant_types_supported: [],
    response_types_supported: [],
  };
}

/** A Qlik-shaped user. */
export function hostileUser(name = HOSTILE_USER_NAME): Record<string, unknown> {
  return { id: '65f0c0ffee0123456789abcd', name, subject: 'hostile|hal', tenantId: 'hostile-tenant', email: 'hal@hostile.example' };
}

/** The token response an honest tenant sends (the tokens are fresh and random). */
export function tokenResponse(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    access_token: `hst_at_${randomBytes(24).toString('base64url')}`,
    token_type: 'bearer',
    expires_in: 21600,
    refresh_token: `hst_rt_${randomBytes(24).toString('base64url')}`,
    scope: 'user_default offline_access',
    ...changes,
  };
}

/** What each endpoint does when a test has not changed it. */
export const HONEST: Record<Endpoint, Responder> = {
  discovery: (_request, res, tenant) => json(200, metadata(tenant))(_request, res, tenant),
  // Signs the user in at once: straight back to the redirect URI with a code, the state and iss.
  authorize: (request, res, tenant) => {
    const back = new URL(request.query.get('redirect_uri') ?? '');
    back.searchParams.set('code', `hst_ac_${randomBytes(16).toString('base64url')}`);
    back.searchParams.set('state', request.query.get('state') ?? '');
    back.searchParams.set('iss', tenant);
    redirect(302, back.href)(request, res, tenant);
  },
  token: (request, res, tenant) => json(200, tokenResponse(), { 'cache-control': 'no-store' })(request, res, tenant),
  usersMe: json(200, hostileUser()),
  spaces: json(200, { data: [], links: {} }),
  revoke: text(200, undefined, ''),
};

export interface HostileTenant {
  /** e.g. http://127.0.0.1:54321, also the issuer. */
  url: string;
  /** The responder of each endpoint. Set one to make it misbehave; reset() makes them honest again. */
  on: Record<Endpoint, Responder>;
  /** Every request the tenant received, oldest first. */
  requests: TenantRequest[];
  reset(): void;
  close(): Promise<void>;
}

/** Starts the tenant on 127.0.0.1, on an ephemeral port. */
export async function startHostileTenant(): Promise<HostileTenant> {
  const requests: TenantRequest[] = [];
  const on: Record<Endpoint, Responder> = { ...HONEST };
  let url = '';
  const server = createServer((req, res) => {
    res.on('error', () => {}); // a client that gave up mid-body: nothing to do
    req.on('error', () => {});
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 64 * 1024) chunks.push(chunk);
    });
    req.on('end', () => {
      const target = new URL(req.url ?? '/', 'http://tenant.invalid');
      const request: TenantRequest = {
        method: req.method ?? 'GET',
        path: target.pathname,
        query: target.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      const endpoint = ROUTES[`${request.method} ${request.path}`];
      const responder = endpoint === undefined ? json(404, { errors: [{ code: 'HTTP-404', title: 'Not found' }] }) : on[endpoint];
      Promise.resolve(responder(request, res, url)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    on,
    requests,
    reset: () => Object.assign(on, HONEST),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // hanging and dripping answers too
      }),
  };
}

// ------------------------------------------------------------------ the app in front of it

export interface HostileStack {
  tenant: HostileTenant;
  app: App;
  /** The app's log lines. */
  logs: string[];
  close(): Promise<void>;
}

/** The hostile tenant and the app, both on 127.0.0.1. Discovery runs at start, so the tenant must answer it. */
export async function startHostileStack(app: Partial<AppOptions> = {}): Promise<HostileStack> {
  const tenant = await startHostileTenant();
  const logs: string[] = [];
  try {
    const started = await createApp({
      tenantUrl: tenant.url,
      clientId: HOSTILE_CLIENT_ID,
      clientSecret: HOSTILE_CLIENT_SECRET,
      host: '127.0.0.1',
      port: 0,
      log: (line) => logs.push(line),
      ...app,
    });
    return {
      tenant,
      app: started,
      logs,
      close: async () => {
        await started.close();
        await tenant.close();
      },
    };
  } catch (error) {
    await tenant.close();
    throw error;
  }
}

/** A whole sign-in through the hostile tenant: /login, the tenant's instant redirect back, the callback and what follows. */
export async function hostileSignIn(browser: Browser, app: App): Promise<{ hops: Page[]; callback: Page; final: Page }> {
  const hops = await browser.follow(`${app.url}/login`);
  const callback = hops.find((page) => new URL(page.url).pathname === '/login/callback');
  if (callback === undefined) throw new Error(`The sign-in never reached the callback: ${hops.map((p) => `${p.status} ${p.url}`).join(' → ')}`);
  return { hops, callback, final: hops.at(-1)! };
}
