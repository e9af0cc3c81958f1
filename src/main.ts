// `npm start`: read the settings, start the local sandbox tenant when no tenant is configured,
// start the app, and say what to open. Ctrl-C stops it.
//
// Exit codes: 0 stopped on request, 1 could not start (tenant discovery failed, port busy),
// 2 a setting is wrong (nothing was started, nothing was sent over the network).

import { createApp, readConfig, type App, type EnvConfig } from './app/index.ts';
import { QlikOAuthError } from './errors.ts';
import { isLoopbackHost } from './http.ts';
import { ConfigError, loadDotEnv, readSandboxSettings } from './settings.ts';
import { startSandbox, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_FAULTS, type Sandbox, type SandboxFaultInfo, type SandboxOptions } from './sandbox/index.ts';
import { startHelp } from './cli/help.ts';

/** Prints the lines to stderr and exits: no stack trace, just what happened and what to do. */
function exitWith(code: number, lines: string[]): never {
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(code);
}

/** Reads and checks every setting; a ConfigError stops it here, before anything starts. */
function readSettings(): { config: EnvConfig; sandboxOptions: SandboxOptions | undefined } {
  try {
    loadDotEnv();
    return { config: readConfig(process.env), sandboxOptions: readSandboxSettings(process.env) };
  } catch (error) {
    if (error instanceof ConfigError) exitWith(2, [`Configuration error: ${error.message}`, `Fix: ${error.hint}`]);
    throw error;
  }
}

/**
 * Where to listen: the APP_URL host when it is this machine (say 127.0.0.1), else "localhost".
 * Behind a proxy (APP_URL=https://app.example.com) the proxy reaches the app on localhost.
 */
function listenHost(appUrl: string | undefined): string {
  const hostname = appUrl === undefined ? 'localhost' : new URL(appUrl).hostname;
  if (!isLoopbackHost(hostname)) return 'localhost';
  return hostname.replace(/^\[(.*)\]$/, '$1'); // [::1] → ::1
}

async function start(config: EnvConfig, sandbox: Sandbox | undefined, faults: readonly SandboxFaultInfo[]): Promise<App> {
  const tenantUrl = config.tenantUrl ?? sandbox!.url;
  try {
    return await createApp({
      tenantUrl,
      clientId: config.clientId ?? SANDBOX_CLIENT_ID,
      clientSecret: config.clientAssertion ? undefined : (config.clientSecret ?? SANDBOX_CLIENT_SECRET),
      clientAssertion: config.clientAssertion,
      scope: config.scope,
      port: config.port,
      host: listenHost(config.appUrl),
      ...(config.appUrl === undefined ? {} : { appUrl: config.appUrl }),
      sandbox: sandbox !== undefined, // attacks on your own sign-in at /trace: sandbox only
      sandboxFaults: faults, // a failure they cause is named as theirs, on the error page and /trace
      ...(config.sessionSecret === undefined ? {} : { sessionSecret: config.sessionSecret }),
      // Each sign-in's transcript, redacted by src/trace.ts, on the console. TRACE=0 turns it off.
      ...(process.env.TRACE === '0' ? {} : { onTranscript: (text: string) => process.stdout.write(`${text}\n`) }),
    });
  } catch (error) {
    await sandbox?.close();
    if (error instanceof QlikOAuthError) {
      exitWith(1, [
        `Could not start: tenant discovery at ${tenantUrl} failed (${error.code}, ${error.rule}).`,
        error.message,
        `What to do: ${error.hint}`,
      ]);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      exitWith(1, [
        `Could not start: port ${config.port} ${code === 'EADDRINUSE' ? 'is already in use' : 'may not be used by this user'}.`,
        'What to do: stop the other program, or set PORT to a free port, e.g. PORT=3001 (and APP_URL to match, if you set it).',
      ]);
    }
    throw error;
  }
}

function printReady(app: App, config: EnvConfig, sandbox: Sandbox | undefined, faults: readonly SandboxFaultInfo[]): void {
  const lines = [
    '',
    `  Open            ${app.url}`,
    `  Tenant          ${app.metadata.issuer}${sandbox ? '  (local sandbox tenant)' : ''}`,
    `  Client ID       ${config.clientId ?? SANDBOX_CLIENT_ID}`,
    `  Redirect URI    ${app.redirectUri}`,
    sandbox
      ? '                  (registered with the sandbox tenant for you)'
      : '                  (must be registered, exactly, for this client: Administration → OAuth)',
    // A tenant broken on purpose: say so before the first sign-in fails.
    ...faults.flatMap((fault) => [
      `  Sandbox fault   SANDBOX_FAULT=${fault.name}: ${fault.description}`,
      `                  (on purpose: expect ${fault.expectedCheck} to refuse it; unset SANDBOX_FAULT to sign in normally)`,
    ]),
    '',
    '  Ctrl-C stops the app.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Ctrl-C (SIGINT) or SIGTERM: stop taking requests, finish those in flight, close, exit 0. */
function stopOnSignals(app: App, sandbox: Sandbox | undefined): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1); // a second Ctrl-C: do not wait any longer
    stopping = true;
    process.stdout.write(`\n${signal}: stopping…\n`);
    // A request waiting on a slow tenant gets 3 s to finish, then its connection is cut.
    setTimeout(() => app.server.closeAllConnections(), 3_000).unref();
    app
      .close()
      .then(() => sandbox?.close())
      .then(
        () => process.exit(0),
        (error: unknown) => exitWith(1, [`Stopping failed: ${(error as Error).message}`]),
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Under `npm start`, npm's PID is the one a process manager knows and signals. npm passes the
  // signal to the shell it ran this script in, and that shell (dash, /bin/sh on Debian) dies without
  // passing it on: this process would keep serving. So when the parent goes, stop as for SIGTERM.
  if (process.env.npm_lifecycle_event !== undefined) {
    const parent = process.ppid;
    const watch = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(watch);
      stop('npm stopped');
    }, 200);
    watch.unref();
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(startHelp());
    process.exit(0);
  }
  const { config, sandboxOptions } = readSettings();
  const sandbox = sandboxOptions === undefined ? undefined : await startSandbox(sandboxOptions);
  // The faults SANDBOX_FAULT switched on: named to the user, and on any failure they cause.
  const faults = SANDBOX_FAULTS.filter((fault) => sandboxOptions?.faults?.includes(fault.name));
  const app = await start(config, sandbox, faults);
  sandbox?.addRedirectUri(SANDBOX_CLIENT_ID, app.redirectUri);
  printReady(app, config, sandbox, faults);
  stopOnSignals(app, sandbox);
}

main().catch((error: unknown) => {
  exitWith(1, [`Could not start: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`]);
});
