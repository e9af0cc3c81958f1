// `npm run build` emits plain ESM that runs on Node with no node_modules. This test builds, copies
// only the files a sign-in needs into an empty folder, and signs in from there against the sandbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STEP_FILES as DOCS_STEP_FILES } from '../scripts/docs.ts';
import { startSandbox, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET, SANDBOX_NATIVE_CLIENT_ID, type Sandbox } from '../src/sandbox/index.ts';

/** What each step needs, as its docs page says (scripts/docs.ts), as built .js files. */
const STEP_FILES = Object.fromEntries(
  Object.entries(DOCS_STEP_FILES).map(([step, files]) => [step, files.map((file) => file.replace(/^src\//, '').replace(/\.ts$/, '.js'))]),
);

let buildDir: string;
let sandbox: Sandbox;
const work: string[] = [];

before(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 'qlik-build-'));
  work.push(buildDir);
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', buildDir], { stdio: 'pipe' });
  sandbox = await startSandbox();
});
after(async () => {
  await sandbox?.close();
  for (const dir of work) rmSync(dir, { recursive: true, force: true });
});

/** The relative imports of a built file, as written in it. */
function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^import\s[^;]*?from\s+['"](\.[^'"]+)['"]/gm)].map((m) => m[1]!.replace('./', ''));
}

test('each step imports only what its docs page says to copy, and no package', () => {
  for (const [step, files] of Object.entries(STEP_FILES)) {
    const needed = new Set<string>();
    const visit = (file: string) => {
      if (needed.has(file)) return;
      needed.add(file);
      for (const dep of importsOf(join(buildDir, file))) visit(dep);
    };
    visit(files[0]!);
    assert.deepEqual([...needed].sort(), [...files].sort(), `step ${step}`);
    for (const file of files) {
      const source = readFileSync(join(buildDir, file), 'utf8');
      const bare = [...source.matchAll(/^import\s[^;]*?from\s+['"]([^'".][^'"]*)['"]/gm)].map((m) => m[1]);
      assert.ok(bare.every((name) => name!.startsWith('node:')), `${file} imports only node: built-ins, got ${bare.join(', ')}`);
    }
  }
});

test('a whole sign-in runs with plain node from an empty folder holding only the copied files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qlik-copy-'));
  work.push(dir);
  const files = new Set(Object.values(STEP_FILES).flat());
  for (const file of files) copyFileSync(join(buildDir, file), join(dir, file));
  copyFileSync('examples/sign-in.mjs', join(dir, 'sign-in.mjs'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  assert.deepEqual(readdirSync(dir).sort(), [...files, 'package.json', 'sign-in.mjs'].sort(), 'nothing else: no node_modules');

  const redirectUri = 'http://127.0.0.1:1/login/callback';
  sandbox.addRedirectUri(SANDBOX_CLIENT_ID, redirectUri);
  // Plain node: no tsx, no loader, no NODE_OPTIONS that could bring one in.
  const env = { ...process.env, NODE_OPTIONS: '' };
  // Asynchronously: the sandbox answers from this very process.
  const run = await promisify(execFile)(process.execPath, ['sign-in.mjs', sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, redirectUri], {
    cwd: dir,
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.deepEqual(Object.keys(JSON.parse(run.stdout)), ['name', 'tenantId']);
  assert.equal(JSON.parse(run.stdout).name, 'Grace');
});

test('a copied 3.3-token.ts alone refuses an http token endpoint for an https tenant, and sends nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qlik-copy-33-'));
  work.push(dir);
  for (const file of STEP_FILES['3.3']!) copyFileSync(join(buildDir, file), join(dir, file));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  // Whatever holds the port: it counts what reaches it.
  let requests = 0;
  const listener = createServer((_req, res) => {
    requests++;
    res.end('{}');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as AddressInfo).port;
  writeFileSync(
    join(dir, 'try.mjs'),
    `import { exchangeCode } from './3.3-token.js';
const metadata = { issuer: 'https://acme.eu.qlikcloud.com', authorizationEndpoint: 'https://acme.eu.qlikcloud.com/oauth/authorize',
  tokenEndpoint: 'http://127.0.0.1:${port}/oauth/token', revocationEndpoint: undefined, usersMeEndpoint: 'https://acme.eu.qlikcloud.com/api/v1/users/me',
  issParameterSupported: false, tokenEndpointAuthMethods: [], document: {} };
try {
  await exchangeCode(metadata, { clientId: 'id', clientSecret: 'the-secret', redirectUri: 'https://app.example.com/cb' }, { code: 'c', codeVerifier: 'v'.repeat(43) });
  console.log('SENT');
} catch (error) {
  console.log(error.code);
}
`,
  );
  try {
    const run = await promisify(execFile)(process.execPath, ['try.mjs'], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.stdout.trim(), 'INSECURE_URL');
    assert.equal(requests, 0);
  } finally {
    listener.close();
  }
});

/** An empty folder with the built files of `steps` and one example script, nothing else. */
function folderWith(steps: string[], example: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'qlik-copy-'));
  work.push(dir);
  const files = new Set(steps.flatMap((step) => STEP_FILES[step]!));
  for (const file of files) copyFileSync(join(buildDir, file), join(dir, file));
  copyFileSync(`examples/${example}`, join(dir, example));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  assert.deepEqual(readdirSync(dir).sort(), [...files, 'package.json', example].sort(), 'nothing else: no node_modules');
  return dir;
}

function runExample(dir: string, example: string, args: string[]) {
  return promisify(execFile)(process.execPath, [example, ...args], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8', timeout: 30_000 });
}

test('machine-to-machine runs with plain node from the machine files (plus discovery and the REST helper): client credentials, then impersonation', async () => {
  const dir = folderWith(['machine', 'lifecycle', '3.1'], 'm2m.mjs');
  const bot = await runExample(dir, 'm2m.mjs', [sandbox.url, SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET]);
  assert.deepEqual(JSON.parse(bot.stdout), { name: `${SANDBOX_M2M_CLIENT_ID} (bot)`, sameUser: true });
  const ada = await runExample(dir, 'm2m.mjs', [sandbox.url, SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET, 'sandbox|ada']);
  assert.deepEqual(JSON.parse(ada.stdout), { name: 'Ada', sameUser: true });
});

test('the loopback sign-in runs with plain node from the native files (plus discovery and 3.4), as a public client', async () => {
  const dir = folderWith(['native', '3.1', '3.4'], 'native-login.mjs');
  const run = await runExample(dir, 'native-login.mjs', [sandbox.url, SANDBOX_NATIVE_CLIENT_ID]);
  const out = JSON.parse(run.stdout);
  assert.equal(out.name, 'Grace');
  assert.match(out.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
});
