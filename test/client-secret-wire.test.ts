// Where the client secret goes, asserted on the wire for every client type: a public client never
// sends one; a confidential client sends it to the token and revocation endpoints only — never to
// a Qlik REST API, whatever grant got the token (RFC 6749 §2.3.1, RFC 6750 §2.1, RFC 7009 §2.1).
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { exchangeCode } from '../src/3.3-token.ts';
import { closeSession, qlikFetch, type QlikSession } from '../src/lifecycle.ts';
import { clientCredentialsToken, impersonationToken, machineSession } from '../src/machine.ts';
import type { ClientConfig } from '../src/client.ts';
import { METADATA, QLIK_USER, TENANT, mockTenant } from './helpers/tenant.ts';

const server = mockTenant();
afterEach(() => server.resetHandlers());
after(() => server.close());

interface Sent {
  path: string;
  wire: string; // headers and body, as one text to search
}

function recordEverything(): Sent[] {
  const sent: Sent[] = [];
  const record = async (request: Request) => {
    const headers = [...request.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
    sent.push({ path: new URL(request.url).pathname, wire: `${request.url}\n${headers}\n\n${await request.clone().text()}` });
  };
  let n = 0;
  server.use(
    http.post(`${TENANT}/oauth/token`, async ({ request }) => {
      await record(request);
      return HttpResponse.json({ access_token: `at-${++n}`, token_type: 'bearer', expires_in: 21600, refresh_token: `rt-${n}` });
    }),
    http.post(`${TENANT}/oauth/revoke`, async ({ request }) => {
      await record(request);
      return new HttpResponse(null, { status: 200 });
    }),
    http.get(`${TENANT}/api/v1/users/me`, async ({ request }) => {
      await record(request);
      return HttpResponse.json(QLIK_USER);
    }),
    http.post(`${TENANT}/api/v1/spaces`, async ({ request }) => {
      await record(request);
      return HttpResponse.json({ id: 's1', name: 'x', type: 'shared', tenantId: 't' }, { status: 201 });
    }),
  );
  return sent;
}

/** A user's whole session: code exchange, a read after a refresh, a write, sign-out. */
async function userSession(client: ClientConfig): Promise<void> {
  const tokens = await exchangeCode(METADATA, client, { code: 'code-1', codeVerifier: 'v'.repeat(43) });
  const session: QlikSession = { metadata: METADATA, client, tokens: { ...tokens, expiresAt: Date.now() } };
  await qlikFetch(session, '/api/v1/users/me');
  await qlikFetch(session, '/api/v1/spaces', { method: 'POST', json: { name: 'x', type: 'shared' } });
  assert.deepEqual(await closeSession(session), []);
}

const SECRET = 'the-confidential-secret-42';
const BASIC = Buffer.from(`web-client:${SECRET}`).toString('base64');
const TOKEN_OR_REVOKE = new Set(['/oauth/token', '/oauth/revoke']);

test('a public client never sends a secret: exchange, refresh, API read and write, revocation', async () => {
  const sent = recordEverything();
  await userSession({ clientId: 'native-client', redirectUri: 'http://127.0.0.1:5000/callback' });
  assert.deepEqual(sent.map((s) => s.path), ['/oauth/token', '/oauth/token', '/api/v1/users/me', '/api/v1/spaces', '/oauth/revoke', '/oauth/revoke']);
  for (const { path, wire } of sent) {
    assert.doesNotMatch(wire, /client_secret/, path);
    assert.doesNotMatch(wire, /authorization: Basic/i, path);
  }
  // The token endpoint still learns who the client is (RFC 6749 §3.2.1).
  assert.match(sent[0]!.wire, /client_id=native-client/);
});

async function confidentialSendsSecretToTokenAndRevocationOnly(authMethod: 'client_secret_post' | 'client_secret_basic'): Promise<void> {
  const sent = recordEverything();
  const client: ClientConfig = { clientId: 'web-client', clientSecret: SECRET, authMethod, redirectUri: 'https://app.example.com/cb' };
  await userSession(client);
  await clientCredentialsToken(METADATA, client);
  await impersonationToken(METADATA, client, { userLookup: { field: 'subject', value: 'auth0|a1b2c3' } });
  await qlikFetch(machineSession(METADATA, client), '/api/v1/users/me');
  const carriesSecret = (wire: string) => wire.includes(SECRET) || wire.includes(BASIC);
  for (const { path, wire } of sent) {
    assert.equal(carriesSecret(wire), TOKEN_OR_REVOKE.has(path), `${path} ${TOKEN_OR_REVOKE.has(path) ? 'authenticates the client' : 'must not see the secret'}`);
  }
  assert.ok(sent.some((s) => s.path.startsWith('/api/')), 'the API was called');
}

test('a confidential client (client_secret_post) sends its secret to the token and revocation endpoints only', () => confidentialSendsSecretToTokenAndRevocationOnly('client_secret_post'));

test('a confidential client (client_secret_basic) sends its secret to the token and revocation endpoints only', () => confidentialSendsSecretToTokenAndRevocationOnly('client_secret_basic'));
