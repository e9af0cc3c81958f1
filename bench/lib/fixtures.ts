// Crafted tenant responses, shaped like the sandbox's (src/sandbox/), which follows Qlik's documented
// shapes: what the client-CPU bench feeds to the steps' processing halves, and what the memory bench
// stores in sessions. Nothing here goes over the network.

import { randomBytes } from 'node:crypto';
import type { HttpResult } from '../../src/http.ts';
import type { TenantMetadata } from '../../src/3.1-discovery.ts';
import type { ClientConfig } from '../../src/client.ts';

export const ISSUER = 'https://acme.eu.qlikcloud.com';
export const APP_ORIGIN = 'https://app.example.com';
export const CLIENT: ClientConfig & { clientSecret: string } = {
  clientId: 'sandbox-web-client',
  clientSecret: 'sandbox-secret-not-for-production',
  redirectUri: `${APP_ORIGIN}/login/callback`,
};
export const SCOPE = 'user_default offline_access';

/** The sandbox's JSON response headers (src/sandbox/respond.ts sendJson), as fetch would give them. */
export function jsonHeaders(body: string): Record<string, string> {
  return {
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'content-length': String(Buffer.byteLength(body)),
    'content-type': 'application/json',
    date: new Date().toUTCString(),
    'keep-alive': 'timeout=5',
    'x-content-type-options': 'nosniff',
  };
}

export function result(body: string, status = 200): HttpResult {
  return { status, headers: new Headers(jsonHeaders(body)), body };
}

/** RFC 8414 metadata as Qlik's example (and the sandbox) shapes it. */
export const METADATA_BODY = JSON.stringify({
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/oauth/authorize`,
  token_endpoint: `${ISSUER}/oauth/token`,
  revocation_endpoint: `${ISSUER}/oauth/revoke`,
  jwks_uri: `${ISSUER}/.well-known/jwks.json`,
  grant_types_supported: [],
  response_types_supported: [],
});

export const METADATA: TenantMetadata = {
  issuer: ISSUER,
  authorizationEndpoint: `${ISSUER}/oauth/authorize`,
  tokenEndpoint: `${ISSUER}/oauth/token`,
  revocationEndpoint: `${ISSUER}/oauth/revoke`,
  usersMeEndpoint: `${ISSUER}/api/v1/users/me`,
  issParameterSupported: false,
  tokenEndpointAuthMethods: [],
  document: JSON.parse(METADATA_BODY) as Record<string, unknown>,
};

const random = (prefix: string) => prefix + randomBytes(32).toString('base64url');

/** A token response (RFC 6749 §5.1 with Qlik's expires_at), with fresh opaque tokens. */
export function tokenBody(now = Date.now()): string {
  return JSON.stringify({
    access_token: random('sbx_at_'),
    token_type: 'bearer',
    expires_in: 21600,
    expires_at: new Date(now + 21_600_000).toISOString(),
    scope: SCOPE,
    refresh_token: random('sbx_rt_'),
  });
}

/** GET /api/v1/users/me, as the sandbox answers it (src/sandbox/fake-data.ts userFor). */
export const USER_BODY = JSON.stringify({
  id: '6512b1c2e2d9a4f0b1c2d3e4',
  name: 'Ada Lovelace',
  subject: 'sandbox|ada',
  tenantId: 'Sx1bZ2yL8gQ9aT3kW4nE5rV6u7iO8pA9',
  email: 'ada@sandbox.example',
  status: 'active',
  createdAt: '2024-01-15T09:30:00.000Z',
  lastUpdatedAt: '2024-01-15T09:30:00.000Z',
  assignedRoles: [{ id: '65a1b2c3d4e5f60718293a4b', name: 'Developer', type: 'default', level: 'user' }],
  links: { self: { href: `${ISSUER}/api/v1/users/6512b1c2e2d9a4f0b1c2d3e4` } },
});

/** The callback the tenant sends the browser to, as RFC 6749 §4.1.2 and RFC 9207 §2 shape it. */
export function callbackUrl(state: string, code = random('sbx_ac_')): string {
  const query = new URLSearchParams({ code, state, iss: ISSUER });
  return `${CLIENT.redirectUri}?${query}`;
}

/**
 * Issue 12's memory attack, per anonymous session: this many callbacks, each repeating a parameter
 * name this long (so the URL stays under node:http's 16 KB header limit).
 */
export const HOSTILE_CALLBACKS = 3;
export const HOSTILE_NAME_BYTES = 7 * 1024;
