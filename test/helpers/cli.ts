// Runs `npm run login` / `npm run m2m` as they are run (node --import tsx src/cli/…), as child
// processes, and plays the browser against the sandbox's consent page with fetch.
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';

/** The environment without any QLIK_* setting (and no .env is read: the child runs in the repo, which has none). */
export function envWithout(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('QLIK_') && !name.startsWith('SANDBOX_')) env[name] = value;
  return { ...env, NODE_OPTIONS: '', ...extra };
}

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stdout line that matches. */
  line: (pattern: RegExp) => Promise<string>;
  exit: Promise<number | null>;
}

export function runCli(script: 'login' | 'm2m', args: string[], env: NodeJS.ProcessEnv): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiting: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const wait of [...waiting]) {
      const found = out.split('\n').find((line) => wait.pattern.test(line));
      if (found !== undefined) {
        waiting.splice(waiting.indexOf(wait), 1);
        wait.resolve(found);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const found = out.split('\n').find((line) => pattern.test(line));
        if (found !== undefined) return resolve(found);
        waiting.push({ pattern, resolve });
        exit.then((code) => reject(new Error(`exited ${code} before printing ${pattern}; stdout: ${out.slice(-500)} stderr: ${err.slice(-800)}`)));
      }),
  };
}

/** The last non-empty line of stdout. */
export function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

/**
 * The browser: opens the authorization URL at the sandbox, presses Allow as `user`, and returns
 * where the tenant sends it back (the CLI's loopback callback URL) without going there yet.
 */
export async function allowAtSandbox(authorizationUrl: string, user = 'grace'): Promise<string> {
  const consent = await fetch(authorizationUrl, { redirect: 'manual' });
  assert.equal(consent.status, 200, 'the consent page');
  const tx = /name="tx" value="([^"]+)"/.exec(await consent.text())?.[1];
  assert.ok(tx, 'the consent page has a transaction id');
  const decision = await fetch(new URL('/oauth/authorize/decision', authorizationUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ tx, user, decision: 'allow' }),
  });
  assert.equal(decision.status, 302);
  return decision.headers.get('location')!;
}
