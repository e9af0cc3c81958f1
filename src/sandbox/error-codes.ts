// Every error code the sandbox sends, in one list, so each failure has a stable name to look up.
// Two kinds of code, and a learner must be able to tell them apart at a glance:
// - REAL: what a Qlik Cloud tenant answers, as documented or seen in public (qlik-oauth-facts.md).
//   OAUTH-1 (authorize: bad client or redirect URI, 400) and OAUTH-5 ("Unauthorized", 401, for every
//   client-auth or grant failure at the token endpoint). Qlik publishes no other OAUTH-* meanings.
// - OURS: everything starting with `SANDBOX-` is the sandbox's own invention, sent only with
//   `errors: 'detailed'` (SANDBOX_ERRORS=detailed) or where Qlik has no documented answer (the
//   authorization redirect's `error_code`, the sandbox's own consent page). A real tenant never sends them.
// The HTTP-<status> codes follow Qlik's REST convention (HTTP-429 is documented); where Qlik's
// OAuth code for a status is unpublished (a 400 or 403 at the token endpoint) we use them too: ours.

export interface ErrorCode {
  code: string;
  title: string;
}

/** A failure at /oauth/*: the sandbox's detailed code, the RFC 6749 name, and what a real tenant says. */
export interface OAuthErrorCode extends ErrorCode {
  /** RFC 6749 §4.1.2.1 / §5.2 error name, sent with `errors: 'detailed'`. */
  rfc: string;
  /** The terse answer of a real tenant (default `errors: 'terse'`); its own status when it differs. */
  real: ErrorCode & { status?: number };
}

/** REAL: Qlik's answer to every client-auth or grant failure at the token endpoint. [doc][seen] */
const UNAUTHORIZED: ErrorCode = { code: 'OAUTH-5', title: 'Unauthorized' };

/** Generic HTTP failures, on any path (Qlik's REST convention: HTTP-<status>). */
export const HTTP = {
  badRequest: { code: 'HTTP-400', title: 'Bad Request' },
  unauthorized: { code: 'HTTP-401', title: 'Unauthorized' },
  forbidden: { code: 'HTTP-403', title: 'Forbidden' },
  notFound: { code: 'HTTP-404', title: 'Not Found' },
  methodNotAllowed: { code: 'HTTP-405', title: 'Method Not Allowed' },
  tooLarge: { code: 'HTTP-413', title: 'Payload Too Large' },
  tooManyRequests: { code: 'HTTP-429', title: 'API rate limit reached.' }, // Qlik's documented title
  internal: { code: 'HTTP-500', title: 'Internal Server Error' },
} as const satisfies Record<string, ErrorCode>;

// `real` defaults to the code itself: the sandbox's own consent page has no real counterpart.
const oauth = (code: string, title: string, rfc: string, real: OAuthErrorCode['real'] = { code, title }): OAuthErrorCode => ({ code, title, rfc, real });

// GET /oauth/authorize (400s) and the redirect's error_code (ours: Qlik's are unpublished).
// The real OAUTH-1 title is [seen] for a bad redirect_uri; the other two are ours.
export const AUTHORIZE = {
  badParameter: oauth('SANDBOX-OAUTH-1', 'Invalid authorization request', 'invalid_request', { code: 'OAUTH-1', title: 'Invalid request' }),
  unknownClient: oauth('SANDBOX-OAUTH-2', 'Unknown client_id', 'invalid_client', { code: 'OAUTH-1', title: 'client_id is not registered' }),
  badRedirectUri: oauth('SANDBOX-OAUTH-3', 'Invalid redirect_uri', 'invalid_request', { code: 'OAUTH-1', title: 'redirect_uri is not registered' }),
  unsupportedResponseType: oauth('SANDBOX-OAUTH-4', 'Unsupported response_type', 'unsupported_response_type', HTTP.badRequest),
  badScope: oauth('SANDBOX-OAUTH-5', 'Invalid scope', 'invalid_scope', HTTP.badRequest),
  pkceMethod: oauth('SANDBOX-OAUTH-6', 'code_challenge_method must be S256', 'invalid_request', HTTP.badRequest),
  badChallenge: oauth('SANDBOX-OAUTH-7', 'Invalid code_challenge', 'invalid_request', HTTP.badRequest),
  denied: oauth('SANDBOX-OAUTH-8', 'Access denied', 'access_denied', HTTP.badRequest),
  loginRequired: oauth('SANDBOX-OAUTH-9', 'Login required', 'login_required', HTTP.badRequest),
  grantNotAllowed: oauth('SANDBOX-OAUTH-13', 'Client may not use this flow', 'unauthorized_client', HTTP.badRequest),
} as const satisfies Record<string, OAuthErrorCode>;

