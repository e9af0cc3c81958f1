// The sandbox's named faults: a tenant broken on purpose, one switch each, so a learner can predict
// which check of the client fires, flip it (SANDBOX_FAULT=<name>), and read /trace.

export interface SandboxFaultInfo {
  name: string;
  /** One line: what the sandbox does wrong. */
  description: string;
  /** The client's check code the learner should see. */
  expectedCheck: string;
}

/** Every named fault, in the order a sign-in meets them. docs/exercises.md and `--help` print this list. */
export const SANDBOX_FAULTS = [
  {
    name: 'discovery-http-endpoint',
    description: 'The metadata names a plain-http token endpoint on another host: codes and secrets would travel unencrypted.',
    expectedCheck: 'ENDPOINT_NOT_HTTPS',
  },
  {
    name: 'iss-mismatch',
    description: 'The metadata promises `iss` (RFC 9207); the callback carries the issuer of another tenant (a mix-up).',
    expectedCheck: 'ISS_MISMATCH',
  },
  {
    name: 'iss-missing',
    description: 'The metadata promises `iss` (RFC 9207); the callback leaves it out.',
    expectedCheck: 'ISS_MISSING',
  },
  {
    name: 'state-tampered',
    description: 'The callback carries a state other than the one the client sent (a forged or swapped callback).',
    expectedCheck: 'STATE_MISMATCH',
  },
  {
    name: 'code-reused',
    description: 'The token endpoint answers as for an authorization code that was already used (401).',
    expectedCheck: 'TOKEN_ERROR_RESPONSE',
  },
  {
    name: 'token-error',
    description: 'The token endpoint refuses every request with 401 OAUTH-5 "Unauthorized", as for a wrong secret.',
    expectedCheck: 'TOKEN_ERROR_RESPONSE',
  },
  {
    name: 'token-forbidden',
    description: 'The token endpoint answers 403, as for a disabled user or a reached token limit.',
    expectedCheck: 'TOKEN_ERROR_RESPONSE',
  },
  {
    name: 'token-slow',
    description: 'The token endpoint answers after 15 s, longer than the client waits (10 s).',
    expectedCheck: 'TIMEOUT',
  },
  {
    name: 'token-not-json',
    description: 'The token endpoint answers 200 with an HTML page instead of JSON, as a proxy\'s sign-in page does.',
    expectedCheck: 'NOT_JSON',
  },
  {
    name: 'api-401',
    description: 'The REST API answers 401 invalid_token to valid access tokens.',
    expectedCheck: 'API_UNAUTHORIZED',
  },
  {
    name: 'api-429',
    description: 'The REST API answers 429 with retry-after: 13, as Qlik does over its rate limit.',
    expectedCheck: 'API_RATE_LIMITED',
  },
] as const satisfies readonly SandboxFaultInfo[];

export type SandboxFaultName = (typeof SANDBOX_FAULTS)[number]['name'];

const NAMES: ReadonlySet<string> = new Set(SANDBOX_FAULTS.map((fault) => fault.name));

/** True for a string that names a fault. */
export function isSandboxFaultName(name: string): name is SandboxFaultName {
  return NAMES.has(name);
}

/**
 * Reads a SANDBOX_FAULT value: one name or several, comma-separated ("iss-missing, api-429").
 * An empty value is no fault. An unknown name throws, with the list of valid ones.
 */
export function parseSandboxFault(value: string): SandboxFaultName[] {
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !isSandboxFaultName(name));
  if (unknown.length > 0) {
    throw new Error(
      `SANDBOX_FAULT: unknown fault ${unknown.map((name) => JSON.stringify(name.slice(0, 40))).join(', ')}. ` +
        `Valid names (comma-separated): ${SANDBOX_FAULTS.map((fault) => fault.name).join(', ')}.`,
    );
  }
  return [...new Set(names)] as SandboxFaultName[];
}
