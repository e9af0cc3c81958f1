// grant_type=refresh_token: a new access token without the user (RFC 6749 §6).
import type { SandboxContext } from './context.ts';
import { TOKEN } from './error-codes.ts';
import { param } from './params.ts';
import { QlikFailure } from './respond.ts';
import { revokeGrant, type TokenRecord } from './store.ts';
import { authenticateClient } from './client-auth.ts';
import { issueToken, tokenResponse, type TokenResponse } from './issue.ts';
import { splitScope } from './authorize.ts';

export function refreshTokens(body: URLSearchParams, ctx: SandboxContext): TokenResponse {
  const token = param(body, 'refresh_token');
  if (token === undefined) throw new QlikFailure(400, TOKEN.badParameter, 'refresh_token is missing.');
  const stored = ctx.store.tokens.get(token);
  const record = stored?.kind === 'refresh' ? stored : undefined;

  // Qlik: client_id is optional here; without it, the client is the one the token was issued to.
  const clientId = param(body, 'client_id') ?? record?.clientId;
  if (clientId === undefined) throw invalid('The refresh token is unknown. Sign in again.');
  const client = authenticateClient(body, ctx, clientId);

  if (record === undefined) throw invalid('The refresh token is unknown. Sign in again.');
  // RFC 6749 §6: the refresh token must have been issued to the authenticated client.
  if (record.clientId !== client.clientId) {
    throw new QlikFailure(401, TOKEN.tokenOtherClient, 'The refresh token was issued to another client.');
  }
  if (record.revoked) throw invalid('The refresh token was revoked. Sign in again.');
  // RFC 9700 §4.14.2: an old refresh token presented after rotation means it leaked (or the client kept the
  // old one instead of the new one). The server cannot tell who is honest, so it ends the whole grant.
  if (record.rotated) {
    revokeGrant(ctx.store, record.grantId);
    throw invalid('The refresh token was already used and replaced by a newer one; every token from this sign-in is now revoked. Keep the newest refresh_token. Sign in again.');
  }
  if (record.expiresAt <= ctx.now()) throw invalid('The refresh token has expired. Sign in again.');

  const scopes = narrowedScopes(param(body, 'scope'), record);
  const grant = { clientId: record.clientId, user: record.user, grantId: record.grantId };
  const access = issueToken(ctx, 'access', { ...grant, scopes });
  if (!ctx.rotateRefreshTokens) {
    // No rotation: no refresh_token in the response; the client keeps using the one it has.
    return tokenResponse(ctx, access, scopes, undefined);
  }
  // Rotation (RFC 9700 §4.14.2): a new refresh token with the original scope; the old one stops working.
  record.rotated = true;
  const next = issueToken(ctx, 'refresh', { ...grant, scopes: record.scopes });
  return tokenResponse(ctx, access, scopes, next.token);
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
