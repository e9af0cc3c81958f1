// Runs every test/**/*.test.ts file with node:test through tsx (test/browser/ has its own script).
// Node 20 cannot expand a glob given to --test (Node 22+ can), so we list the files here.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dir = process.argv[2] ?? 'test';
const files = readdirSync(dir, { recursive: true })
  .map(String)
  .filter((name) => name.endsWith('.test.ts') && !name.startsWith('browser/'))
  .map((name) => join(dir, name))
  .sort();
if (files.length === 0) {
  console.error(`No *.test.ts files under ${dir}/`);
  process.exit(1);
}
// A test that hangs (a loop a check should have stopped) fails after a minute instead of stalling CI.
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-timeout=60000', ...files], { stdio: 'inherit' });
process.exit(run.status ?? 1);
