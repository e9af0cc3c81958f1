// Private key JWT client authentication on the sandbox (RFC 7523 §2.2, §3; RFC 7521 §4.2): a web client
// registered by public key signs a client assertion; a wrong signature, aud, an expired or replayed
// assertion, or a secret beside it, is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { IMPERSONATION_GRANT, JWT_BEARER, SANDBOX_JWT_CLIENT_ID, startSandbox, type Sandbox } from '../src/sandbox/index.ts';
import {
  assertDetailed, assertTerse, exchange, getCode, me, post, postJson, withSandbox, type Tokens,
} from './helpers/sandbox.ts';

const DETAILED = { errors: 'detailed' } as const;

/** A compact JWS (RFC 7515 §7.1) signed with `privateKeyPem`: ES384 for an EC P-384 key, RS256 for RSA (what Qlik accepts). */
function signJwt(privateKeyPem: string, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const key = createPrivateKey(privateKeyPem);
  const alg = key.asymmetricKeyType === 'ec' ? 'ES384' : 'RS256';
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg, typ: 'JWT', ...header })}.${encode(claims)}`;
  const signature = sign(alg === 'ES384' ? 'sha384' : 'sha256', Buffer.from(input), alg === 'ES384' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${signature.toString('base64url')}`;
}

/** RFC 7523 §3's claims for the sandbox's JWT client, with overrides. */
function claims(sb: Sandbox, overrides: Record<string, unknown> = {}, clientId = SANDBOX_JWT_CLIENT_ID): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: clientId, sub: clientId, aud: `${sb.url}/oauth/token`, iat: now, exp: now + 60, jti: randomUUID(), ...overrides };
}

function clientCredentials(sb: Sandbox, assertion: string, extra: Record<string, string> = {}) {
  return post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion, ...extra });
}

const otherEcKey = () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('private key JWT (RFC 7523): accepted', () => {
  it('a good ES384 assertion gets a client_credentials token, form or JSON, with aud the token endpoint or the issuer', () =>
    withSandbox({}, async (sb) => {
      const res = await clientCredentials(sb, signJwt(sb.jwtPrivateKeyPem, claims(sb)));
      assert.equal(res.status, 200, await res.clone().text());
      const tokens = (await res.json()) as Tokens;
      const user = (await (await me(sb, tokens.access_token)).json()) as { name: string };
      assert.equal(user.name, `${SANDBOX_JWT_CLIENT_ID} (bot)`);
      // RFC 7523 §3 item 3: the issuer is an audience too; RFC 7521 §4.2: client_id may come beside it.
      const byIssuer = await clientCredentials(sb, signJwt(sb.jwtPrivateKeyPem, claims(sb, { aud: [sb.url] })), { client_id: SANDBOX_JWT_CLIENT_ID });
      assert.equal(byIssuer.status, 200, await byIssuer.clone().text());
      const json = await postJson(`${sb.url}/oauth/token`, {
        grant_type: IMPERSONATION_GRANT, client_assertion_type: JWT_BEARER, client_assertion: signJwt(sb.jwtPrivateKeyPem, claims(sb), { kid: 'key-1' }),
        scope: 'user_default', user_lookup: { field: 'subject', value: 'sandbox|ada' },
      });
      assert.equal(json.status, 200, await json.clone().text());
    }));

  it('the code flow and its refresh authenticate by assertion too, with no secret anywhere', () =>
    withSandbox({}, async (sb) => {
      sb.addRedirectUri(SANDBOX_JWT_CLIENT_ID, 'http://localhost:3000/login/callback');
      const { code, verifier } = await getCode(sb, { client_id: SANDBOX_JWT_CLIENT_ID });
      const assertion = { client_assertion_type: JWT_BEARER, client_assertion: signJwt(sb.jwtPrivateKeyPem, claims(sb)) };
      const res = await exchange(sb, code, verifier, { client_id: SANDBOX_JWT_CLIENT_ID, client_secret: undefined, ...assertion });
      assert.equal(res.status, 200, await res.clone().text());
      const tokens = (await res.json()) as Tokens;
      const refreshed = await post(`${sb.url}/oauth/token`, {
        grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_assertion_type: JWT_BEARER, client_assertion: signJwt(sb.jwtPrivateKeyPem, claims(sb)),
      });
      assert.equal(refreshed.status, 200, await refreshed.clone().text());
    }));

  it('RS256 for a client registered with an RSA key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const client = { clientId: 'rsa-client', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), redirectUris: [], grantTypes: ['client_credentials' as const] };
    await withSandbox({ ...DETAILED, clients: [client] }, async (sb) => {
      assert.equal((await clientCredentials(sb, signJwt(pem, claims(sb, {}, 'rsa-client')))).status, 200);
      // The key decides the algorithm, not the header.
      const es256 = signJwt(pem, claims(sb, {}, 'rsa-client'), { alg: 'ES384' });
      const body = await assertDetailed(await clientCredentials(sb, es256), 401, 'SANDBOX-OAUTH-43', 'invalid_client');
      assert.match(body.errors[0]!.detail!, /alg must be RS256/);
    });
  });
});

