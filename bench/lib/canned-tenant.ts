// A tenant that is only a fetch function: every call is answered at once with a new Response shaped
// like the sandbox's (bench/lib/fixtures.ts), so a client-side sign-in can be timed with the network
// taken out. It is injected (src/http.ts HttpOptions.fetch, oauth4webapi's and openid-client's
// customFetch), never installed as the global fetch, and it refuses any origin but its own.

import { ISSUER, METADATA_BODY, USER_BODY, jsonHeaders } from './fixtures.ts';

export type Fetch = typeof globalThis.fetch;

/** One token response, reused: its body is parsed afresh by every client, so reuse costs no fairness. */
const TOKEN_BODY = JSON.stringify({
  access_token: `sbx_at_${'A'.repeat(43)}`,
  token_type: 'bearer',
  expires_in: 21600,
  expires_at: '2030-01-01T06:00:00.000Z',
  scope: 'user_default offline_access',
  refresh_token: `sbx_rt_${'R'.repeat(43)}`,
});

const NOT_FOUND = JSON.stringify({ errors: [{ code: 'HTTP-404', title: 'Not found' }] });

function answer(method: string, path: string): { status: number; body: string } {
  if (method === 'GET' && (path === '/.well-known/openid-configuration' || path === '/.well-known/oauth-authorization-server')) {
    return { status: 200, body: METADATA_BODY };
  }
  if (method === 'POST' && path === '/oauth/token') return { status: 200, body: TOKEN_BODY };
  if (method === 'GET' && path === '/api/v1/users/me') return { status: 200, body: USER_BODY };
  return { status: 404, body: NOT_FOUND };
}

/** Calls answered, by "METHOD /path": the bench checks each client made the calls it claims. */
export interface CannedTally {
  calls: Map<string, number>;
}

/**
 * The canned tenant at ISSUER. With a tally, counts each call (a little slower: used only to check
 * the flows, never while timing).
 */
export function cannedFetch(tally?: CannedTally): Fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const path = url.startsWith(ISSUER) ? new URL(url).pathname : '';
    if (path === '') throw new TypeError(`canned tenant: refusing ${url}, not on ${ISSUER}`);
    if (tally) tally.calls.set(`${method} ${path}`, (tally.calls.get(`${method} ${path}`) ?? 0) + 1);
    const { status, body } = answer(method, path);
    return new Response(body, { status, headers: jsonHeaders(body) });
  };
}
