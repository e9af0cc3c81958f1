// grant_type=refresh_token: a new access token without the user (RFC 6749 §6).
import type { SandboxContext } from './context.ts';
import { TOKEN } from './error-codes.ts';
import { param } from './params.ts';
import { QlikFailure } from './respond.ts';
import { revokeGrant, type TokenRecord } from './store.ts';
import { authenticateClient, type ClientCredentials } from './client-auth.ts';
import { requireGrantType } from './grant-types.ts';
import { issueToken, tokenResponse, type TokenResponse } from './issue.ts';
import { splitScope } from './scopes.ts';

export function answerRefreshGrant(body: URLSearchParams, creds: ClientCredentials, ctx: SandboxContext): TokenResponse {
  const token = param(body, 'refresh_token');
  if (token === undefined) throw new QlikFailure(400, TOKEN.badParameter, 'refresh_token is missing.');
  const stored = ctx.store.tokens.get(token);
  const record = stored?.kind === 'refresh' ? stored : undefined;

  // Qlik: client_id is not in the refresh schema; without it, the client is the one the token was issued to.
  if (creds.clientId === undefined && record === undefined) throw invalid('The refresh token is unknown. Sign in again.');
  const client = authenticateClient(creds, ctx, record?.clientId);
  requireGrantType(client, 'refresh_token');

  if (record === undefined) throw invalid('The refresh token is unknown. Sign in again.');
  // RFC 6749 §6: the refresh token must have been issued to the authenticated client.
  if (record.clientId !== client.clientId) {
    throw new QlikFailure(401, TOKEN.tokenOtherClient, 'The refresh token was issued to another client.');
  }
  if (record.revoked) throw invalid('The refresh token was revoked. Sign in again.');
  if (record.rotated) {
    // RFC 9700 §4.14.2 (only with refreshTokenReuseDetection; Qlik documents none): an old refresh token
    // presented after rotation means it leaked, or the client kept the old one. The server cannot tell
    // who is honest, so it ends the whole grant.
    if (ctx.refreshTokenReuseDetection) {
      revokeGrant(ctx.store, record.grantId);
      throw invalid('The refresh token was already used and replaced by a newer one; every token from this sign-in is now revoked. Keep the newest refresh_token. Sign in again.');
    }
    throw invalid('The refresh token was already used and replaced by a newer one. Keep the newest refresh_token from each refresh.');
  }
  if (record.expiresAt <= ctx.now()) throw invalid('The refresh token has expired. Sign in again.');

  const scopes = narrowedScopes(param(body, 'scope'), record);
  const grant = { clientId: record.clientId, user: record.user, grantId: record.grantId, authTime: record.authTime };
  const access = issueToken(ctx, 'access', { ...grant, scopes });
  if (!ctx.rotateRefreshTokens) {
    // No rotation: no refresh_token in the response; the client keeps using the one it has.
    return tokenResponse(ctx, access, scopes, { authTime: record.authTime });
  }
  // Rotation (RFC 9700 §4.14.2): a new refresh token with the original scope; the old one stops working.
  record.rotated = true;
  const next = issueToken(ctx, 'refresh', { ...grant, scopes: record.scopes });
  return tokenResponse(ctx, access, scopes, { refreshToken: next.token, authTime: record.authTime });
}

/** RFC 6749 §6: a refresh may ask for less scope than the original grant, never more. */
function narrowedScopes(scope: string | undefined, record: TokenRecord): string[] {
  const requested = scope === undefined ? [] : splitScope(scope);
  if (requested.length === 0) return record.scopes;
  const extra = requested.filter((s) => !record.scopes.includes(s));
  if (extra.length > 0) {
    throw new QlikFailure(400, TOKEN.scopeTooWide, `A refresh cannot add scopes the user did not grant: ${extra.join(' ').slice(0, 200)}.`);
  }
  return requested;
}

/** Unknown, revoked, rotated or expired: one code (a client's reaction is the same: sign in again), distinct details. */
function invalid(detail: string): QlikFailure {
  return new QlikFailure(401, TOKEN.badRefreshToken, detail);
}
