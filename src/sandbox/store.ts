// The sandbox's memory: sign-ins waiting for consent, authorization codes, tokens, and the client
// assertions already seen. Everything expires and is capped, so a long-running `npm start` stays small.
import { randomBytes } from 'node:crypto';

/** An opaque random string (RFC 6749 §10.10: guessing must be infeasible): 32 random bytes, base64url. */
export function randomToken(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** A Map whose entries go once `keepUntil` (ms) has passed; when full, the oldest goes first (insertion order). */
export class BoundedMap<V extends { keepUntil: number }> {
  readonly #entries = new Map<string, V>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(maxEntries: number, now: () => number) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined && value.keepUntil <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return value;
  }

  set(key: string, value: V): void {
    this.#dropExpired();
    this.#entries.set(key, value);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  values(): IterableIterator<V> {
    return this.#entries.values();
  }

  // A sweep walks every entry, so it runs at most once a second: sweeping on every insert made each
  // insert cost as much as the map is large. get() drops an expired entry it meets in between.
  #lastSweep = -Infinity;

  #dropExpired(): void {
    const now = this.#now();
    if (now - this.#lastSweep < 1000) return;
    this.#lastSweep = now;
    for (const [key, value] of this.#entries) {
      if (value.keepUntil <= now) this.#entries.delete(key);
    }
  }
}

/** A sign-in shown on the consent page, waiting for Allow or Deny. Keyed by its random `tx`. */
export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string;
  codeChallenge: string;
  keepUntil: number;
}

/** An authorization code handed to the client's redirect URI. Keyed by the code itself. */
export interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string;
  user: string;
  issuedAt: number;
  /** Set by the first exchange attempt: a code works once (RFC 6749 §4.1.2). */
  used: boolean;
  /** Names every token issued from this code, so a replay can revoke them all. */
  grantId: string;
  /** Kept after its 60 s of validity so that a late replay is still recognised as one. */
  keepUntil: number;
}

/** An access or refresh token. Keyed by the token string. */
export interface TokenRecord {
  kind: 'access' | 'refresh';
  clientId: string;
  user: string;
  scopes: string[];
  grantId: string;
  /** When the user signed in (ms); undefined for machine-to-machine tokens. */
  authTime?: number | undefined;
  expiresAt: number;
  revoked: boolean;
  /** Refresh tokens only: true once a refresh replaced it with a new one (rotation). */
  rotated: boolean;
  /** Kept a while after expiry so that the 401 can say "expired" rather than "unknown". */
  keepUntil: number;
}

export interface SandboxStore {
  pending: BoundedMap<PendingAuthorization>;
  codes: BoundedMap<AuthorizationCode>;
  tokens: BoundedMap<TokenRecord>;
  /** Client assertions seen, keyed by client id and jti, kept until they expire (RFC 7523 §3 item 7). */
  assertions: BoundedMap<{ keepUntil: number }>;
}

export const PENDING_LIFETIME_MS = 10 * 60_000;
export const CODE_LIFETIME_MS = 60_000;
export const CODE_KEPT_MS = 10 * 60_000;
export const TOKEN_KEPT_AFTER_EXPIRY_MS = 60 * 60_000;

export function createStore(now: () => number): SandboxStore {
  return {
    pending: new BoundedMap(1_000, now),
    codes: new BoundedMap(1_000, now),
    tokens: new BoundedMap(10_000, now),
    assertions: new BoundedMap(10_000, now),
  };
}

/** Revoke every token issued from one authorization code (its refreshes included). */
export function revokeGrant(store: SandboxStore, grantId: string): void {
  for (const record of store.tokens.values()) {
    if (record.grantId === grantId) record.revoked = true;
  }
}
