// The settings of every command — `npm start`, `npm run login`, `npm run m2m`, `npm run check`,
// `npm run sandbox` — from the environment and a .env file in the working directory (a variable
// already set wins). Each rule about them is written here once and checked before anything is
// sent over the network; a setting that cannot work is a ConfigError saying what came, what was
// expected and what to do. The names are the app's contract: keep them (npm start -- --help).

import { readFileSync } from 'node:fs';
import { QlikOAuthError, clip } from './errors.ts';
import { privateKeyJwt } from './private-key-jwt.ts';
import { expectedIssuer } from './3.1-discovery.ts';
import { SCOPE_PATTERN } from './3.2-authorize.ts';
import { sandboxOptionsFromEnv, type SandboxOptions } from './sandbox/index.ts';

export type Env = Record<string, string | undefined>;

/** A setting, or a command-line argument, that cannot work; `hint` says what to change. Commands exit with code 2 on it. */
export class ConfigError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'ConfigError';
    this.hint = hint;
  }
}

/** Reads .env, when there is one, into process.env. */
export function loadDotEnv(): void {
  try {
    process.loadEnvFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ConfigError(`could not read .env: ${(error as Error).message}`, 'Correct or remove the .env file.');
  }
}

/** A variable's value without surrounding spaces; unset or blank gives undefined. */
export function setting(env: Env, name: string): string | undefined {
  const text = env[name]?.trim();
  return text === '' ? undefined : text;
}

/** "QLIK_CLIENT_ID is" / "QLIK_CLIENT_ID and QLIK_CLIENT_SECRET are". */
function named(names: string[]): string {
  return `${names.join(' and ')} ${names.length > 1 ? 'are' : 'is'}`;
}

/** QLIK_TENANT_URL as the issuer it must be (RFC 8414 §2, the rule discovery applies); undefined: none, so the sandbox. */
export function readTenantUrl(env: Env): string | undefined {
  const text = setting(env, 'QLIK_TENANT_URL');
  if (text === undefined) return undefined;
  try {
    return expectedIssuer(text);
  } catch (error) {
    if (!(error instanceof QlikOAuthError)) throw error;
    throw new ConfigError(`QLIK_TENANT_URL: ${error.message}`, `${error.hint} Set it in QLIK_TENANT_URL.`);
  }
}

export interface ClientSettings {
  clientId: string | undefined;
  clientSecret: string | undefined;
  /** Private key JWT (QLIK_CLIENT_PRIVATE_KEY_FILE, QLIK_CLIENT_KEY_ID): signs the client's assertions instead of a secret. */
  assertion: ((audience: string) => string) | undefined;
}

/**
 * QLIK_CLIENT_ID, and QLIK_CLIENT_SECRET or QLIK_CLIENT_PRIVATE_KEY_FILE with QLIK_CLIENT_KEY_ID.
 * Without a tenant all are undefined (the sandbox's own clients are used); with one, the ID is
 * required, and a secret or a key when the command needs a confidential client (a native client for
 * `npm run login` has neither). With a key, no secret is sent, even when one is set.
 */
export function readClient(env: Env, secretRequired: boolean): ClientSettings {
  const clientId = setting(env, 'QLIK_CLIENT_ID');
  const clientSecret = setting(env, 'QLIK_CLIENT_SECRET');
  if (setting(env, 'QLIK_TENANT_URL') === undefined) {
    // Credentials without a tenant are a half-done setup; silently using the sandbox would hide it.
    const set = (['QLIK_CLIENT_ID', 'QLIK_CLIENT_SECRET', 'QLIK_CLIENT_PRIVATE_KEY_FILE'] as const).filter((name) => setting(env, name) !== undefined);
    if (set.length > 0) {
      throw new ConfigError(`${named(set)} set, but QLIK_TENANT_URL is not.`, 'Set QLIK_TENANT_URL to your tenant, e.g. https://acme.eu.qlikcloud.com, or remove the QLIK_CLIENT_* settings to use the local sandbox tenant.');
    }
    return { clientId: undefined, clientSecret: undefined, assertion: undefined };
  }
  const keyFile = setting(env, 'QLIK_CLIENT_PRIVATE_KEY_FILE');
  const keyId = setting(env, 'QLIK_CLIENT_KEY_ID');
  const missing = [
    clientId === undefined && 'QLIK_CLIENT_ID',
    secretRequired && clientSecret === undefined && keyFile === undefined && 'QLIK_CLIENT_SECRET',
    // Qlik knows a client's keys by their id, and requires it in the assertion's header.
    keyFile !== undefined && keyId === undefined && 'QLIK_CLIENT_KEY_ID',
  ].filter((name) => name !== false);
  if (missing.length > 0) {
    const where = 'your OAuth client (Administration activity center → OAuth; older docs: Management Console)';
    throw new ConfigError(`QLIK_TENANT_URL is set, but ${named(missing)} not.`, `Copy ${missing.length > 1 ? 'them' : 'it'} from ${where} into ${missing.join(' and ')}, e.g. in .env.`);
  }
  const assertion = keyFile === undefined ? undefined : readPrivateKey(clientId!, keyFile, keyId);
  return { clientId, clientSecret: assertion ? undefined : clientSecret, assertion };
}

