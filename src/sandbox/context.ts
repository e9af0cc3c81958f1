// What every handler needs: the issuer URL, the registered clients, settings, faults, counters, store,
// clock; and the rules for registering a client (Qlik's client types), matching its redirect URIs, and
// deciding which scopes a request gets.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { DEFAULT_SCOPES, defaultClients, type SandboxClient, type SandboxClientType, type SandboxFaults, type SandboxOptions, type SandboxStats } from './options.ts';
import { createStore, type SandboxStore } from './store.ts';
import { SPACES, type Space } from './fake-data.ts';
import type { SandboxGrantType } from './token.ts';

/** Which grants there are, and which only web clients may use: token.ts's GRANTS table, handed in (it imports this file). */
export type GrantTable = Readonly<Record<string, { webOnly: boolean }>>;

/** A client as the sandbox holds it: every default filled in. */
export interface RegisteredClient {
  clientId: string;
  type: SandboxClientType;
  /** Undefined for public clients (native, spa) and for web clients registered by key alone. */
  clientSecret: string | undefined;
  /** Verifies the client's assertions (RFC 7523); web clients only. */
  publicKey: KeyObject | undefined;
  redirectUris: string[];
  grantTypes: ReadonlySet<SandboxGrantType>;
  scopes: readonly string[]; // the allow-list, in order
  allowedOrigins: readonly string[]; // for CORS
}

type Settings = Required<Omit<SandboxOptions, 'port' | 'clients' | 'faults' | 'now'>>;

export interface SandboxContext extends Settings {
  /** The sandbox's base URL, which is also its issuer identifier (RFC 8414 §2). */
  url: string;
  clients: Map<string, RegisteredClient>;
  faults: SandboxFaults;
  stats: SandboxStats;
  store: SandboxStore;
  /** The tenant's spaces by id, in creation order (the listing order): the made-up ones, then a client's. */
  spaces: Map<string, Space>;
  /** Users who signed in through the consent page: impersonation can find them. */
  signedInUsers: Set<string>;
  now: () => number;
}

/** Qlik: scope tokens are letters, digits, `_ . - :` (e.g. admin.apps:export). */
const SCOPE_NAME = /^[A-Za-z0-9_.:-]+$/;
const SIX_HOURS = 6 * 60 * 60;
const THIRTY_DAYS = 30 * 24 * 60 * 60;

/** `jwtPublicKey`: the public half of the key pair made for SANDBOX_JWT_CLIENT_ID at start. */
export function createContext(options: SandboxOptions, jwtPublicKey: string, grants: GrantTable): SandboxContext {
  const now = options.now ?? Date.now;
  // RFC 9207 §3: advertising iss promises it on every callback.
  if (options.advertiseIss && options.issInCallback === false) throw new Error('Sandbox: advertiseIss needs issInCallback.');
  return {
    url: '',
    clients: registerClients(options.clients ?? defaultClients(jwtPublicKey), grants),
    accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? SIX_HOURS,
    refreshTokenLifetimeSeconds: options.refreshTokenLifetimeSeconds ?? THIRTY_DAYS,
    rotateRefreshTokens: options.rotateRefreshTokens ?? true,
    refreshTokenReuseDetection: options.refreshTokenReuseDetection ?? false,
    advertiseIss: options.advertiseIss ?? false,
    issInCallback: options.issInCallback ?? true,
    errors: options.errors ?? 'terse',
    openidConfiguration: options.openidConfiguration ?? 'metadata',
    includeExpiresIn: options.includeExpiresIn ?? false,
    usersMeRedirect: options.usersMeRedirect ?? true,
    webCodeWithoutSecret: options.webCodeWithoutSecret ?? false,
    publicClientRefreshTokens: options.publicClientRefreshTokens ?? true,
    refreshClientId: options.refreshClientId ?? 'ignored',
    challengeOn403: options.challengeOn403 ?? true,
    slowTokenMs: options.slowTokenMs ?? 15_000,
    faults: { named: [...(options.faults ?? [])] },
    stats: { tokenRequests: 0, refreshRequests: 0, revokeRequests: 0, apiRequests: 0 },
    store: createStore(now),
    spaces: new Map(SPACES.map((space) => [space.id, { ...space }])),
    signedInUsers: new Set(),
    now,
  };
}

/** Checks and copies the clients, so addRedirectUri never changes the caller's objects. */
function registerClients(clients: SandboxClient[], grants: GrantTable): Map<string, RegisteredClient> {
  const registered = new Map<string, RegisteredClient>();
  for (const client of clients) {
    const { clientId } = client;
    const type = client.type ?? 'web';
    const fail = (why: string) => new Error(`Sandbox: ${type} client "${clientId}" ${why}.`);
    if (registered.has(clientId)) throw fail('is listed twice');
    // Qlik: web clients are confidential (a secret and/or a private key JWT); native and single-page-app clients are public.
    if (type === 'web' && !client.clientSecret && !client.publicKey) throw fail('needs a secret or a public key');
    if (type !== 'web' && (client.clientSecret !== undefined || client.publicKey !== undefined)) throw fail('is public and cannot have a secret or a key');
    const grantTypes = new Set<SandboxGrantType>(client.grantTypes ?? ['authorization_code', 'refresh_token']);
    for (const grant of grantTypes) {
      if (!Object.hasOwn(grants, grant)) throw fail(`has an unknown grant type "${grant}" (known: ${Object.keys(grants).join(', ')})`);
      // Qlik: machine-to-machine and impersonation are for web (confidential) clients only.
      if (grants[grant]!.webOnly && type !== 'web') throw fail(`cannot use ${grant} (web clients only)`);
    }
    const scopes = client.scopes ?? DEFAULT_SCOPES;
    const badScope = scopes.find((scope) => !SCOPE_NAME.test(scope));
    if (badScope !== undefined) throw fail(`has an invalid scope "${badScope}"`);
    client.redirectUris.forEach(checkRedirectUri);
    const allowedOrigins = client.allowedOrigins ?? [];
    // An origin is scheme://host[:port], exactly as a browser sends it in the Origin header.
    const badOrigin = allowedOrigins.find((origin) => !URL.canParse(origin) || new URL(origin).origin !== origin);
    if (badOrigin !== undefined) throw fail(`has "${badOrigin}", which is not an origin (scheme://host[:port])`);
    registered.set(clientId, {
      clientId,
      type,
      clientSecret: client.clientSecret,
      publicKey: client.publicKey === undefined ? undefined : signingKey(client.publicKey, fail),
      redirectUris: [...client.redirectUris],
      grantTypes,
      scopes: [...scopes],
      allowedOrigins: [...allowedOrigins],
    });
  }
  return registered;
}

