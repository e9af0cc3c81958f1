// The sandbox's settings: its named faults (a tenant broken on purpose, one switch each, so a learner
// can predict which check of the client fires, flip it with SANDBOX_FAULT=<name>, and read /trace),
// and the SANDBOX_* environment variables, so it can be changed without touching code.
import type { SandboxOptions } from './options.ts';
import type { SandboxContext } from './context.ts';

export interface SandboxFaultInfo {
  name: string;
  /** One line: what the sandbox does wrong. */
  description: string;
  /** The client's check code the learner should see. */
  expectedCheck: string;
  /** The tutorial step whose check stops it: 3.1 discovery, 3.3 callback and token, 3.4 the API. */
  step: '3.1' | '3.3' | '3.4';
}

/** Every fault for learners, in the order a sign-in meets them. docs/exercises.md and `--help` print this list. */
export const SANDBOX_FAULTS = [
  { name: 'discovery-http-endpoint', step: '3.1', expectedCheck: 'ENDPOINT_NOT_HTTPS',
    description: 'The metadata names a plain-http token endpoint on another host: codes and secrets would travel unencrypted.' },
  { name: 'iss-mismatch', step: '3.3', expectedCheck: 'ISS_MISMATCH',
    description: 'The metadata promises `iss` (RFC 9207); the callback carries the issuer of another tenant (a mix-up).' },
  { name: 'iss-missing', step: '3.3', expectedCheck: 'ISS_MISSING',
    description: 'The metadata promises `iss` (RFC 9207); the callback leaves it out.' },
  { name: 'state-tampered', step: '3.3', expectedCheck: 'STATE_MISMATCH',
    description: 'The callback carries a state other than the one the client sent (a forged or swapped callback).' },
  { name: 'code-reused', step: '3.3', expectedCheck: 'TOKEN_ERROR_RESPONSE',
    description: 'The token endpoint answers as for an authorization code that was already used (401).' },
  { name: 'token-error', step: '3.3', expectedCheck: 'TOKEN_ERROR_RESPONSE',
    description: 'The token endpoint refuses every request with 401 OAUTH-5 "Unauthorized", as for a wrong secret.' },
  { name: 'token-forbidden', step: '3.3', expectedCheck: 'TOKEN_ERROR_RESPONSE',
    description: 'The token endpoint answers 403, as for a disabled user or a reached token limit.' },
  { name: 'token-429', step: '3.3', expectedCheck: 'TOKEN_ERROR_RESPONSE',
    description: 'The token endpoint answers 429 with retry-after: 30, as over Qlik\'s limit of 100 token requests a minute.' },
  { name: 'token-500', step: '3.3', expectedCheck: 'TOKEN_ERROR_RESPONSE',
    description: 'The token endpoint fails with 500 and a Qlik error body with its traceId, as a tenant in trouble.' },
  { name: 'token-502', step: '3.3', expectedCheck: 'TOKEN_ERROR_RESPONSE',
    description: 'The token endpoint answers 502 with an HTML page, as a proxy in front of a tenant that is down.' },
  { name: 'token-slow', step: '3.3', expectedCheck: 'TIMEOUT',
    description: 'The token endpoint answers after 15 s, longer than the client waits (10 s).' },
  { name: 'token-not-json', step: '3.3', expectedCheck: 'NOT_JSON',
    description: 'The token endpoint answers 200 with an HTML page instead of JSON, as a proxy\'s sign-in page does.' },
  { name: 'api-401', step: '3.4', expectedCheck: 'API_UNAUTHORIZED',
    description: 'The REST API answers 401 invalid_token to valid access tokens.' },
  { name: 'api-429', step: '3.4', expectedCheck: 'API_RATE_LIMITED',
    description: 'The REST API answers 429 with retry-after: 13, as Qlik does over its rate limit.' },
] as const satisfies readonly SandboxFaultInfo[];

/** Faults for tests rather than exercises: the client copes with them, so no check fires. */
export const TEST_FAULTS = [
  { name: 'api-429-once', description: 'The next REST call, and only that one, gets 429 with retry-after: 1 (a wait the client sits out).' },
] as const;

export type SandboxFaultName = (typeof SANDBOX_FAULTS)[number]['name'] | (typeof TEST_FAULTS)[number]['name'];

const NAMES: readonly string[] = [...SANDBOX_FAULTS, ...TEST_FAULTS].map((fault) => fault.name);

/** True while the named fault is switched on. */
export function hasFault(ctx: Pick<SandboxContext, 'faults'>, name: SandboxFaultName): boolean {
  return ctx.faults.named.includes(name);
}

