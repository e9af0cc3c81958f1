// `npm start` stops when its own PID is sent SIGTERM (issue 12, finding 11). A process manager stops
// the process it started: npm's. npm passes SIGTERM to the shell it ran the script in, which dies
// without passing it on, so the app kept serving. Now the script runs node directly and the app
// stops when npm goes (src/main.ts stopOnSignals). Ctrl-C in a terminal signals the whole process
// group, npm, shell and app alike. The app's output pipe closes only once every process holding it
// has exited — npm, the shell, and the app — so its end marks the app's exit.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';

const ROOT = new URL('..', import.meta.url).pathname;

/** True when nothing accepts connections at the URL's port any more. */
function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname === 'localhost' ? '127.0.0.1' : hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

const WAYS = [
  { name: "SIGTERM at npm's PID (a process manager)", signal: 'SIGTERM', group: false },
  { name: 'SIGINT at its process group (Ctrl-C in a terminal)', signal: 'SIGINT', group: true },
] as const;

for (const { name, signal, group } of WAYS) {
  describe(`npm start, sent ${name}`, () => {
    it('stops the app within a couple of seconds and frees its port', async () => {
      const env = { ...process.env, PORT: '0', TRACE: '0', QLIK_TENANT_URL: '', QLIK_CLIENT_ID: '', QLIK_CLIENT_SECRET: '', APP_URL: '' };
      // In a process group of its own, as a terminal's foreground job is.
      const npm = spawn('npm', ['start', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stdout = '';
      let stderr = '';
      npm.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      npm.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const closed = new Promise<void>((resolve) => npm.stdout.once('end', resolve));
      try {
        // Ready once it prints where to open it (a cold start of tsx can take a while on a busy machine).
        for (let i = 0; i < 600 && !/Open\s+http/.test(stdout); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
        const app = /Open\s+(http:\/\/\S+)/.exec(stdout)?.[1];
        const tenant = /Tenant\s+(http:\/\/\S+)/.exec(stdout)?.[1];
        assert.ok(app && tenant, `no "Open" line: ${stdout} ${stderr}`);
        assert.equal(await refused(app), false, 'the app serves');

        if (group) process.kill(-npm.pid!, signal);
        else npm.kill(signal);
        const sent = performance.now();
        const outcome = await Promise.race([closed.then(() => 'exited'), new Promise((resolve) => setTimeout(() => resolve('still running'), 4_000))]);
        assert.equal(outcome, 'exited', `the app still runs ${Math.round(performance.now() - sent)} ms after ${signal}: ${stdout}`);
        assert.equal(await refused(app), true, 'the app port is free');
        assert.equal(await refused(tenant), true, 'the sandbox port is free');
        assert.match(stdout, /stopping…/);
      } finally {
        if (npm.exitCode === null) npm.kill('SIGKILL');
        // Whatever is left of this test's own group (the app, if it did not stop) goes too.
        try {
          process.kill(-npm.pid!, 'SIGKILL');
        } catch {
          // the group is gone: everything stopped
        }
      }
    });
  });
}
