// The app's settings: what createApp() takes, and how `npm start` reads them from the environment
// (the variable names are part of the app's contract: keep them). Every check says what to fix.

import { QlikOAuthError } from '../errors.ts';
import { expectedIssuer } from '../3.1-discovery.ts';
import { SCOPE_PATTERN } from '../3.2-authorize.ts';
import { isLoopbackHost } from '../http.ts';
import type { SessionLimits } from './sessions.ts';
import type { SandboxFaultInfo } from '../sandbox/faults.ts';

export const DEFAULT_SCOPE = 'user_default offline_access';
export const DEFAULT_PORT = 3000;
export const CALLBACK_PATH = '/login/callback';

/** What createApp() needs. Only the tenant and the client are required. */
export interface AppOptions {
  tenantUrl: string;
  clientId: string;
  clientSecret: string;
  /** Default DEFAULT_SCOPE. Qlik is not OpenID: no "openid". */
  scope?: string;
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /** Where to listen. Default "localhost", so that http://localhost:<port> works. */
  host?: string;
  /** The app's public origin; the redirect URI is APP_URL + /login/callback. Default http://<host>:<port>. */
  appUrl?: string;
  /** Timeout of each call to the tenant. Default 10 s (src/http.ts). */
  timeoutMs?: number;
  /** The fetch for every call to the tenant (a proxy, a custom CA, a test's stand-in). Default: the global fetch. */
  fetch?: typeof fetch;
  sessionLimits?: Partial<SessionLimits>;
  /**
   * The key material for what the app seals into cookies (pending sign-ins): SESSION_SECRET. Set it
   * when several processes serve one address, or sign-ins must survive a restart. Default: a random
   * key per process.
   */
  sessionSecret?: string;
  /** The most time one request may spend on the tenant, all its calls together. Default 15 s. */
  deadlineMs?: number;
  /** Where the app writes its log lines. Default: stderr. */
  log?: (line: string) => void;
  /** Given each finished sign-in's transcript (redacted text), e.g. to print it. Default: none. */
  onTranscript?: (text: string) => void;
  /**
   * True only when the tenant is the local sandbox that main.ts started: /trace then offers attacks
   * on your own sign-in. Never set it for a real tenant. Default false.
   */
  sandbox?: boolean;
  /**
   * The sandbox faults switched on (SANDBOX_FAULT), so that a failure they cause is named as the
   * fault on the error page and on /trace, not blamed on settings the learner never set. Default none.
   */
  sandboxFaults?: readonly SandboxFaultInfo[];
}

/** The settings `npm start` read from the environment (and .env). */
export interface EnvConfig {
  /** Undefined: no tenant configured, so main.ts starts the sandbox tenant. */
  tenantUrl: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  scope: string;
  port: number;
  /** Undefined: http://localhost:<port>, once the port is known. */
  appUrl: string | undefined;
  /** SESSION_SECRET; undefined: a random key per process. */
  sessionSecret: string | undefined;
}

/** A setting that cannot work. `fix` says what to change. */
export class ConfigError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.name = new.target.name;
    this.fix = fix;
  }
}

type Env = Record<string, string | undefined>;

