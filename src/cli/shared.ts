// What `npm run login` and `npm run m2m` share: settings from the environment (and .env), the
// sandbox tenant when no tenant is configured, and one clear line on stderr when something fails.
//
// Exit codes: 0 done, 1 the sign-in or the call failed, 2 a setting or an argument is wrong
// (then nothing was sent over the network).

import { ConfigurationError, QlikOAuthError } from '../errors.ts';
import { expectedIssuer } from '../3.1-discovery.ts';
import { escapeControl } from '../redact.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { ConfigError } from '../app/config.ts';

/** A setting or an argument that cannot work; `fix` says what to change. Exit code 2. (The app's ConfigError, for the commands.) */
export class SettingError extends ConfigError {}

/** The QLIK_* settings a command-line client reads. Undefined: not set. */
export interface CliSettings {
  /** Undefined: no tenant configured, so the command starts the sandbox tenant. */
  tenantUrl: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  scope: string | undefined;
  redirectUri: string | undefined;
}

/** Reads .env from the working directory, when there is one; variables already set win (as src/main.ts). */
export function loadDotEnv(): void {
  try {
    process.loadEnvFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new SettingError(`could not read .env: ${(error as Error).message}`, 'Correct or remove the .env file.');
  }
}

/** QLIK_TENANT_URL, QLIK_CLIENT_ID, QLIK_CLIENT_SECRET, QLIK_SCOPE, QLIK_REDIRECT_URI, checked before any network call. */
export function readCliSettings(env: Record<string, string | undefined>): CliSettings {
  const value = (name: string) => {
    const text = env[name]?.trim();
    return text === undefined || text === '' ? undefined : text;
  };
  const settings: CliSettings = {
    tenantUrl: value('QLIK_TENANT_URL'),
    clientId: value('QLIK_CLIENT_ID'),
    clientSecret: value('QLIK_CLIENT_SECRET'),
    scope: value('QLIK_SCOPE'),
    redirectUri: value('QLIK_REDIRECT_URI'),
  };
  if (settings.tenantUrl === undefined) {
    // Credentials without a tenant are a half-done setup; silently using the sandbox would hide it.
    const set = [settings.clientId && 'QLIK_CLIENT_ID', settings.clientSecret && 'QLIK_CLIENT_SECRET'].filter(Boolean);
    if (set.length > 0) {
      throw new SettingError(
        `${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set, but QLIK_TENANT_URL is not.`,
        'Set QLIK_TENANT_URL to your tenant, e.g. https://acme.eu.qlikcloud.com, or remove the QLIK_CLIENT_* settings to use the local sandbox tenant.',
      );
    }
    return settings;
  }
  if (settings.clientId === undefined) {
    throw new SettingError('QLIK_TENANT_URL is set, but QLIK_CLIENT_ID is not.', 'Copy the client ID of your OAuth client (Administration → OAuth) into QLIK_CLIENT_ID, e.g. in .env.');
  }
  try {
    // The same parse and https rule as discovery (RFC 8414 §2), before the network.
    settings.tenantUrl = expectedIssuer(settings.tenantUrl);
  } catch (error) {
    if (error instanceof QlikOAuthError && error.step === '3.1') throw new SettingError(`QLIK_TENANT_URL: ${error.message}`, error.hint);
    throw error;
  }
  return settings;
}

/** Starts the local sandbox tenant on a free 127.0.0.1 port, saying so on stderr (stdout is for results). */
export async function startLocalTenant(): Promise<Sandbox> {
  const sandbox = await startSandbox();
  process.stderr.write(`No QLIK_TENANT_URL: using a local sandbox tenant at ${sandbox.url} (it stops when this command ends).\n`);
  return sandbox;
}

/**
 * One line on stderr: what failed, the check's code and rule, what to do. No stack, nothing a
 * tenant or browser sent that could drive the terminal, no secret (messages never hold one).
 */
export function failureLine(error: unknown): string {
  if (error instanceof SettingError) return `Setting error: ${error.message} What to do: ${error.fix}`;
  if (error instanceof QlikOAuthError) return `Error ${error.code} (${error.rule}): ${error.message} What to do: ${error.hint}`;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return `Error: ${error instanceof Error ? error.message : String(error)}${code ? ` (${code})` : ''}`;
}

/** The exit code for a failure: 2 when a setting or an argument is wrong, else 1. */
export function exitCodeFor(error: unknown): number {
  return error instanceof SettingError || error instanceof ConfigurationError ? 2 : 1;
}

/** Runs a command: its result's JSON as the last line of stdout and exit 0, or one line on stderr and exit 1 or 2. */
export async function runCommand(command: () => Promise<unknown>): Promise<never> {
  let code: number;
  try {
    const result = await command();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    code = 0;
  } catch (error) {
    process.stderr.write(`${escapeControl(failureLine(error))}\n`);
    code = exitCodeFor(error);
  }
  // Let stdout drain before leaving (a pipe may be slower than the process).
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
