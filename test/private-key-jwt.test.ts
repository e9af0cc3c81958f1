import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { privateKeyJwt } from '../src/private-key-jwt.ts';

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString());

for (const [type, alg, options, hash] of [['ec', 'ES384', { namedCurve: 'P-384' }, 'sha384'], ['ec', 'ES256', { namedCurve: 'P-256' }, 'sha256'], ['rsa', 'RS256', { modulusLength: 2048 }, 'sha256']] as const) {
  test(`privateKeyJwt with an ${type} key (${alg}; Qlik accepts RS256 and ES384), iss = sub = client, aud = the token endpoint, a fresh jti, 60 s of life, kid (RFC 7523 §3)`, () => {
    const keys = generateKeyPairSync(type as 'ec', options as { namedCurve: string });
    const sign = privateKeyJwt('client-1', keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'key-7');
    const [header, claims, signature] = sign('https://acme.eu.qlikcloud.com/oauth/token').split('.');
    assert.deepEqual(decode(header!), { alg, typ: 'JWT', kid: 'key-7' });
    const body = decode(claims!);
    assert.equal(body.iss, 'client-1');
    assert.equal(body.sub, 'client-1');
    assert.equal(body.aud, 'https://acme.eu.qlikcloud.com/oauth/token');
    assert.equal(body.exp - body.iat, 60);
    assert.ok(Math.abs(body.iat - Date.now() / 1000) < 5);
    assert.notEqual(decode(sign('x').split('.')[1]!).jti, body.jti, 'a jti is used once');
    assert.ok(verify(hash, Buffer.from(`${header}.${claims}`), { key: keys.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature!, 'base64url')));
  });
}

test('privateKeyJwt refuses a key it cannot sign ES256 or RS256 with', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  assert.throws(() => privateKeyJwt('c', privateKey), /RSA \(2048 bits or more\) or EC P-384/);
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  assert.throws(() => privateKeyJwt('c', small), /2048 bits/);
});
