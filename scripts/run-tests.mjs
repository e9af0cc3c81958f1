// Runs the test/**/*.test.ts files with node:test through tsx: `npm test` the fast ones, `npm run
// test:all` (--all) every one. test/browser/ has its own script (npm run test:browser).
// Node 20 cannot expand a glob given to --test (Node 22+ can), so we list the files here.
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

// The slow files, left to `npm run test:all`: each starts other processes, which costs seconds on a
// small machine. Everything else (unit, integration, end to end on 127.0.0.1) is the fast suite.
const SLOW = [
  'test/bench.test.ts', // the bench, --quick, in a child process
  'test/copy-paste.test.ts', // tsc, then plain node on the copied files
  'test/app-main.test.ts', // npm start (src/main.ts), once per setting
  'test/app-main-help.test.ts', // npm start -- --help and SANDBOX_* settings
  'test/npm-start.test.ts', // npm start through npm, stopped by a signal
  'test/cli-login.test.ts', // npm run login
  'test/cli-m2m.test.ts', // npm run m2m
  'test/sandbox-cli.test.ts', // npm run sandbox
];

const missing = SLOW.filter((file) => !existsSync(file));
if (missing.length > 0) {
  console.error(`scripts/run-tests.mjs lists slow test files that do not exist: ${missing.join(', ')}. Update SLOW.`);
  process.exit(1);
}
const fast = readdirSync('test', { recursive: true })
  .map(String)
  .filter((name) => name.endsWith('.test.ts') && !name.startsWith('browser/'))
  .map((name) => join('test', name))
  .filter((file) => !SLOW.includes(file))
  .sort();

/** Runs the files with node:test, at most `concurrency` files at a time; true when every test passed. */
function runTests(files, concurrency) {
  // A test that hangs (a loop a check should have stopped) fails after a minute instead of stalling CI.
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=60000', ...files];
  return spawnSync(process.execPath, args, { stdio: 'inherit' }).status === 0;
}

// node:test runs each file in its own process, by default one file fewer than the cores at a time:
// one at a time on 2 cores, with a core idle while a file waits on sockets and timers. One file per
// core halves that wait; more files per core were no faster on 2 cores, and starve the tests that
// allow a sign-in a few hundred milliseconds.
let passed = runTests(fast, availableParallelism());
// The slow files one at a time: the bench measures, and the others start processes of their own.
if (process.argv.includes('--all')) passed = runTests(SLOW, 1) && passed;
process.exit(passed ? 0 : 1);
