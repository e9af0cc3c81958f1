// Every way a sign-in can fail, each with a stable code, the rule it enforces, and what to do next.
//
// The catalogue below is the one list of checks in this project: the step modules throw these
// codes, the transcript shows them, and the docs' check tables are read from it. An auditor can
// read it top to bottom as the client's whole rulebook.

/** The tutorial section a check belongs to (3.1–3.4), what comes after it, or the shared plumbing. */
export type Step = 'http' | '3.1' | '3.2' | '3.3' | '3.4' | 'lifecycle' | 'machine';

/**
 * The settings a failure points at, named by what they are rather than by any app's variable names
 * (the app maps them to QLIK_TENANT_URL and friends when it shows the error).
 */
export type Setting = 'tenantUrl' | 'clientId' | 'clientSecret' | 'scope' | 'redirectUri';

export interface CheckInfo {
  step: Step;
  /** The RFC section or Qlik fact the check enforces. */
  rule: string;
  /** What the check makes sure of, as a reader would say it. */
  title: string;
}

const rfc = (n: number, section: string) => `RFC ${n} §${section}`;
// No RFC asks for these; they keep one stuck, huge or endless answer from hanging or filling the app.
const BOUNDED = 'Robustness: every call is bounded';

/** Every check, by error code. Codes name the failure; `title` names what must hold. */
export const CHECKS = {
  // --- the network, for every call (src/http.ts)
  TIMEOUT: { step: 'http', rule: BOUNDED, title: 'the tenant answers within the timeout' },
  NETWORK_ERROR: { step: 'http', rule: 'Qlik: tenant reachable', title: 'the tenant can be reached' },
  INSECURE_URL: { step: 'http', rule: rfc(6749, '3.1'), title: 'the request goes over https (http only between loopback addresses)' },
  // RFC 9110 §15.4 leaves following to the client; RFC 9700 §4.12 (a 307 re-posting credentials)
  // is about the server's redirect and applies here by analogy.
  REDIRECT_REFUSED: { step: 'http', rule: rfc(9110, '15.4'), title: 'a tenant endpoint does not redirect' },
  BODY_TOO_LARGE: { step: 'http', rule: BOUNDED, title: 'the response body fits the size cap' },
  NOT_JSON: { step: 'http', rule: `${rfc(6749, '5.1')}, ${rfc(8414, '3.2')}`, title: 'the response is application/json' },
  JSON_INVALID: { step: 'http', rule: rfc(8259, '2'), title: 'the response body parses as JSON' },
  JSON_NOT_OBJECT: { step: 'http', rule: rfc(6749, '5.1'), title: 'the JSON body is an object' },

  // --- 3.1 discovery (src/1-discovery.ts)
  TENANT_URL_INVALID: { step: '3.1', rule: rfc(8414, '2'), title: 'the tenant URL is an absolute URL without query or fragment' },
  TENANT_URL_NOT_HTTPS: { step: '3.1', rule: rfc(8414, '2'), title: 'the tenant URL uses https (loopback excepted)' },
  DISCOVERY_HTTP_STATUS: { step: '3.1', rule: rfc(8414, '3.2'), title: 'the metadata request answers 200' },
  DISCOVERY_FAILED: { step: '3.1', rule: rfc(8414, '3.2'), title: 'one of the two well-known paths answers with metadata' },
  ISSUER_MISMATCH: { step: '3.1', rule: rfc(8414, '3.3'), title: 'the metadata issuer equals the tenant URL exactly' },
  ENDPOINT_MISSING: { step: '3.1', rule: rfc(8414, '2'), title: 'authorization and token endpoints are present' },
  ENDPOINT_INVALID: { step: '3.1', rule: rfc(8414, '2'), title: 'each endpoint is an absolute URL' },
  ENDPOINT_NOT_HTTPS: { step: '3.1', rule: rfc(6749, '3.1'), title: 'each endpoint uses https (loopback excepted)' },
  S256_NOT_SUPPORTED: { step: '3.1', rule: `${rfc(8414, '2')}, ${rfc(9700, '2.1.1')}`, title: 'a listed code_challenge_methods_supported includes S256' },
  CODE_FLOW_NOT_SUPPORTED: { step: '3.1', rule: rfc(8414, '2'), title: 'a non-empty response_types_supported includes code' },
  AUTH_METHOD_NOT_SUPPORTED: { step: '3.1', rule: rfc(8414, '2'), title: 'a listed token_endpoint_auth_methods_supported includes a method this client can use' },

  // --- 3.2 authorize (src/2-authorize.ts)
  VERIFIER_INVALID: { step: '3.2', rule: rfc(7636, '4.1'), title: 'the code verifier is 43–128 unreserved characters' },
  STATE_TOO_SHORT: { step: '3.2', rule: rfc(6749, '10.10'), title: 'the state is long enough to carry 128 bits' },
  SCOPE_INVALID: { step: '3.2', rule: rfc(6749, '3.3'), title: 'the scope is a space-separated list of scope tokens' },
  PROMPT_INVALID: { step: '3.2', rule: 'Qlik: authorize prompt is none or login', title: 'prompt, login_hint and max_age, when given, are values Qlik documents' },

  // --- 3.3 callback and token (src/3-token.ts)
  CALLBACK_TOO_LARGE: { step: '3.3', rule: BOUNDED, title: 'the callback has a sane number of parameters' },
  CALLBACK_PARAM_REPEATED: { step: '3.3', rule: rfc(6749, '3.1'), title: 'no callback parameter appears twice' },
  STATE_MISSING: { step: '3.3', rule: rfc(6749, '4.1.2'), title: 'the callback carries state' },
  STATE_MISMATCH: { step: '3.3', rule: rfc(6749, '10.12'), title: 'the callback state equals the one this browser was sent with' },
  // Single use is our rule: RFC 6749 §10.5 makes codes single-use; a used state is refused the same way.
  LOGIN_NOT_PENDING: { step: '3.3', rule: `${rfc(9700, '2.1')}, ${rfc(9700, '4.7.1')}`, title: 'the callback answers a sign-in that is still pending (state is single-use and expires)' },
  ISS_MISMATCH: { step: '3.3', rule: rfc(9207, '2.4'), title: 'a callback iss equals the tenant issuer' },
  ISS_MISSING: { step: '3.3', rule: rfc(9207, '2.4'), title: 'the callback carries iss when the tenant says it sends it' },
  AUTHORIZATION_ERROR: { step: '3.3', rule: rfc(6749, '4.1.2.1'), title: 'the tenant did not answer with an error' },
  CODE_MISSING: { step: '3.3', rule: rfc(6749, '4.1.2'), title: 'the callback carries a code' },
  TOKEN_ERROR_RESPONSE: { step: '3.3', rule: rfc(6749, '5.2'), title: 'the token endpoint did not answer with an error' },
  TOKEN_UNEXPECTED_STATUS: { step: '3.3', rule: rfc(6749, '5.1'), title: 'the token endpoint answers 200' },
  ACCESS_TOKEN_MISSING: { step: '3.3', rule: rfc(6749, '5.1'), title: 'access_token is a non-empty string' },
  TOKEN_TYPE_NOT_BEARER: { step: '3.3', rule: rfc(6749, '7.1'), title: 'token_type is bearer (any letter case)' },
  EXPIRY_INVALID: { step: '3.3', rule: rfc(6749, '5.1'), title: 'expires_in / expires_at, when present, give a time in the future' },
  TOKEN_FIELD_INVALID: { step: '3.3', rule: rfc(6749, '5.1'), title: 'refresh_token and scope, when present, are strings' },

  // --- 3.4 the Qlik API (src/4-api.ts)
  API_UNAUTHORIZED: { step: '3.4', rule: rfc(6750, '3.1'), title: 'the API accepts the access token' },
  API_FORBIDDEN: { step: '3.4', rule: rfc(6750, '3.1'), title: 'the token has the scope the API needs' },
  API_RATE_LIMITED: { step: '3.4', rule: 'Qlik: rate limits (429, retry-after)', title: 'the API is not rate limiting us' },
  API_ERROR: { step: '3.4', rule: 'Qlik: REST error body', title: 'the API answers 200' },
  USER_INVALID: { step: '3.4', rule: 'Qlik: users API', title: 'the user has id, name, subject and tenantId' },

  // --- beyond the tutorial: refresh, revoke, the REST helper, paging (src/5-lifecycle.ts)
  NO_REFRESH_TOKEN: { step: 'lifecycle', rule: rfc(6749, '6'), title: 'an expired access token comes with a refresh token to renew it' },
  SESSION_CLOSED: { step: 'lifecycle', rule: rfc(7009, '2.1'), title: 'no token is used or refreshed after sign-out' },
  REFRESH_FAILED: { step: 'lifecycle', rule: rfc(6749, '5.2'), title: 'the tenant renews the access token' },
  REVOKE_FAILED: { step: 'lifecycle', rule: rfc(7009, '2.2'), title: 'the tenant revokes the token' },
  WRITE_OUTCOME_UNKNOWN: { step: 'lifecycle', rule: rfc(9110, '9.2.2'), title: 'a write that may have been processed is not sent twice' },
  DEADLINE_EXCEEDED: { step: 'lifecycle', rule: BOUNDED, title: 'a request to the app finishes its tenant calls within its deadline' },
  FOREIGN_URL: { step: 'lifecycle', rule: rfc(6750, '5.3'), title: 'the bearer token goes to the tenant origin only' },
  URL_TOO_LONG: { step: 'lifecycle', rule: BOUNDED, title: 'a link from the tenant is of a sane length' },
  TOO_MANY_PAGES: { step: 'lifecycle', rule: BOUNDED, title: 'a paged list ends within the page limit' },

  // --- beyond the tutorial: the command-line sign-in of a native app (src/native-login.ts)
  REDIRECT_NOT_LOOPBACK: { step: '3.2', rule: rfc(8252, '7.3'), title: 'a native app redirects to http on the loopback interface' },
  LOOPBACK_TIMEOUT: { step: '3.3', rule: BOUNDED, title: 'the browser comes back to the loopback listener within the time limit' },

  // --- beyond the tutorial: machine-to-machine and impersonation (src/6-machine.ts)
  CONFIDENTIAL_CLIENT_REQUIRED: { step: 'machine', rule: rfc(6749, '4.4'), title: 'a machine grant is asked for by a confidential client, with its secret' },
  USER_LOOKUP_INVALID: { step: 'machine', rule: 'Qlik: user impersonation user_lookup', title: 'the user lookup is subject or userId with a non-empty value of sane length and no control characters' },
  MACHINE_TOKEN_REFUSED: { step: 'machine', rule: rfc(6749, '5.2'), title: 'the tenant grants the client its own token' },
  IMPERSONATION_REFUSED: { step: 'machine', rule: 'Qlik: user impersonation', title: 'the tenant finds the user and lets the client act as them' },
} as const satisfies Record<string, CheckInfo>;

