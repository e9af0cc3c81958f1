// The transcript for readers and tools: why each parameter of a request is there, and the
// transcript as versioned JSON. Display only: the events were redacted when they were recorded
// (src/trace.ts, src/redact.ts), and nothing here adds a value that was not in them.

import { ruleLinks, type TraceEvent } from './trace.ts';
import { CHECKS, type CheckCode } from './checks.ts';
import { NATIVE_CHECKS } from './native-login.ts';
import type { Step } from './errors.ts';

/** Why each parameter goes over the wire, in a reader's words, shown beside its decoded value. */
const PARAMETER_WHY: Record<string, string> = {
  // RFC 6749 §4.1.1, RFC 7636 §4.3: the authorization request
  response_type: 'code: the authorization code flow — the browser gets a short-lived code, never a token',
  client_id: 'which OAuth client of the tenant is asking (public: it is in every URL)',
  redirect_uri: 'where the tenant sends the browser back; must equal a registered redirect URI exactly',
  scope: 'what the app may do for the user (Qlik: user_default; offline_access for a refresh token)',
  state: 'a random value for this sign-in, sealed with the verifier in this browser’s sign-in cookie (the server keeps nothing per sign-in); the callback must bring it back (stops CSRF)',
  code_challenge: 'SHA-256 of the verifier, which only the app can read (sealed in this browser’s sign-in cookie; PKCE): a stolen code is useless without it',
  code_challenge_method: 'S256: the challenge is a SHA-256 hash, never the verifier itself',
  prompt: 'none: no sign-in page if already signed in; login: always ask',
  login_hint: 'the user name to fill in on the sign-in page',
  max_age: 'seconds since the last sign-in after which the user must sign in again',
  // RFC 6749 §4.1.2, RFC 9207 §2: the callback
  code: 'the authorization code: single use, short-lived, worth nothing without the verifier and the client secret',
  iss: 'the issuer that answered (RFC 9207): must be this tenant, or the code may be from another server (mix-up)',
  error: 'the tenant refused the sign-in (RFC 6749 §4.1.2.1)',
  error_description: 'the tenant’s explanation of the error',
  error_uri: 'a page about the error',
  error_code: 'Qlik’s own error code',
  error_detail: 'Qlik’s own error detail',
  // RFC 6749 §4.1.3, §6, RFC 7636 §4.5, RFC 7009 §2.1: token endpoint and revocation
  grant_type: 'what is traded for tokens: authorization_code, refresh_token or client_credentials',
  code_verifier: 'the PKCE secret made at /login, sealed in this browser’s sign-in cookie (src/app/seal.ts): proves this app started the sign-in',
  client_secret: 'the client’s password (client_secret_post): back channel only, never in a browser',
  refresh_token: 'the long-lived token that gets a new access token without the user',
  token: 'the token to revoke',
  token_type_hint: 'which kind of token it is, so the tenant looks it up faster',
};

/** Why a parameter is sent, or undefined for one this project does not send or expect. */
export function parameterWhy(name: string): string | undefined {
  return Object.hasOwn(PARAMETER_WHY, name) ? PARAMETER_WHY[name] : undefined;
}

/** The JSON transcript's format. Bumped when a field changes meaning or goes away. */
export const TRANSCRIPT_JSON_VERSION = 2;

/**
 * GET /trace?format=json: the events, each check with its outcome, rule URLs and docs page, and
 * bodies parsed where they are JSON (a body cut to its size cap no longer parses: a string).
 */
export function transcriptJson(events: readonly TraceEvent[]): { version: number; events: unknown[] } {
  return {
    version: TRANSCRIPT_JSON_VERSION,
    events: events.map((event) => {
      if (event.type === 'check') {
        const urls = ruleLinks(event.rule).flatMap((link) => (link.href ? [link.href] : []));
        const page = docsPageOf(event.code);
        return {
          ...event,
          outcome: outcomeOf(event),
          ruleUrl: urls[0] ?? null,
          ruleUrls: urls,
          docs: page === undefined ? null : `docs/${page}`,
        };
      }
      if (event.type === 'exchange') {
        return { ...event, requestBody: parsedIfJson(event.requestBody), responseBody: parsedIfJson(event.responseBody) };
      }
      return event;
    }),
  };
}

/** held, failed, or n/a (the check had nothing to look at). */
export function outcomeOf(check: { passed: boolean; applicable: boolean }): 'held' | 'failed' | 'n/a' {
  if (!check.passed) return 'failed';
  return check.applicable ? 'held' : 'n/a';
}

function parsedIfJson(body: string | undefined): unknown {
  if (body === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? value : body;
  } catch {
    return body;
  }
}

const DOCS_PAGES: Record<Step, string | undefined> = {
  http: 'http.md',
  '3.1': '3.1-discovery.md',
  '3.2': '3.2-authorize.md',
  '3.3': '3.3-token.md',
  '3.4': '3.4-api.md',
  lifecycle: 'lifecycle.md',
  machine: 'machine.md',
};

/**
 * `STATE_MISMATCH` → `3.3-token.md`: the docs page whose check table has this code. The command-line
 * sign-in's checks belong to steps 3.2 and 3.3 but have their table on its own page.
 */
export function docsPageOf(code: string): string | undefined {
  if (Object.hasOwn(NATIVE_CHECKS, code)) return 'native-login.md';
  const step = CHECKS[code as CheckCode]?.step;
  return step === undefined ? undefined : DOCS_PAGES[step];
}
