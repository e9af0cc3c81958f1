// What every handler needs: the issuer URL, the registered clients, settings, faults, counters, store, clock.
import type { OpenIdConfigurationMode, SandboxClient, SandboxClientType, SandboxFaults, SandboxGrantType, SandboxOptions, SandboxStats } from './options.ts';
import { DEFAULT_SCOPES, defaultClients } from './options.ts';
import type { ErrorStyle } from './respond.ts';
import type { SandboxFaultName } from './faults.ts';
import { createStore, type SandboxStore } from './store.ts';
import { createSpaces, type SpaceStore } from './spaces-store.ts';

/** A client as the sandbox holds it: every default filled in. */
export interface RegisteredClient {
  clientId: string;
  type: SandboxClientType;
  /** Undefined for public clients (native, spa). */
  clientSecret: string | undefined;
  redirectUris: string[];
  grantTypes: ReadonlySet<SandboxGrantType>;
  /** The allow-list, in order. */
  scopes: readonly string[];
  /** CORS origins (single-page apps only). */
  allowedOrigins: readonly string[];
}

export interface SandboxContext {
  /** The sandbox's base URL, which is also its issuer identifier (RFC 8414 §2). */
  url: string;
  clients: Map<string, RegisteredClient>;
  accessTokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number;
  rotateRefreshTokens: boolean;
  refreshTokenReuseDetection: boolean;
  advertiseIss: boolean;
  issInCallback: boolean;
  errors: ErrorStyle;
  openidConfiguration: OpenIdConfigurationMode;
  includeExpiresIn: boolean;
  slowTokenMs: number;
  faults: SandboxFaults;
  stats: SandboxStats;
  store: SandboxStore;
  spaces: SpaceStore;
  /** Users who signed in through the consent page: impersonation can find them. */
  signedInUsers: Set<string>;
  now: () => number;
}

const SIX_HOURS = 6 * 60 * 60;
const THIRTY_DAYS = 30 * 24 * 60 * 60;

export function createContext(url: string, options: SandboxOptions): SandboxContext {
  const now = options.now ?? Date.now;
  // RFC 9207 §3: advertising iss promises it on every callback.
  if (options.advertiseIss && options.issInCallback === false) throw new Error('Sandbox: advertiseIss needs issInCallback.');
  return {
    url,
    clients: registerClients(options.clients ?? defaultClients()),
    accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? SIX_HOURS,
    refreshTokenLifetimeSeconds: options.refreshTokenLifetimeSeconds ?? THIRTY_DAYS,
    rotateRefreshTokens: options.rotateRefreshTokens ?? true,
    refreshTokenReuseDetection: options.refreshTokenReuseDetection ?? false,
    advertiseIss: options.advertiseIss ?? false,
    issInCallback: options.issInCallback ?? true,
    errors: options.errors ?? 'terse',
    openidConfiguration: options.openidConfiguration ?? 'metadata',
    includeExpiresIn: options.includeExpiresIn ?? false,
    slowTokenMs: options.slowTokenMs ?? 15_000,
    faults: options.faults === undefined ? {} : { named: [...options.faults] },
    stats: { tokenRequests: 0, refreshRequests: 0, revokeRequests: 0, apiRequests: 0 },
    store: createStore(now),
    spaces: createSpaces(),
    signedInUsers: new Set(),
    now,
  };
}

/** True while the named fault is switched on. */
export function hasFault(ctx: SandboxContext, name: SandboxFaultName): boolean {
  return ctx.faults.named?.includes(name) ?? false;
}

const CODE_GRANTS: SandboxGrantType[] = ['authorization_code', 'refresh_token'];
const MACHINE_GRANTS: ReadonlySet<SandboxGrantType> = new Set(['client_credentials', 'urn:qlik:oauth:user-impersonation']);

/** Checks and copies the clients, so addRedirectUri never changes the caller's objects. */
function registerClients(clients: SandboxClient[]): Map<string, RegisteredClient> {
  const registered = new Map<string, RegisteredClient>();
  for (const client of clients) {
    const { clientId } = client;
    const type = client.type ?? 'web';
    if (registered.has(clientId)) throw new Error(`Sandbox: client "${clientId}" is listed twice.`);
    // Qlik: web clients are confidential (a secret); native and single-page-app clients are public (none).
    if (type === 'web' && !client.clientSecret) throw new Error(`Sandbox: web client "${clientId}" needs a secret.`);
    if (type !== 'web' && client.clientSecret !== undefined) {
      throw new Error(`Sandbox: ${type} client "${clientId}" is public and cannot have a secret.`);
    }
    const grantTypes = new Set(client.grantTypes ?? CODE_GRANTS);
    // Qlik: machine-to-machine and impersonation are for web (confidential) clients only.
    if (type !== 'web' && [...grantTypes].some((grant) => MACHINE_GRANTS.has(grant))) {
      throw new Error(`Sandbox: ${type} client "${clientId}" cannot use client_credentials or impersonation (web clients only).`);
    }
    const scopes = client.scopes ?? DEFAULT_SCOPES;
    scopes.forEach((scope) => checkScopeName(scope, clientId));
    client.redirectUris.forEach(checkRedirectUri);
    const allowedOrigins = client.allowedOrigins ?? [];
    if (allowedOrigins.length > 0 && type !== 'spa') throw new Error(`Sandbox: only single-page-app clients have allowed origins ("${clientId}" is ${type}).`);
    // An origin is scheme://host[:port], exactly as a browser sends it in the Origin header.
    for (const origin of allowedOrigins) {
      if (!URL.canParse(origin) || new URL(origin).origin !== origin) throw new Error(`Sandbox: "${origin}" is not an origin (scheme://host[:port]).`);
    }
    registered.set(clientId, {
      clientId,
      type,
      clientSecret: client.clientSecret,
      redirectUris: [...client.redirectUris],
      grantTypes,
      scopes: [...scopes],
      allowedOrigins: [...allowedOrigins],
    });
  }
  return registered;
}

/** Qlik: scope tokens are letters, digits, `_ . - :` (e.g. admin.apps:export). */
export const SCOPE_NAME = /^[A-Za-z0-9_.:-]+$/;

function checkScopeName(scope: string, clientId: string): void {
  if (!SCOPE_NAME.test(scope)) throw new Error(`Sandbox: client "${clientId}" has an invalid scope "${scope}".`);
}

/** RFC 6749 §3.1.2: a redirect URI is an absolute URI and has no fragment. */
export function checkRedirectUri(uri: string): void {
  if (!URL.canParse(uri) || uri.includes('#')) {
    throw new Error(`Sandbox: redirect URI "${uri}" must be an absolute URL without a #fragment.`);
  }
}

/** The public view of a registered client (copies), for Sandbox.clients() and `npm run sandbox`. */
export function describeClient(client: RegisteredClient): SandboxClient {
  return {
    clientId: client.clientId,
    type: client.type,
    ...(client.clientSecret === undefined ? {} : { clientSecret: client.clientSecret }),
    redirectUris: [...client.redirectUris],
    grantTypes: [...client.grantTypes],
    scopes: [...client.scopes],
    ...(client.allowedOrigins.length === 0 ? {} : { allowedOrigins: [...client.allowedOrigins] }),
  };
}
