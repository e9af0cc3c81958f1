// Every error code the sandbox sends, in one list, so each failure has a stable name that tests,
// the app's transcript and a learner can look up.
//
// Only OAUTH-22 ("Invalid client_secret") is taken from Qlik's documentation. Qlik does not
// publish its other OAUTH-* numbers, so the rest are the sandbox's own: same shape, made-up numbers.
// The HTTP-* codes follow Qlik's REST convention (HTTP-401, HTTP-429, ...).

export interface ErrorCode {
  code: string;
  title: string;
}

/** GET /oauth/authorize and POST /oauth/authorize/decision. */
export const AUTHORIZE = {
  badParameter: { code: 'OAUTH-1', title: 'Invalid authorization request' },
  unknownClient: { code: 'OAUTH-2', title: 'Unknown client_id' },
  badRedirectUri: { code: 'OAUTH-3', title: 'Invalid redirect_uri' },
  unsupportedResponseType: { code: 'OAUTH-4', title: 'Unsupported response_type' },
  badScope: { code: 'OAUTH-5', title: 'Invalid scope' },
  pkceMethod: { code: 'OAUTH-6', title: 'code_challenge_method must be S256' },
  badChallenge: { code: 'OAUTH-7', title: 'Invalid code_challenge' },
  denied: { code: 'OAUTH-8', title: 'Access denied' },
  loginRequired: { code: 'OAUTH-9', title: 'Login required' },
  unknownTransaction: { code: 'OAUTH-10', title: 'Unknown or expired sign-in' },
  badUser: { code: 'OAUTH-11', title: 'Invalid user name' },
  badDecision: { code: 'OAUTH-12', title: 'Invalid decision' },
} as const satisfies Record<string, ErrorCode>;

/** POST /oauth/token and POST /oauth/revoke. */
export const TOKEN = {
  badParameter: { code: 'OAUTH-21', title: 'Missing or invalid parameter' },
  badSecret: { code: 'OAUTH-22', title: 'Invalid client_secret' },
  basicAuth: { code: 'OAUTH-23', title: 'Unsupported client authentication' },
  unsupportedGrant: { code: 'OAUTH-24', title: 'Unsupported grant_type' },
  badVerifier: { code: 'OAUTH-25', title: 'Invalid code_verifier' },
  unknownCode: { code: 'OAUTH-26', title: 'Invalid authorization code' },
  codeReused: { code: 'OAUTH-27', title: 'Authorization code already used' },
  codeExpired: { code: 'OAUTH-28', title: 'Authorization code expired' },
  codeOtherClient: { code: 'OAUTH-29', title: 'Authorization code issued to another client' },
  redirectMismatch: { code: 'OAUTH-30', title: 'redirect_uri mismatch' },
  pkceFailed: { code: 'OAUTH-31', title: 'PKCE verification failed' },
  badRefreshToken: { code: 'OAUTH-32', title: 'Invalid refresh token' },
  tokenOtherClient: { code: 'OAUTH-33', title: 'Token issued to another client' },
  scopeTooWide: { code: 'OAUTH-34', title: 'Invalid scope' },
  missingSecret: { code: 'OAUTH-35', title: 'Missing client_secret' },
  unknownClient: { code: 'OAUTH-36', title: 'Unknown client_id' },
} as const satisfies Record<string, ErrorCode>;

/** Generic HTTP failures, on any path. */
export const HTTP = {
  badRequest: { code: 'HTTP-400', title: 'Bad Request' },
  unauthorized: { code: 'HTTP-401', title: 'Unauthorized' },
  forbidden: { code: 'HTTP-403', title: 'Forbidden' },
  notFound: { code: 'HTTP-404', title: 'Not Found' },
  methodNotAllowed: { code: 'HTTP-405', title: 'Method Not Allowed' },
  tooLarge: { code: 'HTTP-413', title: 'Payload Too Large' },
  tooManyRequests: { code: 'HTTP-429', title: 'Too Many Requests' },
  internal: { code: 'HTTP-500', title: 'Internal Server Error' },
} as const satisfies Record<string, ErrorCode>;
