// Private key JWT client authentication (RFC 7523 §2.2, RFC 7521 §4.2): instead of a secret, the
// client signs a short-lived JWT with its private key; the tenant checks it with the public key it
// was given. No secret travels, and the key never leaves this machine — the safer choice for a
// machine (docs/private-key-jwt.md). Qlik Web clients may use it (allowedAuthMethods: private_key_jwt).

import { Buffer } from 'node:buffer';
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';

// RFC 7518 §3.1: the algorithm each kind of key signs with. Qlik accepts RS256 (RSA, 2048 bits or
// more) and ES384 (EC P-384), and RS512; ES256 (EC P-256) is for other servers.
const ALGORITHMS: Record<string, { alg: string; hash: string }> = {
  rsa: { alg: 'RS256', hash: 'sha256' },
  secp384r1: { alg: 'ES384', hash: 'sha384' },
  prime256v1: { alg: 'ES256', hash: 'sha256' },
};

/**
 * A signer for ClientCredentials.assertion: given the token endpoint, returns a fresh assertion.
 * RFC 7523 §3: iss and sub are the client, aud the token endpoint (what Qlik asks for), a jti used
 * once, and a short life (60 s; Qlik allows at most 5 min); `kid` names the key when the tenant
 * knows it by one (Qlik requires it).
 */
export function privateKeyJwt(clientId: string, privateKey: string | KeyObject, keyId?: string): (audience: string) => string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const signing = ALGORITHMS[key.asymmetricKeyType === 'ec' ? String(key.asymmetricKeyDetails?.namedCurve) : String(key.asymmetricKeyType)];
  const tooShort = key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048;
  if (signing === undefined || tooShort) throw new TypeError('private_key_jwt needs an RSA (2048 bits or more) or EC P-384 (or P-256) private key (PEM, PKCS#8).');
  const header = { alg: signing.alg, typ: 'JWT', ...(keyId ? { kid: keyId } : {}) };
  return (audience) => {
    const iat = Math.floor(Date.now() / 1000);
    const claims = { iss: clientId, sub: clientId, aud: audience, jti: randomUUID(), iat, exp: iat + 60 };
    const input = `${base64url(header)}.${base64url(claims)}`;
    // JWS (RFC 7515 App. A.3) wants the raw r‖s form of an ECDSA signature, not DER.
    return `${input}.${sign(signing.hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