describe('private key JWT (RFC 7523 §3): refused', () => {
  it('as a real tenant: 401 OAUTH-5 for a wrong signature, a wrong aud, an expired or a replayed assertion', () =>
    withSandbox({}, async (sb) => {
      const replayed = signJwt(sb.jwtPrivateKeyPem, claims(sb));
      assert.equal((await clientCredentials(sb, replayed)).status, 200);
      const refused = [
        signJwt(otherEcKey(), claims(sb)),
        signJwt(sb.jwtPrivateKeyPem, claims(sb, { aud: 'https://another-tenant.eu.qlikcloud.com/oauth/token' })),
        signJwt(sb.jwtPrivateKeyPem, claims(sb, { exp: Math.floor(Date.now() / 1000) - 120 })),
        replayed,
      ];
      for (const assertion of refused) await assertTerse(await clientCredentials(sb, assertion), 401, 'OAUTH-5', 'Unauthorized');
    }));

  it('detailed: each refusal names its check', () =>
    withSandbox(DETAILED, async (sb) => {
      const now = Math.floor(Date.now() / 1000);
      const cases: [string, RegExp][] = [
        [signJwt(otherEcKey(), claims(sb)), /signature does not verify/],
        [signJwt(sb.jwtPrivateKeyPem, claims(sb, { aud: `${sb.url}/oauth/revoke` })), /aud must be the token endpoint/],
        [signJwt(sb.jwtPrivateKeyPem, claims(sb, { exp: now - 120 })), /exp is missing or has passed/],
        [signJwt(sb.jwtPrivateKeyPem, claims(sb, { exp: undefined })), /exp is missing/],
        [signJwt(sb.jwtPrivateKeyPem, claims(sb, { nbf: now + 600 })), /nbf is in the future/],
        [signJwt(sb.jwtPrivateKeyPem, claims(sb, { iss: 'someone-else' })), /iss and sub must both be the client_id/],
        [signJwt(sb.jwtPrivateKeyPem, claims(sb, { jti: undefined })), /jti is missing/],
        [signJwt(sb.jwtPrivateKeyPem, claims(sb), { alg: 'none' }), /alg must be ES384/],
        ['not-a-jwt', /not a JWT/],
      ];
      for (const [assertion, detail] of cases) {
        const body = await assertDetailed(await clientCredentials(sb, assertion), 401, 'SANDBOX-OAUTH-43', 'invalid_client');
        assert.match(body.errors[0]!.detail!, detail);
      }
      const once = signJwt(sb.jwtPrivateKeyPem, claims(sb));
      assert.equal((await clientCredentials(sb, once)).status, 200);
      const replay = await assertDetailed(await clientCredentials(sb, once), 401, 'SANDBOX-OAUTH-43', 'invalid_client');
      assert.match(replay.errors[0]!.detail!, /used before \(same jti\)/);
    }));

  it('refuses a secret beside an assertion, another assertion type, a secret for a key-only client, an assertion from a public client', () =>
    withSandbox(DETAILED, async (sb) => {
      const good = () => signJwt(sb.jwtPrivateKeyPem, claims(sb));
      await assertDetailed(await clientCredentials(sb, good(), { client_secret: 'anything' }), 400, 'SANDBOX-OAUTH-23', 'invalid_request');
      const saml = await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', client_assertion: good() });
      await assertDetailed(saml, 401, 'SANDBOX-OAUTH-43', 'invalid_client');
      const secret = await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', client_id: SANDBOX_JWT_CLIENT_ID, client_secret: 'guess' });
      assert.match((await assertDetailed(secret, 401, 'SANDBOX-OAUTH-37', 'invalid_client')).errors[0]!.detail!, /registered by public key/);
      const spa = signJwt(sb.jwtPrivateKeyPem, claims(sb, {}, 'sandbox-spa-client'));
      await assertDetailed(await clientCredentials(sb, spa), 401, 'SANDBOX-OAUTH-38', 'invalid_client');
    }));

  it('registers only EC P-384 or RSA (2048 bits or more) public keys, as Qlik accepts, on web clients only', async () => {
    const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await assert.rejects(startSandbox({ clients: [{ clientId: 'a', publicKey: ec256, redirectUris: [] }] }), /neither EC P-384/);
    await assert.rejects(startSandbox({ clients: [{ clientId: 'a', publicKey: 'not a key', redirectUris: [] }] }), /not a PEM public key/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await assert.rejects(startSandbox({ clients: [{ clientId: 'a', type: 'native', publicKey: p384, redirectUris: [] }] }), /is public/);
  });
});
