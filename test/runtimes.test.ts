// The checks `npm run test:runtimes` runs on Node 20, Node 24, Bun, Deno and workerd
// (scripts/runtimes/flow.mjs), here on this Node: they pass with src/index.ts, and each failure a
// runtime showed before its fix (issue 18) makes its check fail.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from '../src/index.ts';
import { startFixtures } from '../scripts/runtimes/fixtures.ts';

// Plain JavaScript with no declarations, so that every runtime runs it as it is.
const flowUrl = new URL('../scripts/runtimes/flow.mjs', import.meta.url).href;
const { runChecks } = await import(flowUrl);
const fixtures = await startFixtures();
after(() => fixtures.close());

interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

function resultOf(results: CheckResult[], name: string): CheckResult {
  const result = results.find((r) => r.name === name);
  assert.ok(result, `no check named ${name}`);
  return result;
}

/** What discover() throws for the closed port on this Node: a real NETWORK_ERROR. */
async function networkError(): Promise<lib.QlikOAuthError> {
  const error = await lib.discover(fixtures.config.closedPortUrl).catch((e: unknown) => e);
  assert.ok(error instanceof lib.QlikOAuthError && error.code === 'NETWORK_ERROR');
  return error;
}

test('runtimes: the sign-in, machine, stalled-body and closed-port checks pass with src/index.ts on this Node', async () => {
  const results: CheckResult[] = await runChecks(lib, fixtures.config);
  assert.deepEqual(
    results.filter((r) => !r.ok),
    [],
  );
  assert.deepEqual(
    results.map((r) => r.name),
    ['sign-in', 'machine', 'stalled-body', 'closed-port'],
  );
});

test('runtimes: a NETWORK_ERROR whose message gives no reason (Bun, workerd before the fix) fails closed-port', async () => {
  const failure = await networkError();
  failure.message = `GET ${fixtures.config.closedPortUrl}/.well-known/oauth-authorization-server failed.`;
  const discover = async () => {
    throw failure;
  };
  const results: CheckResult[] = await runChecks({ ...lib, discover }, fixtures.config);
  const closedPort = resultOf(results, 'closed-port');
  assert.equal(closedPort.ok, false);
  assert.match(closedPort.detail, /gives no reason/);
});

test('runtimes: a stalled body reported as NETWORK_ERROR (workerd before the fix) fails stalled-body', async () => {
  const failure = await networkError();
  const discover = async (url: string, options: lib.HttpOptions) => {
    if (url === fixtures.config.stalledBodyUrl) throw failure;
    return lib.discover(url, options);
  };
  const results: CheckResult[] = await runChecks({ ...lib, discover }, fixtures.config);
  const stalled = resultOf(results, 'stalled-body');
  assert.equal(stalled.ok, false);
  assert.match(stalled.detail, /gave NETWORK_ERROR, not TIMEOUT/);
  assert.equal(resultOf(results, 'sign-in').ok, true);
});
