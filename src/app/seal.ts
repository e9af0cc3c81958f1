// Sealing a small value into a cookie: AES-256-GCM (NIST SP 800-38D) from node:crypto. Sealed means
// encrypted and authenticated: the browser carries it, but can neither read it nor change it, and a
// value sealed for one cookie name does not open under another (the name is the additional data).

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12; // the GCM nonce size SP 800-38D recommends; random, so never reused in practice
const TAG_BYTES = 16;
/** A browser keeps at most 4 KB per cookie (RFC 6265bis §5.6): anything longer did not come from us. */
const MAX_SEALED_CHARS = 4096;

export type SealKey = Buffer;

/**
 * The 32-byte key. From SESSION_SECRET (HKDF-SHA-256, RFC 5869), so that several app processes
 * behind one address, or a restart, open each other's cookies; random per process when unset, so
 * a restart forgets every pending sign-in (the user starts again) and nothing needs configuring.
 */
export function sealKeyFrom(secret: string | undefined): SealKey {
  if (secret === undefined) return randomBytes(32);
  return Buffer.from(hkdfSync('sha256', secret, 'qlik-oauth-by-hand', 'cookie seal v1', 32));
}

export function seal(key: SealKey, cookieName: string, value: unknown): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(cookieName));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The value sealed under this name with this key, or undefined for anything else (tampered, foreign, garbage). */
export function unseal(key: SealKey, cookieName: string, text: string): unknown {
  if (text.length > MAX_SEALED_CHARS || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const raw = Buffer.from(text, 'base64url');
  if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(cookieName));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as unknown;
  } catch {
    return undefined; // the tag did not verify: not sealed by this app with this key
  }
}
