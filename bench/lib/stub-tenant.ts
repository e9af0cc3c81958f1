// A tenant that lives inside globalThis.fetch, for the memory bench: the app's calls to the tenant
// (src/http.ts uses the global fetch) are answered in-process with the sandbox's response shapes
// (bench/lib/fixtures.ts), so a sign-in costs no tenant work and no socket, and nothing but the app
// grows in this process's heap. It accepts any code and any token: the app's checks still all run.
//
// Its origin is 127.0.0.1 port 1: a request it did not intercept would be refused on loopback,
// never sent anywhere else.

import { jsonHeaders, tokenBody, USER_BODY } from './fixtures.ts';
import type { Fetch } from './browser.ts';

export const STUB_TENANT = 'http://127.0.0.1:1';

const METADATA_BODY = JSON.stringify({
  issuer: STUB_TENANT,
  authorization_endpoint: `${STUB_TENANT}/oauth/authorize`,
  token_endpoint: `${STUB_TENANT}/oauth/token`,
  revocation_endpoint: `${STUB_TENANT}/oauth/revoke`,
  jwks_uri: `${STUB_TENANT}/.well-known/jwks.json`,
  grant_types_supported: [],
  response_types_supported: [],
});

const SPACES_BODY = JSON.stringify({
  data: [1, 2, 3, 4, 5].map((i) => ({ id: `space-${i}`, name: `Space ${i}`, type: 'shared' })),
  links: { self: { href: `${STUB_TENANT}/api/v1/spaces?limit=5` } },
});

function answer(method: string, path: string): { status: number; body: string } {
  if (method === 'GET' && path === '/.well-known/openid-configuration') return { status: 200, body: METADATA_BODY };
  if (method === 'POST' && path === '/oauth/token') return { status: 200, body: tokenBody() };
  if (method === 'POST' && path === '/oauth/revoke') return { status: 200, body: '' };
  if (method === 'GET' && path === '/api/v1/users/me') return { status: 200, body: USER_BODY };
  if (method === 'GET' && path === '/api/v1/spaces') return { status: 200, body: SPACES_BODY };
  return { status: 404, body: JSON.stringify({ errors: [{ code: 'HTTP-404', title: 'Not found' }] }) };
}

/** Replaces globalThis.fetch; returns the original, for the browser's own requests to the app. */
export function installStubTenant(): Fetch {
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== STUB_TENANT) return original(input, init);
    const { status, body } = answer(init?.method ?? 'GET', url.pathname);
    return new Response(body, { status, headers: jsonHeaders(body) });
  };
  return original;
}
