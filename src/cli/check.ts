// `npm run check`: the preflight of src/cli/preflight.ts, with the settings from the environment
// and a .env file in the working directory (variables already set win over it), printed one line
// per check. Exit code 0: nothing failed; 1: a check failed; 2: the settings cannot be used.

import { ConfigError, loadDotEnv } from '../settings.ts';
import { formatLine, preflight } from './preflight.ts';

async function main(): Promise<number> {
  try {
    loadDotEnv();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stdout.write(`${formatLine({ status: 'FAIL', name: 'settings', text: `${error.message} Fix: ${error.hint}` })}\n`);
    return 2;
  }
  const { exitCode, lines } = await preflight(process.env, { onLine: (line) => process.stdout.write(`${line}\n`) });
  const failed = lines.filter((line) => line.status === 'FAIL').length;
  const warned = lines.filter((line) => line.status === 'warn').length;
  const summary =
    exitCode === 2
      ? 'The settings cannot be used; fix them and run npm run check again.'
      : failed > 0
        ? `${failed} check${failed > 1 ? 's' : ''} failed${warned > 0 ? `, ${warned} warning${warned > 1 ? 's' : ''}` : ''}.`
        : `All checks passed${warned > 0 ? `, ${warned} warning${warned > 1 ? 's' : ''}` : ''}.`;
  process.stdout.write(`${summary}\n`);
  return exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`The check itself failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exitCode = 1;
  },
);