export type CheckCode = keyof typeof CHECKS;

/** The base of every error this project throws on purpose. `message` never holds a secret. */
export class QlikOAuthError extends Error {
  readonly code: CheckCode;
  /** What the user or developer can do about it. */
  readonly hint: string;
  /** The settings to look at (an app names its own variables for them). */
  readonly settings: readonly Setting[];

  constructor(code: CheckCode, message: string, hint: string, options?: { cause?: unknown; settings?: readonly Setting[] }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
    this.settings = options?.settings ?? [];
  }

  get rule(): string {
    return CHECKS[this.code].rule;
  }

  /** The step this failure belongs to, from the check catalogue. */
  get step(): Step {
    return CHECKS[this.code].step;
  }
}

/** A network call failed: timeout, unreachable, redirect, too large, not JSON. */
export class HttpError extends QlikOAuthError {}

/** 3.1: the tenant URL or the tenant's metadata is not what a safe sign-in needs. */
export class DiscoveryError extends QlikOAuthError {}

/**
 * 3.2: the app asked for something no tenant should be sent (a short state, a bad scope or verifier).
 * The app is misconfigured; the user did nothing wrong.
 */
export class ConfigurationError extends QlikOAuthError {}

/** 3.3: the callback failed a check: forged, replayed, tampered, or from another tenant. */
export class CallbackError extends QlikOAuthError {}

