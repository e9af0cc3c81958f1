// What every handler needs: the issuer URL, the registered clients, settings, faults, counters, store, clock.
import type { SandboxClient, SandboxFaults, SandboxOptions, SandboxStats } from './options.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from './options.ts';
import { createStore, type SandboxStore } from './store.ts';

export interface SandboxContext {
  /** The sandbox's base URL, which is also its issuer identifier (RFC 8414 §2). */
  url: string;
  clients: Map<string, SandboxClient>;
  accessTokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number;
  rotateRefreshTokens: boolean;
  advertiseIss: boolean;
  faults: SandboxFaults;
  stats: SandboxStats;
  store: SandboxStore;
  now: () => number;
}

const SIX_HOURS = 6 * 60 * 60;
const THIRTY_DAYS = 30 * 24 * 60 * 60;

export function createContext(url: string, options: SandboxOptions): SandboxContext {
  const now = options.now ?? Date.now;
  return {
    url,
    clients: registerClients(options.clients),
    accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? SIX_HOURS,
    refreshTokenLifetimeSeconds: options.refreshTokenLifetimeSeconds ?? THIRTY_DAYS,
    rotateRefreshTokens: options.rotateRefreshTokens ?? true,
    advertiseIss: options.advertiseIss ?? false,
    faults: {},
    stats: { tokenRequests: 0, refreshRequests: 0, revokeRequests: 0, apiRequests: 0 },
    store: createStore(now),
    now,
  };
}

/** Copies the clients, so addRedirectUri never changes the caller's objects. */
function registerClients(clients: SandboxClient[] | undefined): Map<string, SandboxClient> {
  const list = clients ?? [{ clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, redirectUris: [] }];
  const registered = new Map<string, SandboxClient>();
  for (const client of list) {
    if (registered.has(client.clientId)) throw new Error(`Sandbox: client "${client.clientId}" is listed twice.`);
    if (client.clientSecret.length === 0) throw new Error(`Sandbox: client "${client.clientId}" needs a secret.`);
    client.redirectUris.forEach(checkRedirectUri);
    registered.set(client.clientId, { ...client, redirectUris: [...client.redirectUris] });
  }
  return registered;
}

/** RFC 6749 §3.1.2: a redirect URI is an absolute URI and has no fragment. */
export function checkRedirectUri(uri: string): void {
  if (!URL.canParse(uri) || uri.includes('#')) {
    throw new Error(`Sandbox: redirect URI "${uri}" must be an absolute URL without a #fragment.`);
  }
}
