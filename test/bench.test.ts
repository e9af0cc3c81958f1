// `npm run bench -- --quick` must keep working: it runs every part of the bench with tiny counts and
// writes its JSON to a temporary folder. Timings are not asserted (this machine is shared and
// noisy), only that every section is there and holds positive, finite numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchResult } from '../bench/report.ts';
import { medianCi95 } from '../bench/client-compare.ts';

/** Every number in the value, with its path, so a NaN (null in JSON) or a negative shows where it is. */
function numbers(value: unknown, path = ''): [string, unknown][] {
  if (typeof value === 'number' || value === null) return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => numbers(item, `${path}[${i}]`));
  if (typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => numbers(item, `${path}.${key}`));
  return [];
}

test('npm run bench -- --quick exits 0 and writes every section with positive numbers', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qlik-bench-'));
  const docsBefore = existsSync('docs/benchmarks.md') ? readFileSync('docs/benchmarks.md', 'utf8') : undefined;
  try {
    const run = await promisify(execFile)('npm', ['run', '--silent', 'bench', '--', '--quick', '--out', dir], {
      encoding: 'utf8',
      timeout: 170_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.match(run.stdout, /Slowest step: /);
    const result = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as Required<BenchResult>;

    assert.equal(result.meta.mode, 'quick');
    assert.ok(result.meta.machine.cores > 0 && result.meta.machine.totalMemoryBytes > 0);

    const steps = result.clientCpu.steps.map((step) => step.id);
    assert.deepEqual(steps, ['discovery', 'authorize', 'callback', 'token', 'api', 'sign-in']);
    for (const step of result.clientCpu.steps) {
      assert.ok(step.us.median > 0 && step.us.min > 0 && step.us.max >= step.us.min, `client step ${step.id}`);
      for (const part of step.parts) assert.ok(part.us.median > 0, `client step ${step.id}, part ${part.id}`);
    }
    assert.ok(steps.includes(result.clientCpu.slowest.id) && result.clientCpu.slowest.explanation.length > 0);

    assert.deepEqual(result.throughput.levels.map((level) => level.concurrency), [1, 4]);
    for (const level of result.throughput.levels) {
      const at = `concurrency ${level.concurrency}`;
      assert.ok(level.signInsPerSecond.median > 0, at);
      assert.ok(level.latencyMs.p50 > 0 && level.latencyMs.p99 >= level.latencyMs.p50, at);
      assert.ok(level.perSignInMs.app > 0 && level.perSignInMs.tenant > 0 && level.cpuMsPerSignIn > 0, at);
      assert.ok(level.appToTenant.callsPerSignIn >= 2, `${at}: the app calls the token endpoint and /users/me`);
    }

    for (const kind of ['pending', 'signedIn', 'hostile'] as const) {
      const runs = result.memory.runs.filter((run) => run.kind === kind);
      assert.ok(runs.length > 0, `memory runs of ${kind}`);
      for (const run of runs) assert.ok(run.held > 0 && run.heapDeltaBytes > 0 && run.bytesPerEntry > 0, `memory ${kind} via ${run.via}`);
    }
    assert.ok(result.memory.perPendingBytes > 0 && result.memory.perSessionBytes > 0);
    assert.ok(result.memory.hostile.perSessionBytes > 0 && result.memory.hostile.msPerSession > 0);
    assert.ok(result.memory.limits.maxSessions > 0);
    assert.ok(result.memory.churn.belowCapUs.median > 0 && result.memory.churn.atCapUs.median > 0);

    const cold = result.coldStart;
    assert.ok(cold.buildMs > 0 && cold.bareNodeMs.median > 0 && cold.importLibraryMs.median > 0);
    assert.ok(cold.firstRequestMs.tsxSource.median > 0 && cold.firstRequestMs.builtDist.median > 0);

    const { compare } = result;
    assert.deepEqual(compare.flows.map((flow) => flow.id), ['ours', 'oauth4webapi', 'openid-client', 'canned-fetch', 'http-request']);
    for (const flow of compare.flows) assert.ok(flow.cpuUs.median > 0 && flow.wallUs.median > 0, `compare ${flow.id}`);
    // The three clients do the same work: the same three calls to the canned tenant.
    const signInCalls = { 'GET /.well-known/oauth-authorization-server': 1, 'POST /oauth/token': 1, 'GET /api/v1/users/me': 1 };
    for (const id of ['ours', 'oauth4webapi', 'openid-client']) assert.deepEqual(compare.flows.find((flow) => flow.id === id)!.calls, signInCalls, id);
    assert.ok(compare.ratio.oauth4webapi.median > 0 && compare.ratio.openidClient.median > 0);
    const [low, high] = compare.ratioMedianCi95!.oauth4webapi;
    assert.ok(compare.ratio.oauth4webapi.min <= low && low <= compare.ratio.oauth4webapi.median && compare.ratio.oauth4webapi.median <= high, 'the interval holds the median');

    const [ours, tutorial] = result.roundTrips.apps;
    assert.deepEqual([ours!.id, tutorial!.id], ['ours', 'tutorial']);
    for (const app of result.roundTrips.apps) assert.ok(app.totalMs.median >= 4 * result.roundTrips.settings.latencyMs, `${app.id}: at least 4 delayed round trips`);
    assert.ok(result.roundTrips.ratio > 0);
    // Counted, not timed: our sign-in makes no more tenant round trips in sequence than the tutorial's.
    // users/me is Qlik's documented 301: one round trip more for every client that reads the user.
    assert.equal(tutorial!.sequentialRoundTrips, 5, 'consent page, Allow, token, /users/me, its user resource');
    assert.ok(ours!.sequentialRoundTrips <= tutorial!.sequentialRoundTrips, `ours ${ours!.sequentialRoundTrips}, the tutorial's ${tutorial!.sequentialRoundTrips}`);
    const calls = ours!.callsByLeg['GET /login/callback']!;
    assert.deepEqual(calls.slice(0, 3), ['POST /oauth/token', 'GET /api/v1/users/me', 'GET /api/v1/spaces']);
    assert.match(calls[3]!, /^GET \/api\/v1\/users\/\w+$/, "users/me's 301, followed");
    assert.equal(calls.length, 4);

    const bad = numbers(result).filter(([, value]) => typeof value !== 'number' || !Number.isFinite(value));
    assert.deepEqual(bad, [], 'every figure is a finite number');

    const docsAfter = existsSync('docs/benchmarks.md') ? readFileSync('docs/benchmarks.md', 'utf8') : undefined;
    assert.equal(docsAfter, docsBefore, 'a quick run leaves docs/benchmarks.md alone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run bench -- --only compare --compare-node runs part 5 again under that node, in a child process', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qlik-bench-'));
  try {
    const run = await promisify(execFile)('npm', ['run', '--silent', 'bench', '--', '--quick', '--only', 'compare', '--compare-node', process.execPath, '--out', dir], {
      encoding: 'utf8',
      timeout: 110_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const result = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as BenchResult;
    assert.equal(result.compareOtherNode?.node, process.version);
    assert.deepEqual(result.compareOtherNode.compare.flows.map((flow) => flow.id), result.compare!.flows.map((flow) => flow.id));
    assert.ok(result.compareOtherNode.compare.ratio.oauth4webapi.median > 0);
    assert.match(run.stdout, new RegExp(`5b\\. The same on Node ${process.version.replace(/\./g, '\\.')} \\(--compare-node\\)`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medianCi95: ranks 49 and 72 of 120 (n/2 ∓ 0.98·√n), whatever the order; min and max when there are few', () => {
  const values = Array.from({ length: 120 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
  assert.deepEqual(medianCi95(values), [49, 72]);
  assert.deepEqual(medianCi95([3, 1, 2]), [1, 3]);
});

test('npm run bench -- --compare-node with a node that fails: the run goes on and says why part 5b is missing', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qlik-bench-'));
  try {
    const run = await promisify(execFile)('npm', ['run', '--silent', 'bench', '--', '--quick', '--only', 'compare', '--compare-node', '/nonexistent/node', '--out', dir], {
      encoding: 'utf8',
      timeout: 110_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const result = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as BenchResult;
    assert.equal(result.compareOtherNode, undefined);
    assert.ok(result.compare!.ratio.oauth4webapi.median > 0);
    assert.match(run.stderr, /--compare-node \/nonexistent\/node failed, part 5 is reported for this Node only/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