/** 3.3: the tenant sent the user back with `error=…` (RFC 6749 §4.1.2.1, plus Qlik's own fields). */
export class AuthorizationError extends QlikOAuthError {
  readonly error: string;
  readonly errorDescription: string | undefined;
  readonly errorUri: string | undefined;
  /** Qlik adds its own `error_code` and `error_detail` to the redirect. */
  readonly qlikErrorCode: string | undefined;
  readonly qlikErrorDetail: string | undefined;

  constructor(fields: {
    error: string;
    errorDescription?: string | undefined;
    errorUri?: string | undefined;
    qlikErrorCode?: string | undefined;
    qlikErrorDetail?: string | undefined;
  }) {
    const said = [fields.errorDescription, fields.qlikErrorDetail].filter(Boolean).map((text) => clip(text!, 300)).join(' — ');
    super(
      'AUTHORIZATION_ERROR',
      `The tenant refused the sign-in: ${clip(fields.error)}${said ? ` (${said})` : ''}.`,
      fields.error === 'access_denied'
        ? 'The sign-in was declined at the tenant. Start again and choose Allow to continue.'
        : 'Check the OAuth client in the tenant (Administration → OAuth: redirect URI, scopes), then start the sign-in again.',
      { settings: fields.error === 'access_denied' ? [] : ['clientId', 'redirectUri', 'scope'] },
    );
    this.error = fields.error;
    this.errorDescription = fields.errorDescription;
    this.errorUri = fields.errorUri;
    this.qlikErrorCode = fields.qlikErrorCode;
    this.qlikErrorDetail = fields.qlikErrorDetail;
  }
}

