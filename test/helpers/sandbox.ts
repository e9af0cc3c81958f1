// Helpers for the sandbox's tests: drive a real sandbox on 127.0.0.1 with fetch (redirect: 'manual').
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';

export const REDIRECT_URI = 'http://localhost:3000/login/callback';
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
export const JSON_TYPE = { 'content-type': 'application/json' };

/** A manual clock, so code and token lifetimes can be crossed without waiting. */
export function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let time = Date.UTC(2025, 0, 1);
  return { now: () => time, advance: (ms) => (time += ms) };
}

/** Runs `fn` against a fresh sandbox (the web client already has REDIRECT_URI), then closes it. */
export async function withSandbox(options: SandboxOptions, fn: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = await startSandbox(options);
  if (sb.clients().some((client) => client.clientId === SANDBOX_CLIENT_ID)) sb.addRedirectUri(SANDBOX_CLIENT_ID, REDIRECT_URI);
  try {
    await fn(sb);
  } finally {
    await sb.close();
  }
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url'); // 43 characters
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** An authorization URL; an override of `undefined` removes that parameter. */
export function authorizeUrl(sb: Sandbox, challenge: string, overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    client_id: SANDBOX_CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'user_default offline_access',
    state: 'state-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value);
  return `${sb.url}/oauth/authorize?${query}`;
}

export const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { redirect: 'manual', headers });
export const post = (url: string, body: Record<string, string> | string, headers: Record<string, string> = FORM) =>
  fetch(url, { method: 'POST', redirect: 'manual', headers, body: typeof body === 'string' ? body : new URLSearchParams(body) });
export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', redirect: 'manual', headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(body) });

/** GET /oauth/authorize and return the consent page's tx. */
export async function startConsent(url: string): Promise<string> {
  const res = await get(url);
  const html = await res.text();
  assert.equal(res.status, 200, html);
  const tx = /name="tx" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(tx, 'consent page has a tx field');
  return tx;
}

/** POST the consent decision and return the redirect Location as a URL. */
export async function decide(sb: Sandbox, tx: string, decision: 'allow' | 'deny', user = 'ada'): Promise<URL> {
  const res = await post(`${sb.url}/oauth/authorize/decision`, { tx, decision, user });
  assert.equal(res.status, 302, await res.text());
  return new URL(res.headers.get('location')!);
}

/** Authorize + allow: returns the code and the verifier that goes with it. */
export async function getCode(sb: Sandbox, overrides: Record<string, string | undefined> = {}, user = 'ada') {
  const { verifier, challenge } = pkcePair();
  const tx = await startConsent(authorizeUrl(sb, challenge, overrides));
  const location = await decide(sb, tx, 'allow', user);
  const code = location.searchParams.get('code');
  assert.ok(code, `redirect has a code: ${location}`);
  return { code, verifier, location };
}

/** The body of an authorization_code exchange; an override of `undefined` removes that parameter. */
export function exchangeBody(code: string, verifier: string, overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    client_id: SANDBOX_CLIENT_ID,
    client_secret: SANDBOX_CLIENT_SECRET,
    ...overrides,
  };
  const body: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) if (value !== undefined) body[name] = value;
  return body;
}

export function exchange(sb: Sandbox, code: string, verifier: string, overrides: Record<string, string | undefined> = {}, headers: Record<string, string> = FORM) {
  return post(`${sb.url}/oauth/token`, exchangeBody(code, verifier, overrides), headers);
}

export interface Tokens {
  access_token: string;
  token_type: string;
  expires_in?: number;
  expires_at: string;
  scope: string;
  refresh_token?: string;
  auth_time?: number;
  issued_token_type?: string;
}

/** The whole sign-in: authorize, allow, exchange. */
export async function signIn(sb: Sandbox, overrides: Record<string, string | undefined> = {}, user = 'ada'): Promise<Tokens> {
  const { code, verifier } = await getCode(sb, overrides, user);
  const res = await exchange(sb, code, verifier);
  assert.equal(res.status, 200);
  return (await res.json()) as Tokens;
}

export function refresh(sb: Sandbox, refreshToken: string, extra: Record<string, string> = {}) {
  return post(`${sb.url}/oauth/token`, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: SANDBOX_CLIENT_ID,
    client_secret: SANDBOX_CLIENT_SECRET,
    ...extra,
  });
}

/** GET /api/v1/users/me, following its documented 301 (same origin: fetch keeps the Authorization header). */
export const me = (sb: Sandbox, accessToken: string) => fetch(`${sb.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${accessToken}` } });

export function basic(clientId: string, secret: string): string {
  const encode = (text: string) => encodeURIComponent(text).replaceAll('%20', '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

export interface QlikErrors {
  error?: string;
  error_description?: string;
  errors: { code: string; title: string; detail?: string; status: string | number }[];
  traceId: string;
}

/** Asserts a Qlik-shaped error with a traceId: status, code, `status` (a string on /oauth/*, else a number); returns the body. */
export async function assertQlikError(res: Response, status: number, code: string): Promise<QlikErrors> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = JSON.parse(text) as QlikErrors;
  assert.equal(body.errors.length, 1);
  assert.equal(body.errors[0]!.code, code, text);
  assert.equal(body.errors[0]!.status, new URL(res.url).pathname.startsWith('/oauth/') ? String(status) : status);
  assert.equal(typeof body.errors[0]!.title, 'string');
  assert.match(body.traceId, /^[0-9a-f]{32}$/, text);
  return body;
}

/** Asserts exactly a real tenant's terse answer: `{"errors":[{"title","code","status"}],"traceId"}`. */
export async function assertTerse(res: Response, status: number, code: string, title: string): Promise<void> {
  const body = await assertQlikError(res, status, code);
  assert.deepEqual(Object.keys(body), ['errors', 'traceId']);
  assert.deepEqual(body.errors[0], { title, code, status: String(status) });
}

/** Asserts the detailed style: the sandbox's own code, a detail, and RFC 6749 §5.2's error. */
export async function assertDetailed(res: Response, status: number, code: string, rfcError: string): Promise<QlikErrors> {
  const body = await assertQlikError(res, status, code);
  assert.equal(body.error, rfcError, JSON.stringify(body));
  assert.ok(body.error_description);
  assert.ok(body.errors[0]!.detail);
  return body;
}

/** Asserts an authorization error redirect back to `redirectUri` and returns its parameters. */
export function assertErrorRedirect(res: Response, error: string, errorCode: string, sb: Sandbox, redirectUri = REDIRECT_URI): URLSearchParams {
  assert.equal(res.status, 302);
  const location = new URL(res.headers.get('location')!);
  assert.equal(`${location.origin}${location.pathname}`, redirectUri);
  assert.equal(location.searchParams.get('error'), error);
  assert.equal(location.searchParams.get('error_code'), errorCode);
  assert.ok(location.searchParams.get('error_description'));
  assert.ok(location.searchParams.get('error_detail'));
  assert.equal(location.searchParams.get('iss'), sb.url);
  return location.searchParams;
}
