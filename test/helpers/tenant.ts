// A Qlik-shaped tenant for unit tests, mocked with msw at the fetch boundary.
// The tenant URL is a loopback address that nothing listens on: if msw ever let a request
// through, it would fail rather than leave this machine.
import { setupServer } from 'msw/node';
import type { HttpResult } from '../../src/http.ts';
import type { TenantMetadata } from '../../src/3.1-discovery.ts';
import type { ClientConfig } from '../../src/client.ts';

export const TENANT = 'http://127.0.0.1:9';

/** Qlik's documented discovery document: empty lists, no userinfo, no PKCE methods listed. */
export function qlikMetadataDocument(issuer = TENANT): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: [],
    response_types_supported: [],
  };
}

export const METADATA: TenantMetadata = {
  issuer: TENANT,
  authorizationEndpoint: `${TENANT}/oauth/authorize`,
  tokenEndpoint: `${TENANT}/oauth/token`,
  revocationEndpoint: `${TENANT}/oauth/revoke`,
  usersMeEndpoint: `${TENANT}/api/v1/users/me`,
  issParameterSupported: false,
  tokenEndpointAuthMethods: [],
  document: qlikMetadataDocument(),
};

export const CLIENT: ClientConfig & { clientSecret: string } = {
  clientId: 'test-client-id',
  clientSecret: 'test-client-secret-0123456789',
  redirectUri: 'http://localhost:3000/login/callback',
};

/** A token response as Qlik's reference documents it: expires_at, lower-case bearer, no expires_in. */
export const qlikTokens = (extra: Record<string, unknown> = {}) => ({
  access_token: 'at-0123456789',
  token_type: 'bearer',
  expires_at: new Date(Date.now() + 6 * 3600_000).toISOString(),
  refresh_token: 'rt-0123456789',
  scope: 'user_default offline_access',
  ...extra,
});

export const QLIK_USER = {
  id: '65f0c0ffee0123456789abcd',
  tenantId: 'Xq1TenantIdAbCdEfGhIjKlMnOpQrStU',
  status: 'active',
  subject: 'auth0|a1b2c3',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  assignedRoles: [{ id: 'r1', name: 'Analyzer', type: 'default', level: 'user' }],
  links: { self: { href: `${TENANT}/api/v1/users/65f0c0ffee0123456789abcd` } },
};

/** Starts msw for one test file; unhandled requests are errors, so nothing slips through. */
export function mockTenant() {
  const server = setupServer();
  server.listen({ onUnhandledRequest: 'error' });
  return server;
}

/** A fully read response, as httpRequest() returns it, for the processing halves of the steps. */
export function result(status: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  const isText = typeof body === 'string';
  return {
    status,
    headers: new Headers({ 'content-type': isText ? 'text/plain' : 'application/json', ...headers }),
    body: isText ? body : JSON.stringify(body),
  };
}
