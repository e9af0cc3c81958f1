// grant_type=authorization_code: trade the code from the redirect for tokens (RFC 6749 §4.1.3).
import { createHash } from 'node:crypto';
import type { SandboxContext } from './context.ts';
import { TOKEN } from './error-codes.ts';
import { param } from './params.ts';
import { QlikFailure } from './respond.ts';
import { CODE_LIFETIME_MS, revokeGrant } from './store.ts';
import { authenticateClient, type ClientCredentials } from './client-auth.ts';
import { hasFault } from './context.ts';
import { issueToken, tokenResponse, type TokenResponse } from './issue.ts';
import { requireGrantType } from './grant-types.ts';

/** RFC 7636 §4.1: code_verifier = 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export function answerCodeGrant(body: URLSearchParams, creds: ClientCredentials, ctx: SandboxContext): TokenResponse {
  const client = authenticateClient(creds, ctx);
  requireGrantType(client, 'authorization_code');

  const code = param(body, 'code');
  const redirectUri = param(body, 'redirect_uri');
  const verifier = param(body, 'code_verifier');
  // RFC 6749 §4.1.3: code, and redirect_uri since the authorization request had one;
  // RFC 7636 §4.5: code_verifier, since the authorization request had a code_challenge.
  if (code === undefined || redirectUri === undefined || verifier === undefined) {
    const missing = { code, redirect_uri: redirectUri, code_verifier: verifier };
    const names = Object.entries(missing).filter(([, value]) => value === undefined).map(([name]) => name);
    throw new QlikFailure(400, TOKEN.badParameter, `Missing: ${names.join(', ')}.`);
  }
  // RFC 7636 §4.1: a short or odd verifier is a client bug (too little entropy, or a challenge sent by
  // mistake). RFC 7636 §4.6 calls any failed verification invalid_grant; Qlik: 401 OAUTH-5.
  if (!CODE_VERIFIER.test(verifier)) {
    throw new QlikFailure(401, TOKEN.badVerifier, `code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (got ${verifier.length} characters).`);
  }

  const record = ctx.store.codes.get(code);
  // SANDBOX_FAULT=code-reused: answer as a tenant does for a code it has already seen.
  if (hasFault(ctx, 'code-reused') && record !== undefined) record.used = true;
  if (record === undefined) {
    throw new QlikFailure(401, TOKEN.unknownCode, 'The authorization code is unknown. Start the sign-in again.');
  }
  // RFC 6749 §4.1.2: a code works once; a second use means it may have been stolen, so every token
  // issued from it is revoked ("SHOULD revoke (when possible) all tokens previously issued").
  if (record.used) {
    revokeGrant(ctx.store, record.grantId);
    throw new QlikFailure(401, TOKEN.codeReused, 'The authorization code was already used; tokens issued from it are now revoked. Start the sign-in again.');
  }
  // From here on the code is spent, even if a check below fails: a stolen code gets one try, not many.
  record.used = true;

  // RFC 6749 §4.1.2: codes are short-lived (a 10 min maximum is recommended); the sandbox allows 60 s.
  if (ctx.now() - record.issuedAt >= CODE_LIFETIME_MS) {
    throw new QlikFailure(401, TOKEN.codeExpired, `The authorization code is older than ${CODE_LIFETIME_MS / 1000} s. Exchange it at once; start the sign-in again.`);
  }
  // RFC 6749 §4.1.3: the code must have been issued to the client that presents it.
  if (record.clientId !== client.clientId) {
    throw new QlikFailure(401, TOKEN.codeOtherClient, 'The authorization code was issued to another client.');
  }
  // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorization request.
  if (redirectUri !== record.redirectUri) {
    throw new QlikFailure(401, TOKEN.redirectMismatch, 'redirect_uri differs from the one sent to /oauth/authorize; send exactly the same string.');
  }
  // RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) must equal the code_challenge. This is what makes
  // a code intercepted on its way back useless to anyone without the verifier.
  if (s256(verifier) !== record.codeChallenge) {
    throw new QlikFailure(401, TOKEN.pkceFailed, 'code_verifier does not match the code_challenge. Send the verifier saved with this sign-in\'s state.');
  }

  const grant = { clientId: client.clientId, user: record.user, scopes: record.scopes, grantId: record.grantId, authTime: record.issuedAt };
  const access = issueToken(ctx, 'access', grant);
  // Qlik: a refresh token only when offline_access was requested (and so granted).
  const refresh = record.scopes.includes('offline_access') ? issueToken(ctx, 'refresh', grant) : undefined;
  return tokenResponse(ctx, access, record.scopes, { refreshToken: refresh?.token, authTime: record.issuedAt });
}

/** The S256 transform of RFC 7636 §4.2. */
function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}
