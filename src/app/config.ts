// The app's settings: what createApp() takes, and how `npm start` reads them from the environment
// (the variable names are part of the app's contract: keep them). The settings every command
// shares (tenant, client, scope, .env) are read by src/settings.ts; PORT, APP_URL and
// SESSION_SECRET, the app's own, here. Every check says what to fix.

import { isLoopbackHost } from '../http.ts';
import { ConfigError, readClient, readScope, readTenantUrl, setting, type Env } from '../settings.ts';
import type { SessionLimits } from './sessions.ts';
import type { SandboxFaultInfo } from '../sandbox/index.ts';

export { ConfigError, DEFAULT_SCOPE } from '../settings.ts';
export const DEFAULT_PORT = 3000;
export const CALLBACK_PATH = '/login/callback';

/** What createApp() needs. Only the tenant and the client are required. */
export interface AppOptions {
  tenantUrl: string;
  clientId: string;
  /** The client's secret, or (private key JWT) its assertion signer: src/private-key-jwt.ts. */
  clientSecret?: string | undefined;
  clientAssertion?: ((audience: string) => string) | undefined;
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
  /** SESSION_SECRET, the key for sealed sign-in cookies: for several processes, or a restart. Default: random per process. */
  sessionSecret?: string;
  /** The most time one request may spend on the tenant, all its calls together. Default 15 s. */
  deadlineMs?: number;
  /** Where the app writes its log lines. Default: stderr. */
  log?: (line: string) => void;
  /** Given each finished sign-in's transcript (redacted text), e.g. to print it. Default: none. */
  onTranscript?: (text: string) => void;
  /** True only for the local sandbox tenant main.ts started: /trace then offers attacks on your own sign-in. */
  sandbox?: boolean;
  /** The sandbox faults switched on (SANDBOX_FAULT): a failure they cause is named as theirs, not blamed on settings. */
  sandboxFaults?: readonly SandboxFaultInfo[];
}

/** The settings `npm start` read from the environment (and .env). */
export interface EnvConfig {
  /** Undefined: no tenant configured, so main.ts starts the sandbox tenant. */
  tenantUrl: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  clientAssertion: ((audience: string) => string) | undefined;
  scope: string;
  port: number;
  /** Undefined: http://localhost:<port>, once the port is known. */
  appUrl: string | undefined;
  sessionSecret: string | undefined;
}

/** Reads and checks the environment. Throws ConfigError, before any network call. */
export function readConfig(env: Env): EnvConfig {
  const { clientId, clientSecret, assertion } = readClient(env, true);
  return {
    tenantUrl: readTenantUrl(env),
    clientId,
    clientSecret,
    clientAssertion: assertion,
    scope: readScope(env),
    port: readPort(setting(env, 'PORT')),
    appUrl: readAppUrl(setting(env, 'APP_URL')),
    sessionSecret: readSessionSecret(setting(env, 'SESSION_SECRET')),
  };
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
