// `npm run sandbox` (usage below): the sandbox tenant alone, so the examples, the command-line sign-in
// and the M2M snippets can be tried against it without reading the source. Prints its URL and every
// client; reads the SANDBOX_* settings (settings.ts) from the environment or a .env file; writes the JWT
// client's private key to a file of its own, removed when Ctrl-C (SIGINT) or SIGTERM stops it.
// Exit codes: 0 stopped on request, 1 could not start (port busy), 2 a setting is wrong.
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANDBOX_CLIENT_ID, SANDBOX_JWT_CLIENT_ID, type SandboxClient, type SandboxOptions } from './options.ts';
import { SANDBOX_FAULTS, SANDBOX_SWITCHES, sandboxOptionsFromEnv } from './settings.ts';
import { checkRedirectUri } from './context.ts';
import { startSandbox } from './server.ts';
import { ConfigError, loadDotEnv } from '../settings.ts';

const DEFAULT_SANDBOX_PORT = 3001; // next to the app's 3000
/** The app's redirect URI with its defaults (PORT=3000), registered for the web client. */
const APP_REDIRECT_URI = 'http://localhost:3000/login/callback';

const USAGE = `Usage: npm run sandbox [-- --port N] [--redirect-uri URI]...

Runs the local sandbox tenant alone on 127.0.0.1 and prints its URL and clients.
  --port N            port to listen on (default: SANDBOX_PORT, else ${DEFAULT_SANDBOX_PORT}; 0 = any free port)
  --redirect-uri URI  one more redirect URI for the web client (repeatable); ${APP_REDIRECT_URI} is always registered
Settings: SANDBOX_FAULT=<name>[,<name>...], SANDBOX_TOKEN_SECONDS=N,
${SANDBOX_SWITCHES.map((s) => `  ${s.env}=${s.values.map(([value]) => value).join('|')}  ${s.help}`).join('\n')}
Faults:
${SANDBOX_FAULTS.map((fault) => `  ${fault.name.padEnd(24)} ${fault.description}`).join('\n')}`;

interface CliSettings {
  options: SandboxOptions;
  port: number;
  redirectUris: string[];
}

function readCliSettings(argv: string[], env: Record<string, string | undefined>): CliSettings | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, 'redirect-uri': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new ConfigError((error as Error).message, 'See the usage: npm run sandbox -- --help.');
  }
  if (parsed.values.help) return 'help';
  const portText = parsed.values.port ?? env.SANDBOX_PORT ?? String(DEFAULT_SANDBOX_PORT);
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65_535) {
    throw new ConfigError(`The port "${portText.slice(0, 20)}" (from ${parsed.values.port === undefined ? 'SANDBOX_PORT' : '--port'}) is not a port number from 0 to 65535.`, 'Give a free port, or 0 for any free one, e.g. --port 0.');
  }
  const redirectUris = [APP_REDIRECT_URI, ...(parsed.values['redirect-uri'] ?? [])];
  try {
    redirectUris.forEach(checkRedirectUri);
    return { options: { ...sandboxOptionsFromEnv(env), port }, port, redirectUris };
  } catch (error) {
    throw new ConfigError((error as Error).message, 'Fix the SANDBOX_* setting; npm run sandbox -- --help lists them.');
  }
}

/** The lines `npm run sandbox` prints: URL, settings, and every client with what it needs. */
function describeSandbox(url: string, clients: SandboxClient[], options: SandboxOptions, keyFile: string): string[] {
  const lines = [
    `Sandbox tenant listening at ${url}`,
    `  issuer / QLIK_TENANT_URL   ${url}`,
    `  metadata                   ${url}/.well-known/oauth-authorization-server`,
    `  errors                     ${options.errors ?? 'terse'}${options.errors === 'detailed' ? ' (explained, for learning)' : ' (as a real tenant; SANDBOX_ERRORS=detailed explains them)'}`,
    `  access token lifetime      ${options.accessTokenLifetimeSeconds ?? 21600} s`,
    `  faults                     ${options.faults?.length ? options.faults.join(', ') : 'none (SANDBOX_FAULT=<name> breaks it on purpose)'}`,
    '',
    'Clients (everyone can read these secrets: never reuse them anywhere real):',
  ];
  for (const client of clients) {
    lines.push(
      '',
      `  ${client.clientId}`,
      `    type            ${client.type}${clientKind(client)}`,
      `    client secret   ${client.clientSecret ?? '(none)'}`,
      ...(client.clientId === SANDBOX_JWT_CLIENT_ID ? [`    private key     ${keyFile}  (PKCS#8 PEM, EC P-384 for ES384: QLIK_CLIENT_PRIVATE_KEY_FILE; new at each start)`] : []),
      `    grant types     ${(client.grantTypes ?? []).join(', ')}`,
      `    scopes allowed  ${(client.scopes ?? []).join(' ')}`,
      `    redirect URIs   ${client.redirectUris.length > 0 ? client.redirectUris.join(', ') : '(none)'}${client.type === 'native' ? '  (any port, RFC 8252 §7.3)' : ''}`,
    );
    if (client.allowedOrigins) lines.push(`    allowed origins ${client.allowedOrigins.join(', ')}  (CORS)`);
  }
  lines.push('', 'Any user name signs in at the consent page; there are no passwords. Ctrl-C stops the sandbox.');
  return lines;
}

function clientKind(client: SandboxClient): string {
  if (client.publicKey !== undefined) return ' (confidential, private key JWT: registered by public key)';
  if (client.clientSecret === undefined) return ' (public: no secret, PKCE only)';
  if (client.grantTypes?.includes('client_credentials')) return ' (confidential, machine-to-machine and impersonation)';
  return ' (confidential)';
}

async function main(): Promise<void> {
  let settings;
  try {
    loadDotEnv();
    settings = readCliSettings(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Configuration error: ${error.message}\nWhat to do: ${error.hint}\n`);
    process.exit(2);
  }
  if (settings === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  let sandbox;
  try {
    sandbox = await startSandbox(settings.options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'is already in use' : code === 'EACCES' ? 'may not be used by this user' : `failed (${(error as Error).message})`;
    process.stderr.write(`Could not start: port ${settings.port} ${why}.\nWhat to do: stop the other program, or pass --port (or SANDBOX_PORT), e.g. --port 0 for any free port.\n`);
    process.exit(1);
  }
  for (const uri of settings.redirectUris) sandbox.addRedirectUri(SANDBOX_CLIENT_ID, uri);
  // The private key in a directory of its own, readable by this user only, removed at stop.
  const keyDir = mkdtempSync(join(tmpdir(), 'qlik-sandbox-'));
  const keyFile = join(keyDir, `${SANDBOX_JWT_CLIENT_ID}.pem`);
  writeFileSync(keyFile, sandbox.jwtPrivateKeyPem, { mode: 0o600 });
  process.stdout.write(`${describeSandbox(sandbox.url, sandbox.clients(), settings.options, keyFile).join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1); // a second Ctrl-C: do not wait any longer
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the sandbox tenant…\n`);
    rmSync(keyDir, { recursive: true, force: true });
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main();