/** The error a tenant put in a response body, in either shape it uses. */
export interface TenantErrorBody {
  /** RFC 6749 `error`, or Qlik's `errors[0].code` (e.g. `OAUTH-5`). */
  code: string | undefined;
  /** `error_description`, or Qlik's `title` and `detail`. */
  message: string | undefined;
  traceId: string | undefined;
}

/** 3.3: the token endpoint refused the code (or a refresh token), or answered something unusable. */
export class TokenError extends QlikOAuthError {
  readonly status: number;
  readonly tenantError: TenantErrorBody | undefined;
  /** Seconds to wait, from `retry-after` on a 429 (Qlik: 100 token requests a minute). */
  readonly retryAfter: number | undefined;

  constructor(
    code: CheckCode,
    message: string,
    hint: string,
    details: { status: number; tenantError?: TenantErrorBody | undefined; retryAfter?: number | undefined; settings?: readonly Setting[] },
  ) {
    super(code, message, hint, { settings: details.settings ?? [] });
    this.status = details.status;
    this.tenantError = details.tenantError;
    this.retryAfter = details.retryAfter;
  }

  /** Qlik's traceId, which Qlik support asks for. */
  get traceId(): string | undefined {
    return this.tenantError?.traceId;
  }
}

/** 3.4: a Qlik REST call did not give us what we asked for. */
export class ApiError extends QlikOAuthError {
  readonly status: number;
  readonly tenantError: TenantErrorBody | undefined;
  /** RFC 6750 §3 `WWW-Authenticate` parameters, e.g. `{ error: 'invalid_token' }`. */
  readonly wwwAuthenticate: Record<string, string>;
  /** Seconds to wait, from `retry-after` on a 429. */
  readonly retryAfter: number | undefined;

