// Minting tokens and shaping the token response, shared by both grants.
import type { SandboxContext } from './context.ts';
import { randomToken, tokenKeepUntil } from './store.ts';

/** Who a token speaks for, and which sign-in (authorization code) it descends from. */
export interface Grant {
  clientId: string;
  user: string;
  scopes: string[];
  grantId: string;
}

export interface IssuedToken {
  token: string;
  expiresAt: number;
}

/** The success body (RFC 6749 §5.1, with Qlik's expires_at). */
export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  expires_at: string;
  scope: string;
  refresh_token?: string;
}

/** A new opaque token, remembered with its grant. The prefix only helps a human reading a transcript. */
export function issueToken(ctx: SandboxContext, kind: 'access' | 'refresh', grant: Grant): IssuedToken {
  const lifetimeSeconds = kind === 'access' ? ctx.accessTokenLifetimeSeconds : ctx.refreshTokenLifetimeSeconds;
  const expiresAt = ctx.now() + lifetimeSeconds * 1000;
  const token = randomToken(kind === 'access' ? 'sbx_at_' : 'sbx_rt_');
  ctx.store.tokens.set(token, {
    kind,
    ...grant,
    scopes: [...grant.scopes],
    expiresAt,
    revoked: false,
    rotated: false,
    keepUntil: tokenKeepUntil(expiresAt),
  });
  return { token, expiresAt };
}

export function tokenResponse(ctx: SandboxContext, access: IssuedToken, scopes: string[], refreshToken: string | undefined): TokenResponse {
  const response: TokenResponse = {
    access_token: access.token,
    // Qlik sends lower-case "bearer"; RFC 6749 §5.1 says clients compare it case-insensitively.
    token_type: 'bearer',
    expires_in: Math.round((access.expiresAt - ctx.now()) / 1000),
    expires_at: new Date(access.expiresAt).toISOString(),
    // RFC 6749 §5.1: the granted scope, which a client must read: it may differ from the request.
    scope: scopes.join(' '),
  };
  if (refreshToken !== undefined) response.refresh_token = refreshToken;
  return response;
}
