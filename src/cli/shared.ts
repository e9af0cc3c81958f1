// What `npm run login` and `npm run m2m` share: the sandbox tenant when no tenant is configured,
// and one clear line on stderr when something fails.
//
// Exit codes: 0 done, 1 the sign-in or the call failed, 2 a setting or an argument is wrong
// (then nothing was sent over the network).

import { ConfigurationError, QlikOAuthError } from '../errors.ts';
import { escapeControl } from '../redact.ts';
import { ConfigError, loadDotEnv } from '../settings.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';

/** Starts the local sandbox tenant on a free 127.0.0.1 port, saying so on stderr (stdout is for results). */
export async function startLocalTenant(): Promise<Sandbox> {
  const sandbox = await startSandbox();
  process.stderr.write(`No QLIK_TENANT_URL: using a local sandbox tenant at ${sandbox.url} (it stops when this command ends).\n`);
  return sandbox;
}

/**
 * One line for stderr: what failed, the check's code and rule, what to do. No stack; no secret (a
 * tenant's echo of what it was sent is scrubbed by src/http.ts before any message is made of it).
 */
function failureLine(error: unknown): string {
  if (error instanceof ConfigError) return `Configuration error: ${error.message} Fix: ${error.hint}`;
  if (error instanceof QlikOAuthError) return `Error ${error.code} (${error.rule}): ${error.message} What to do: ${error.hint}`;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return `Error: ${error instanceof Error ? error.message : String(error)}${code ? ` (${code})` : ''}`;
}

/**
 * Runs a command after reading .env: its result's JSON as the last line of stdout and exit 0, or
 * one line on stderr (escaped: nothing a tenant or browser sent can drive the terminal) and exit 1 or 2.
 */
export async function runCommand(command: () => Promise<unknown>): Promise<never> {
  let code: number;
  try {
    loadDotEnv();
    const result = await command();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    code = 0;
  } catch (error) {
    process.stderr.write(`${escapeControl(failureLine(error))}\n`);
    code = error instanceof ConfigError || error instanceof ConfigurationError ? 2 : 1;
  }
  // Let stdout drain before leaving (a pipe may be slower than the process).
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
