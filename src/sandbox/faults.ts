// The sandbox's named faults: a tenant broken on purpose, one switch each, so a learner can predict
// which check of the client fires, flip it (SANDBOX_FAULT=<name>), and read /trace.

export interface SandboxFaultInfo {
  name: string;
  /** One line: what the sandbox does wrong. */
  description: string;
  /** The client's check code the learner should see. */
  expectedCheck: string;
  /** The tutorial step whose check stops it: 3.1 discovery, 3.3 callback and token, 3.4 the API. */
  step: '3.1' | '3.3' | '3.4';
}

/** Every named fault, in the order a sign-in meets them. docs/exercises.md and `--help` print this list. */
export const SANDBOX_FAULTS = [
  {
    name: 'discovery-http-endpoint',
    description: 'The metadata names a plain-http token endpoint on another host: codes and secrets would travel unencrypted.',
    step: '3.1',
    expectedCheck: 'ENDPOINT_NOT_HTTPS',
  },
  {
    name: 'iss-mismatch',
    description: 'The metadata promises `iss` (RFC 9207); the callback carries the issuer of another tenant (a mix-up).',
    step: '3.3',
    expectedCheck: 'ISS_MISMATCH',
  },
  {
    name: 'iss-missing',
    description: 'The metadata promises `iss` (RFC 9207); the callback leaves it out.',
    step: '3.3',
    expectedCheck: 'ISS_MISSING',
  },
  {
    name: 'state-tampered',
    description: 'The callback carries a state other than the one the client sent (a forged or swapped callback).',
    step: '3.3',
    expectedCheck: 'STATE_MISMATCH',
  },
  {
    name: 'code-reused',
    description: 'The token endpoint answers as for an authorization code that was already used (401).',
    step: '3.3',
    expectedCheck: 'TOKEN_ERROR_RESPONSE',
  },
  {
    name: 'token-error',
    description: 'The token endpoint refuses every request with 401 OAUTH-5 "Unauthorized", as for a wrong secret.',
    step: '3.3',
    expectedCheck: 'TOKEN_ERROR_RESPONSE',
  },
  {
    name: 'token-forbidden',
    description: 'The token endpoint answers 403, as for a disabled user or a reached token limit.',
    step: '3.3',
    expectedCheck: 'TOKEN_ERROR_RESPONSE',
  },
  {
    name: 'token-slow',
    description: 'The token endpoint answers after 15 s, longer than the client waits (10 s).',
    step: '3.3',
    expectedCheck: 'TIMEOUT',
  },
  {
    name: 'token-not-json',
    description: 'The token endpoint answers 200 with an HTML page instead of JSON, as a proxy\'s sign-in page does.',
    step: '3.3',
    expectedCheck: 'NOT_JSON',
  },
  {
    name: 'api-401',
    description: 'The REST API answers 401 invalid_token to valid access tokens.',
    step: '3.4',
    expectedCheck: 'API_UNAUTHORIZED',
  },
  {
    name: 'api-429',
    description: 'The REST API answers 429 with retry-after: 13, as Qlik does over its rate limit.',
    step: '3.4',
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