/** Reads and checks the environment. Throws ConfigError, before any network call. */
export function readConfig(env: Env): EnvConfig {
  const value = (name: string) => {
    const text = env[name]?.trim();
    return text === undefined || text === '' ? undefined : text;
  };
  const port = readPort(value('PORT'));
  const appUrl = readAppUrl(value('APP_URL'));
  const scope = readScope(value('QLIK_SCOPE'));
  const tenantUrl = value('QLIK_TENANT_URL');
  const clientId = value('QLIK_CLIENT_ID');
  const clientSecret = value('QLIK_CLIENT_SECRET');
  const sessionSecret = readSessionSecret(value('SESSION_SECRET'));

  if (tenantUrl === undefined) {
    // Credentials without a tenant are a half-done setup; silently using the sandbox would hide it.
    const set = [clientId && 'QLIK_CLIENT_ID', clientSecret && 'QLIK_CLIENT_SECRET'].filter(Boolean);
    if (set.length > 0) {
      throw new ConfigError(
        `${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set, but QLIK_TENANT_URL is not.`,
        'Set QLIK_TENANT_URL to your tenant, e.g. https://acme.eu.qlikcloud.com, or remove the QLIK_CLIENT_* settings to use the local sandbox tenant.',
      );
    }
    return { tenantUrl: undefined, clientId: undefined, clientSecret: undefined, scope, port, appUrl, sessionSecret };
  }
  for (const [name, given] of [['QLIK_CLIENT_ID', clientId], ['QLIK_CLIENT_SECRET', clientSecret]] as const) {
    if (given === undefined) {
      throw new ConfigError(
        `QLIK_TENANT_URL is set, but ${name} is not.`,
        `Copy the ${name === 'QLIK_CLIENT_ID' ? 'client ID' : 'client secret'} of your OAuth client (Administration → OAuth, type Web; older docs say Management Console) into ${name}, e.g. in .env.`,
      );
    }
  }
  let issuer: string;
  try {
    // The same parse and https rule discovery applies (RFC 8414 §2), checked now, before the network.
    issuer = expectedIssuer(tenantUrl);
  } catch (error) {
    if (error instanceof QlikOAuthError && error.step === '3.1') throw new ConfigError(`QLIK_TENANT_URL: ${error.message}`, `${error.hint} Set it in QLIK_TENANT_URL.`);
    throw error;
  }
  return { tenantUrl: issuer, clientId, clientSecret, scope, port, appUrl, sessionSecret };
}

function readPort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new ConfigError(`PORT is "${text}"; it must be a number from 0 to 65535.`, 'Set PORT to a free port, e.g. PORT=3000 (PORT=0 picks any free port).');
  }
  return port;
}

/** APP_URL is an origin: the app adds /login/callback itself, so a path would give a wrong redirect URI. */
function readAppUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const fix = 'Set APP_URL to the address people open, origin only, e.g. APP_URL=http://localhost:3000 or https://app.example.com.';
  if (!URL.canParse(text)) throw new ConfigError(`APP_URL "${text}" is not an absolute URL.`, fix);
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`APP_URL "${text}" uses ${url.protocol}; it must be http or https.`, fix);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(`APP_URL "${text}" has a path, query, fragment or credentials; it must be an origin only.`, fix);
  }
  // RFC 6749 §3.1.2.1, RFC 9700 §4.1: the redirect carries the code, so it needs TLS off this machine.
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigError(`APP_URL "${text}" uses http on a host other than this machine.`, 'Serve the app over https and set APP_URL=https://…; plain http is only for localhost.');
  }
  return url.origin;
}

/** Fewer than 32 characters is guessable enough to forge a sealed cookie offline; refused at start. */
const MIN_SESSION_SECRET_CHARS = 32;

function readSessionSecret(text: string | undefined): string | undefined {
  if (text === undefined || text.length >= MIN_SESSION_SECRET_CHARS) return text;
  throw new ConfigError(
    `SESSION_SECRET is ${text.length} characters long; it must be at least ${MIN_SESSION_SECRET_CHARS}.`,
    'Set SESSION_SECRET to a long random value, e.g. the output of: node -e "console.log(crypto.randomBytes(32).toString(\'base64url\'))" — or leave it unset for a random key per process.',
  );
}

// RFC 6749 §3.3, with step 3.2's own SCOPE_PATTERN: buildAuthorizationUrl checks the same at
// every sign-in; here a bad QLIK_SCOPE fails at start instead.
function readScope(text: string | undefined): string {
  if (text === undefined) return DEFAULT_SCOPE;
  if (!SCOPE_PATTERN.test(text)) {
    throw new ConfigError(`QLIK_SCOPE "${text}" is not a list of scopes separated by single spaces.`, `Set QLIK_SCOPE like "${DEFAULT_SCOPE}".`);
  }
  // Qlik is an OAuth 2.0 server, not an OpenID provider: it refuses the openid scope.
  if (text.split(' ').includes('openid')) {
    throw new ConfigError('QLIK_SCOPE asks for "openid", which Qlik Cloud does not offer (it is not an OpenID provider).', `Leave "openid" out, e.g. QLIK_SCOPE="${DEFAULT_SCOPE}".`);
  }
  return text;
}