/** Reads a SANDBOX_FAULT value: names, comma-separated ("iss-missing, api-429"); an unknown one throws. */
export function parseSandboxFault(value: string): SandboxFaultName[] {
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !NAMES.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `SANDBOX_FAULT: unknown fault ${unknown.map((name) => JSON.stringify(name.slice(0, 40))).join(', ')}. ` +
        `Valid names (comma-separated): ${NAMES.join(', ')}.`,
    );
  }
  return [...new Set(names)] as SandboxFaultName[];
}

/** The SANDBOX_* settings with two values each, the default first. [?]: no source settles it; try both. */
export const SANDBOX_SWITCHES = [
  { env: 'SANDBOX_ERRORS', option: 'errors', values: [['terse', 'terse'], ['detailed', 'detailed']],
    help: 'explain each OAuth error (RFC 6749 error names, the sandbox\'s own codes); default terse: "Unauthorized" (OAUTH-5), as a real tenant answers' },
  { env: 'SANDBOX_USERS_ME', option: 'usersMeRedirect', values: [['301', true], ['200', false]],
    help: 'GET /api/v1/users/me answers the user at once; default 301: as documented, a redirect to /api/v1/users/{id}' },
  { env: 'SANDBOX_WEB_CODE_SECRET', option: 'webCodeWithoutSecret', values: [['required', false], ['optional', true]],
    help: '[?] unknown — try both: a Web client may exchange a code without its secret (PKCE alone); default required' },
  { env: 'SANDBOX_PUBLIC_REFRESH', option: 'publicClientRefreshTokens', values: [['issued', true], ['none', false]],
    help: '[?] unknown — try both: public (native, SPA) clients get no refresh token; default issued' },
  { env: 'SANDBOX_REFRESH_CLIENT_ID', option: 'refreshClientId', values: [['ignored', 'ignored'], ['refused', 'refused']],
    help: '[?] unknown — try both: a refresh request that carries client_id is refused (400); default ignored' },
  { env: 'SANDBOX_403_CHALLENGE', option: 'challengeOn403', values: [['sent', true], ['none', false]],
    help: '[?] unknown — try both: a 403 from the REST API has no WWW-Authenticate header; default sent (insufficient_scope)' },
] as const satisfies readonly { env: string; option: keyof SandboxOptions; values: readonly (readonly [string, unknown])[]; help: string }[];

/** Longest access-token lifetime accepted: 30 days, the refresh token's. */
const MAX_TOKEN_SECONDS = 30 * 24 * 60 * 60;

/** Every SANDBOX_* setting (SANDBOX_PORT is read by `npm run sandbox` only). */
const SANDBOX_SETTINGS: readonly string[] = ['SANDBOX_FAULT', 'SANDBOX_TOKEN_SECONDS', 'SANDBOX_PORT', ...SANDBOX_SWITCHES.map((s) => s.env)];

/** The SandboxOptions the environment asks for; unset or empty variables leave the defaults. */
export function sandboxOptionsFromEnv(env: Record<string, string | undefined>): SandboxOptions {
  rejectUnknownSettings(env);
  const options: SandboxOptions = {};

  const fault = env.SANDBOX_FAULT?.trim();
  if (fault) options.faults = parseSandboxFault(fault);

  const seconds = env.SANDBOX_TOKEN_SECONDS?.trim();
  if (seconds) {
    const value = Number(seconds);
    if (!/^\d+$/.test(seconds) || value < 1 || value > MAX_TOKEN_SECONDS) {
      throw new Error(
        `SANDBOX_TOKEN_SECONDS: "${seconds.slice(0, 40)}" is not a whole number of seconds from 1 to ${MAX_TOKEN_SECONDS}. ` +
          'Set it to the access token lifetime you want, e.g. SANDBOX_TOKEN_SECONDS=30.',
      );
    }
    options.accessTokenLifetimeSeconds = value;
  }

  for (const { env: name, option, values, help } of SANDBOX_SWITCHES) {
    const text = env[name]?.trim();
    if (!text) continue;
    const chosen = values.find(([value]) => value === text);
    if (chosen === undefined) throw new Error(`${name}: "${text.slice(0, 40)}" is not valid. Valid values: ${values[0][0]} (the default) or ${values[1][0]}: ${help}.`);
    Object.assign(options, { [option]: chosen[1] });
  }
  return options;
}

/** A misspelt setting (SANDBOX_FAULTS=…) would silently do nothing; say so instead. */
function rejectUnknownSettings(env: Record<string, string | undefined>): void {
  for (const name of Object.keys(env)) {
    if (!name.startsWith('SANDBOX_') || SANDBOX_SETTINGS.includes(name)) continue;
    const guess = [...SANDBOX_SETTINGS].sort((a, b) => commonPrefix(b, name) - commonPrefix(a, name))[0]!;
    throw new Error(`${name.slice(0, 60)} is not a sandbox setting (did you mean ${guess}?). Settings: ${SANDBOX_SETTINGS.join(', ')}.`);
  }
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i += 1;
  return i;
}
