// The sandbox's settings from the environment, so a learner can break it without touching code:
// SANDBOX_FAULT=<name>[,<name>…], SANDBOX_TOKEN_SECONDS=N, SANDBOX_ERRORS=terse|detailed.
import type { SandboxOptions } from './options.ts';
import { parseSandboxFault } from './faults.ts';

/** Longest access-token lifetime accepted: 30 days, the refresh token's. */
const MAX_TOKEN_SECONDS = 30 * 24 * 60 * 60;

/**
 * The SandboxOptions the environment asks for. Unset or empty variables leave the defaults.
 * Throws an Error whose message names the variable, what came, and what is valid.
 */
export function sandboxOptionsFromEnv(env: Record<string, string | undefined>): SandboxOptions {
  rejectUnknownSettings(env);
  const options: SandboxOptions = {};

  const fault = env.SANDBOX_FAULT?.trim();
  if (fault) options.faults = parseSandboxFault(fault);

  const seconds = env.SANDBOX_TOKEN_SECONDS?.trim();
  if (seconds) {
    const value = Number(seconds);
    if (!/^\d+$/.test(seconds) || value < 1 || value > MAX_TOKEN_SECONDS) {
      throw new Error(
        `SANDBOX_TOKEN_SECONDS: "${seconds.slice(0, 40)}" is not a whole number of seconds from 1 to ${MAX_TOKEN_SECONDS}. ` +
          'Set it to the access token lifetime you want, e.g. SANDBOX_TOKEN_SECONDS=30.',
      );
    }
    options.accessTokenLifetimeSeconds = value;
  }

  const errors = env.SANDBOX_ERRORS?.trim();
  if (errors) {
    if (errors !== 'terse' && errors !== 'detailed') {
      throw new Error(
        `SANDBOX_ERRORS: "${errors.slice(0, 40)}" is not valid. Valid values: terse (the default, as a real tenant answers) ` +
          'or detailed (the sandbox explains each error, with RFC 6749 error names).',
      );
    }
    options.errors = errors;
  }
  return options;
}

/** Every SANDBOX_* setting (SANDBOX_PORT is read by `npm run sandbox` only). */
export const SANDBOX_SETTINGS: readonly string[] = ['SANDBOX_FAULT', 'SANDBOX_TOKEN_SECONDS', 'SANDBOX_ERRORS', 'SANDBOX_PORT'];

/** A misspelt setting (SANDBOX_FAULTS=…) would silently do nothing; say so instead. */
function rejectUnknownSettings(env: Record<string, string | undefined>): void {
  for (const name of Object.keys(env)) {
    if (!name.startsWith('SANDBOX_') || SANDBOX_SETTINGS.includes(name)) continue;
    const guess = [...SANDBOX_SETTINGS].sort((a, b) => commonPrefix(b, name) - commonPrefix(a, name))[0]!;
    throw new Error(`${name.slice(0, 60)} is not a sandbox setting (did you mean ${guess}?). Settings: ${SANDBOX_SETTINGS.join(', ')}.`);
  }
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i += 1;
  return i;
}