/** POST /oauth/authorize/decision: the sandbox's own consent page, so every code here is ours. */
export const CONSENT = {
  unknownTransaction: oauth('SANDBOX-OAUTH-10', 'Unknown or expired sign-in', 'invalid_request'),
  badUser: oauth('SANDBOX-OAUTH-11', 'Invalid user name', 'invalid_request'),
  badDecision: oauth('SANDBOX-OAUTH-12', 'Invalid decision', 'invalid_request'),
} as const satisfies Record<string, OAuthErrorCode>;

/** POST /oauth/token and POST /oauth/revoke. By default each answers as a real tenant: `real`. */
export const TOKEN = {
  badParameter: oauth('SANDBOX-OAUTH-21', 'Missing or invalid parameter', 'invalid_request', HTTP.badRequest),
  badSecret: oauth('SANDBOX-OAUTH-22', 'Invalid client_secret', 'invalid_client', UNAUTHORIZED),
  twoAuthMethods: oauth('SANDBOX-OAUTH-23', 'More than one client authentication method', 'invalid_request', HTTP.badRequest),
  unsupportedGrant: oauth('SANDBOX-OAUTH-24', 'Unsupported grant_type', 'unsupported_grant_type', HTTP.badRequest),
  badVerifier: oauth('SANDBOX-OAUTH-25', 'Invalid code_verifier', 'invalid_grant', UNAUTHORIZED),
  unknownCode: oauth('SANDBOX-OAUTH-26', 'Invalid authorization code', 'invalid_grant', UNAUTHORIZED),
  codeReused: oauth('SANDBOX-OAUTH-27', 'Authorization code already used', 'invalid_grant', UNAUTHORIZED),
  codeExpired: oauth('SANDBOX-OAUTH-28', 'Authorization code expired', 'invalid_grant', UNAUTHORIZED),
  codeOtherClient: oauth('SANDBOX-OAUTH-29', 'Authorization code issued to another client', 'invalid_grant', UNAUTHORIZED),
  redirectMismatch: oauth('SANDBOX-OAUTH-30', 'redirect_uri mismatch', 'invalid_grant', UNAUTHORIZED),
  pkceFailed: oauth('SANDBOX-OAUTH-31', 'PKCE verification failed', 'invalid_grant', UNAUTHORIZED),
  badRefreshToken: oauth('SANDBOX-OAUTH-32', 'Invalid refresh token', 'invalid_grant', UNAUTHORIZED),
  tokenOtherClient: oauth('SANDBOX-OAUTH-33', 'Token issued to another client', 'invalid_grant', UNAUTHORIZED),
  scopeTooWide: oauth('SANDBOX-OAUTH-34', 'Invalid scope', 'invalid_scope', HTTP.badRequest),
  missingSecret: oauth('SANDBOX-OAUTH-35', 'Missing client_secret', 'invalid_client', UNAUTHORIZED),
  unknownClient: oauth('SANDBOX-OAUTH-36', 'Unknown client_id', 'invalid_client', UNAUTHORIZED),
  badClientAuth: oauth('SANDBOX-OAUTH-37', 'Malformed or unsupported client authentication', 'invalid_client', UNAUTHORIZED),
  publicWithSecret: oauth('SANDBOX-OAUTH-38', 'Public clients have no secret', 'invalid_client', UNAUTHORIZED),
  // RFC 6749 §5.2: unauthorized_client is a 400; a real tenant's answer is unknown [?], so terse says OAUTH-5 401.
  grantNotAllowed: oauth('SANDBOX-OAUTH-39', 'Client may not use this grant', 'unauthorized_client', { ...UNAUTHORIZED, status: 401 }),
  unknownUser: oauth('SANDBOX-OAUTH-40', 'No such user to impersonate', 'invalid_grant', UNAUTHORIZED),
  // Qlik documents 403 for a disabled user or a reached token limit, without a code.
  forbidden: oauth('SANDBOX-OAUTH-41', 'User disabled or token limit reached', 'access_denied', HTTP.forbidden),
  fault: oauth('SANDBOX-OAUTH-42', 'Refused on purpose (SANDBOX_FAULT=token-error)', 'invalid_client', UNAUTHORIZED),
  badAssertion: oauth('SANDBOX-OAUTH-43', 'Invalid client assertion', 'invalid_client', UNAUTHORIZED),
} as const satisfies Record<string, OAuthErrorCode>;

/** The spaces API's errors. Qlik's SPACES-* numbers are unpublished: these are OURS. */
export const SPACES = {
  badRequest: { code: 'SPACES-SANDBOX-400', title: 'Invalid space' },
  notFound: { code: 'SPACES-SANDBOX-404', title: 'Space not found' },
  conflict: { code: 'SPACES-SANDBOX-409', title: 'A space with this name already exists' },
  tooMany: { code: 'SPACES-SANDBOX-403', title: 'Space limit reached' },
} as const satisfies Record<string, ErrorCode>;
