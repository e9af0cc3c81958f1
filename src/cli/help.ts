// `npm start -- --help`: every setting the app reads, and the sandbox's own, with each named fault
// and the check a learner should see when it is on. Built from the lists the code uses, so it
// cannot drift from them.

import { CALLBACK_PATH, DEFAULT_PORT, DEFAULT_SCOPE } from '../app/config.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_FAULTS, SANDBOX_SWITCHES } from '../sandbox/index.ts';

/** [name, meaning, default] — the app's contract (design.md), plus TRACE and SESSION_SECRET. */
const SETTINGS: readonly (readonly [string, string, string])[] = [
  ['QLIK_TENANT_URL', 'your tenant, e.g. https://acme.eu.qlikcloud.com', 'none: start the local sandbox tenant'],
  ['QLIK_CLIENT_ID', "the OAuth web client's ID", `the sandbox's ${SANDBOX_CLIENT_ID}`],
  ['QLIK_CLIENT_SECRET', "the OAuth web client's secret", "the sandbox's own"],
  ['QLIK_SCOPE', 'the scopes to ask for, space-separated (no openid)', DEFAULT_SCOPE],
  ['PORT', "the app's port", String(DEFAULT_PORT)],
  ['APP_URL', `the app's public base URL; the redirect URI is APP_URL + ${CALLBACK_PATH}`, 'http://localhost:<PORT>'],
  ['TRACE', 'TRACE=0: no protocol transcript on the console', 'on'],
  ['SESSION_SECRET', 'key (32 characters or more) for the cookie a sign-in under way is sealed in; set it when several processes serve one address', 'random per process'],
];

function table(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => indent + row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]! + 2))).join('').trimEnd());
}

export function startHelp(): string {
  const lines = [
    'npm start: the web app — sign in to Qlik Cloud with OAuth 2.0 (authorization code + PKCE), by hand.',
    '',
    'Usage: npm start            start the app (the local sandbox tenant when QLIK_TENANT_URL is unset)',
    '       npm start -- --help  this text',
    '       npm run check        check these settings against the tenant before anyone signs in',
    '',
    'Settings, from the environment or a .env file in the working directory (set variables win):',
    ...table(SETTINGS.map(([name, meaning, fallback]) => [name, `${meaning} (default: ${fallback})`]), '  '),
    '',
    'Only with the sandbox tenant (refused when QLIK_TENANT_URL is set: they only apply to the sandbox):',
    '  SANDBOX_FAULT=<name>[,<name>…]  break the sandbox on purpose; at that tutorial step, the client\'s check should stop it:',
    ...table([['name', 'step', 'check', 'what the sandbox does wrong'], ...SANDBOX_FAULTS.map((fault) => [fault.name, fault.step, fault.expectedCheck, fault.description])], '    '),
    ...table([
      ['SANDBOX_TOKEN_SECONDS=N', 'access tokens live N seconds (up to 30 days); default 21600 (6 h, as Qlik)'],
      ...SANDBOX_SWITCHES.map((s) => [`${s.env}=${s.values[1][0]}`, s.help]),
    ], '  '),
    '',
  ];
  return `${lines.join('\n')}\n`;
}