/** RFC 7523 §2.2: the PEM (PKCS#8) file of the client's private key, made into an assertion signer. */
function readPrivateKey(clientId: string, file: string, keyId: string | undefined): (audience: string) => string {
  const fix = 'Point QLIK_CLIENT_PRIVATE_KEY_FILE at the PEM (PKCS#8) file of the EC P-256 or RSA private key whose public key is registered for the OAuth client (docs/private-key-jwt.md).';
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`QLIK_CLIENT_PRIVATE_KEY_FILE ${JSON.stringify(clip(file))} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, fix);
  }
  try {
    return privateKeyJwt(clientId, pem, keyId);
  } catch {
    throw new ConfigError(`QLIK_CLIENT_PRIVATE_KEY_FILE ${JSON.stringify(clip(file))} holds no EC P-256 or RSA private key.`, fix);
  }
}

export const DEFAULT_SCOPE = 'user_default offline_access';

/**
 * QLIK_SCOPE: scopes separated by single spaces (RFC 6749 §3.3, with step 3.2's SCOPE_PATTERN,
 * which buildAuthorizationUrl checks again at every sign-in), without openid. Unset: `fallback`.
 */
export function readScope(env: Env, fallback = DEFAULT_SCOPE): string {
  if (env.QLIK_SCOPE === undefined) return fallback;
  const scope = env.QLIK_SCOPE.trim();
  const hint = `Set QLIK_SCOPE to scopes separated by single spaces, e.g. QLIK_SCOPE="${DEFAULT_SCOPE}", or remove it for the default.`;
  // Qlik: scope is a required parameter of /oauth/authorize; an empty one would send none.
  if (scope === '') throw new ConfigError('QLIK_SCOPE is set but empty; Qlik requires a scope at /oauth/authorize.', hint);
  if (!SCOPE_PATTERN.test(scope)) throw new ConfigError(`QLIK_SCOPE "${scope}" is not a list of scopes separated by single spaces.`, hint);
  // Qlik is an OAuth 2.0 server, not an OpenID provider: it refuses the openid scope.
  if (scope.split(' ').includes('openid')) {
    throw new ConfigError('QLIK_SCOPE asks for "openid", which Qlik Cloud does not offer (it is not an OpenID provider).', `Leave "openid" out, e.g. QLIK_SCOPE="${DEFAULT_SCOPE}".`);
  }
  return scope;
}

/** The SANDBOX_* settings; undefined with a real tenant, next to which they would silently do nothing, so are refused. */
export function readSandboxSettings(env: Env): SandboxOptions | undefined {
  const names = Object.keys(env).filter((name) => name.startsWith('SANDBOX_') && setting(env, name) !== undefined).sort();
  if (setting(env, 'QLIK_TENANT_URL') !== undefined) {
    if (names.length === 0) return undefined;
    const hint = `Remove ${names.join(', ')} to use your tenant, or remove QLIK_TENANT_URL (and QLIK_CLIENT_ID, QLIK_CLIENT_SECRET) to use the sandbox.`;
    throw new ConfigError(`${named(names)} set, but QLIK_TENANT_URL is too: these only apply to the sandbox.`, hint);
  }
  try {
    return sandboxOptionsFromEnv(env);
  } catch (error) {
    throw new ConfigError((error as Error).message, 'Correct or remove it; npm start -- --help lists the sandbox settings.');
  }
}
