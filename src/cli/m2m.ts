// `npm run m2m -- [METHOD] [PATH]`: one Qlik REST call as a machine (src/machine.ts), its JSON
// answer as the last line of stdout. USAGE lists the arguments and settings. For example:
//
//   npm run m2m                                   GET /api/v1/users/me as the client's bot user
//   npm run m2m -- POST /api/v1/spaces --json '{"name":"Reports","type":"shared"}'
//   npm run m2m -- --impersonate subject:auth0|a1b2c3      as that user (Qlik's user impersonation)

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { discover } from '../3.1-discovery.ts';
import { qlikFetch } from '../lifecycle.ts';
import { IMPERSONATION_GRANT_TYPE, machineSession, type UserLookup } from '../machine.ts';
import { SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET, type Sandbox } from '../sandbox/index.ts';
import { ConfigError, readClient, readScope, readTenantUrl } from '../settings.ts';
import { runCommand, startLocalTenant } from './shared.ts';

const USAGE = `Usage: npm run m2m -- [METHOD] [PATH] [--json BODY] [--impersonate subject:VALUE | userId:VALUE]
  METHOD            GET (default; POST with --json), POST, PUT, PATCH or DELETE
  PATH              a path on the tenant (default /api/v1/users/me)
  --json BODY       a JSON body for a write
  --impersonate     act as a user of the tenant (Qlik's ${IMPERSONATION_GRANT_TYPE} grant)
Settings: QLIK_TENANT_URL, QLIK_CLIENT_ID, QLIK_CLIENT_SECRET (an M2M-enabled Web client), QLIK_SCOPE.
With no QLIK_TENANT_URL it runs against a local sandbox tenant.`;

const HELP = 'See npm run m2m -- --help for the usage.';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

interface M2mArguments {
  method: Method;
  path: string;
  json: unknown;
  userLookup: UserLookup | undefined;
}

/** The command line, checked. Throws ConfigError (exit 2) before anything is sent. */
export function parseM2mArguments(argv: string[]): M2mArguments | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'string' }, impersonate: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new ConfigError((error as Error).message, HELP);
  }
  if (parsed.values.help) return 'help';
  const positionals = [...parsed.positionals];
  if (positionals.length > 2) throw new ConfigError(`too many arguments: ${positionals.length}.`, HELP);
  const first = positionals[0]?.toUpperCase();
  const method = first !== undefined && (METHODS as readonly string[]).includes(first) ? (positionals.shift(), first as Method) : undefined;
  const path = positionals.shift() ?? '/api/v1/users/me';
  if (positionals.length > 0 || !path.startsWith('/') || path.startsWith('//')) {
    throw new ConfigError(`"${path.slice(0, 60)}" is not a method (${METHODS.join(', ')}) or a path on the tenant starting with /.`, HELP);
  }
  let json: unknown;
  if (parsed.values.json !== undefined) {
    try {
      json = JSON.parse(parsed.values.json);
    } catch {
      throw new ConfigError('--json is not valid JSON.', `Quote the body for the shell, e.g. --json '{"name":"Reports","type":"shared"}'.`);
    }
  }
  const chosen = method ?? (json === undefined ? 'GET' : 'POST');
  if (chosen === 'GET' && json !== undefined) throw new ConfigError('a GET has no body, but --json was given.', 'Name the method of the write, e.g. POST.');
  return { method: chosen, path, json, userLookup: parseImpersonate(parsed.values.impersonate) };
}

/** "subject:<value>" or "userId:<value>"; the value itself is checked by src/machine.ts (USER_LOOKUP_INVALID). */
function parseImpersonate(text: string | undefined): UserLookup | undefined {
  if (text === undefined) return undefined;
  const match = /^(subject|userId):([\s\S]*)$/.exec(text);
  if (match === null) {
    throw new ConfigError(`--impersonate "${text.slice(0, 60)}" does not start with subject: or userId:.`, 'Write --impersonate subject:<IdP subject> or --impersonate userId:<Qlik user id>.');
  }
  return { field: match[1] as UserLookup['field'], value: match[2]! };
}

async function main(): Promise<unknown> {
  const args = parseM2mArguments(process.argv.slice(2));
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const tenantUrl = readTenantUrl(process.env);
  const settings = readClient(process.env, false);
  // RFC 6749 §4.4.3: a machine gets no refresh token, so offline_access (shared .env with the app) is dropped.
  const scope = readScope(process.env, 'user_default').split(' ').filter((s) => s !== 'offline_access').join(' ');
  let sandbox: Sandbox | undefined;
  try {
    if (tenantUrl === undefined) sandbox = await startLocalTenant();
    const client = sandbox === undefined ? { ...settings, clientId: settings.clientId! } : { clientId: SANDBOX_M2M_CLIENT_ID, clientSecret: SANDBOX_M2M_CLIENT_SECRET };
    const metadata = await discover(tenantUrl ?? sandbox!.url);
    const session = machineSession(metadata, client, { scope, userLookup: args.userLookup });
    return await qlikFetch(session, args.path, { method: args.method, json: args.json });
  } finally {
    await sandbox?.close();
  }
}

// Run when started as a command; importing the file (tests) only gets its argument parser.
if (process.argv[1] === fileURLToPath(import.meta.url)) await runCommand(main);
