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
  const warnings = warned > 0 ? `, ${warned} warning${warned > 1 ? 's' : ''}` : '';
  let summary = `All checks passed${warnings}.`;
  if (failed > 0) summary = `${failed} check${failed > 1 ? 's' : ''} failed${warnings}.`;
  if (exitCode === 2) summary = 'The settings cannot be used; fix them and run npm run check again.';
  process.stdout.write(`${summary}\n`);
  return exitCode;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`The check itself failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
  process.exitCode = 1;
}