  constructor(
    code: CheckCode,
    message: string,
    hint: string,
    details: {
      status: number;
      tenantError?: TenantErrorBody | undefined;
      wwwAuthenticate?: Record<string, string>;
      retryAfter?: number | undefined;
      settings?: readonly Setting[];
    },
  ) {
    super(code, message, hint, { settings: details.settings ?? [] });
    this.status = details.status;
    this.tenantError = details.tenantError;
    this.wwwAuthenticate = details.wwwAuthenticate ?? {};
    this.retryAfter = details.retryAfter;
  }

  /** Qlik's traceId, which Qlik support asks for. */
  get traceId(): string | undefined {
    return this.tenantError?.traceId;
  }
}

/**
 * Beyond the tutorial: the session cannot go on (signed out, nothing to refresh with, the tenant
 * refused a refresh or a revocation), or a helper refused to do something unsafe (a foreign link,
 * an endless list, a write that may already have happened). `cause` holds the underlying error.
 */
export class LifecycleError extends QlikOAuthError {
  /** True when the sign-in is over: the user has to sign in again. */
  readonly signInAgain: boolean;
  /** Seconds to wait before trying again, when the tenant said so. */
  readonly retryAfter: number | undefined;

  constructor(
    code: CheckCode,
    message: string,
    hint: string,
    details: { signInAgain?: boolean; retryAfter?: number | undefined; cause?: unknown; settings?: readonly Setting[] } = {},
  ) {
    super(code, message, hint, { cause: details.cause, settings: details.settings ?? [] });
    this.signInAgain = details.signInAgain ?? false;
    this.retryAfter = details.retryAfter;
  }

  /** Qlik's traceId of the underlying tenant error, when there is one. */
  get traceId(): string | undefined {
    const cause = this.cause;
    return cause instanceof TokenError || cause instanceof ApiError ? cause.traceId : undefined;
  }
}

/**
 * A value the tenant (or a callback URL) sent, as a message shows it: a string in quotes, cut to 100
 * characters; a short list of short strings as JSON; anything else by its kind. A message never
 * repeats a whole value: it may be a megabyte long, or be an object with a token inside — and
 * messages reach the page, the log and the transcript (RFC 6750 §5.3: never let a token leak).
 */
export function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(clip(value));
  if (typeof value !== 'object' || value === null) return String(value);
  if (Array.isArray(value) && value.length <= 10 && value.every((item) => typeof item === 'string' && item.length <= 40)) {
    return JSON.stringify(value);
  }
  return Array.isArray(value) ? `an array of ${value.length} items` : 'an object';
}

/**
 * Free text, cut to `max` characters (no RFC: keeps pages, logs and transcripts small). The one
 * truncation helper of the project: messages, notes and bodies all use it.
 */
export function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

/**
 * For the transcript: a check that had nothing to look at (ISS_MISSING when the tenant never
 * promised iss) did not hold, it did not apply. `why` says so in a reader's words.
 */
export interface NotApplicable {
  applicable: false;
  why: string;
}

/** Reports each check as it passes or fails, for the transcript (src/trace.ts). */
export type CheckObserver = (code: CheckCode, passed: boolean, notApplicable?: NotApplicable) => void;

/**
 * Tells the observer that each of `codes` held (the RFC of each is in CHECKS). A step calls it once
 * its checks are all done; `notApplicable` names the ones that had nothing to check, and why.
 */
export function reportPassed(observer: CheckObserver | undefined, codes: readonly CheckCode[], notApplicable: Partial<Record<CheckCode, string>> = {}): void {
  if (!observer) return;
  for (const code of codes) {
    const why = notApplicable[code];
    if (why === undefined) observer(code, true);
    else observer(code, true, { applicable: false, why });
  }
}