/** Qlik: ES384 needs an EC P-384 key, RS256 and RS512 an RSA key of 2048 bits or more (RFC 7518 §3.3). */
function signingKey(pem: string, fail: (why: string) => Error): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw fail('has a publicKey that is not a PEM public key');
  }
  const { namedCurve, modulusLength = 0 } = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec' && namedCurve === 'secp384r1') return key;
  if (key.asymmetricKeyType === 'rsa' && modulusLength >= 2048) return key;
  throw fail('has a publicKey that is neither EC P-384 (ES384) nor RSA of 2048 bits or more (RS256, RS512), the keys Qlik accepts');
}

/** RFC 6749 §3.1.2: a redirect URI is an absolute URI and has no fragment. */
export function checkRedirectUri(uri: string): void {
  if (!URL.canParse(uri) || uri.includes('#')) throw new Error(`Sandbox: redirect URI "${uri}" must be an absolute URL without a #fragment.`);
}

/** A loopback redirect with a port: http://127.0.0.1:PORT/…, http://localhost:PORT/… or http://[::1]:PORT/… */
const LOOPBACK_WITH_PORT = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})([/?].*)?$/;

/** Exact string equality (Qlik, RFC 9700 §4.1.3), with one exception for native clients: the loopback port. */
export function redirectUriMatches(client: RegisteredClient, uri: string): boolean {
  if (client.redirectUris.includes(uri)) return true;
  // RFC 8252 §7.3: "The authorization server MUST allow any port to be specified at the time of the
  // request for loopback IP redirect URIs, to accommodate clients that obtain an available ephemeral
  // port from the operating system." Only for native clients, and only when registered without a port;
  // everything but the port must still match to the byte.
  if (client.type !== 'native') return false;
  const match = LOOPBACK_WITH_PORT.exec(uri);
  if (match === null) return false;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535 || match[2]!.startsWith('0')) return false;
  return client.redirectUris.includes(`http://${match[1]}${match[3] ?? ''}`);
}

/** The public view of a registered client (copies), for Sandbox.clients() and `npm run sandbox`. */
export function describeClient(client: RegisteredClient): SandboxClient {
  return {
    clientId: client.clientId,
    type: client.type,
    ...(client.clientSecret === undefined ? {} : { clientSecret: client.clientSecret }),
    ...(client.publicKey === undefined ? {} : { publicKey: client.publicKey.export({ type: 'spki', format: 'pem' }).toString() }),
    redirectUris: [...client.redirectUris],
    grantTypes: [...client.grantTypes],
    scopes: [...client.scopes],
    ...(client.allowedOrigins.length === 0 ? {} : { allowedOrigins: [...client.allowedOrigins] }),
  };
}

/** RFC 6749 §3.3: scope is a list of space-separated scope tokens. Duplicates are dropped. */
export function splitScope(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter((s) => s !== ''))];
}

type ScopeDecision = { scopes: string[]; problem?: undefined } | { problem: string; scopes?: undefined };

/**
 * The scopes a request is granted, or why not. An absent or empty `scope` (optional at the token
 * endpoint; /oauth/authorize refuses it before) grants the client's allow-list but offline_access, which
 * must be asked for explicitly: what a real tenant grants then is not documented [?], this is our reading.
 * Lookups are array searches, never object properties: `constructor` or `__proto__` is just unknown.
 */
export function decideScopes(client: RegisteredClient, requested: string | undefined): ScopeDecision {
  const asked = splitScope(requested);
  if (asked.length === 0) return { scopes: client.scopes.filter((scope) => scope !== 'offline_access') };

  if (!asked.every((scope) => SCOPE_NAME.test(scope))) return { problem: 'Each scope must be made of letters, digits, _ . - and :, separated by spaces.' };
  // Qlik is an OAuth 2.0 server, not an OpenID provider: it issues no id_token, so it refuses openid.
  if (asked.includes('openid')) return { problem: 'Qlik is not an OpenID provider: remove openid from scope.' };
  const unknown = asked.filter((scope) => !client.scopes.includes(scope));
  if (unknown.length > 0) {
    const names = unknown.map((scope) => `"${scope.slice(0, 60)}"`).slice(0, 5).join(', ');
    return { problem: `Scope ${names} is not allowed for client "${client.clientId}". Allowed: ${client.scopes.join(' ')}.` };
  }
  return { scopes: asked };
}
