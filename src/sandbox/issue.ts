// Minting tokens and shaping the token response, shared by every grant.
import type { SandboxContext } from './context.ts';
import { randomToken, tokenKeepUntil } from './store.ts';

/** Who a token speaks for, and which sign-in (authorization code) it descends from. */
export interface Grant {
  clientId: string;
  user: string;
  scopes: string[];
  grantId: string;
  /** When the user signed in (ms); undefined for machine-to-machine tokens. */
  authTime?: number | undefined;
}

export interface IssuedToken {
  token: string;
  expiresAt: number;
}

/** The success body: RFC 6749 §5.1's fields as Qlik's reference shows them. */
export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_at: string;
  expires_in?: number;
  scope: string;
  refresh_token?: string;
  auth_time?: string;
  issued_token_type?: string;
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

export interface ResponseExtras {
  refreshToken?: string | undefined;
  authTime?: number | undefined;
  /** RFC 8693 §2.2.1; Qlik's reference lists it as optional. */
  issuedTokenType?: string;
}

export function tokenResponse(ctx: SandboxContext, access: IssuedToken, scopes: string[], extras: ResponseExtras = {}): TokenResponse {
  const response: TokenResponse = {
    access_token: access.token,
    // Qlik sends lower-case "bearer"; RFC 6749 §5.1 says clients compare it case-insensitively.
    token_type: 'bearer',
    // Qlik's reference: expires_at, an ISO date, and no expires_in (RFC 6749 §5.1 only RECOMMENDS it).
    // A client then needs the tenant's clock: the Date header of this very response.
    expires_at: new Date(access.expiresAt).toISOString(),
    // RFC 6749 §5.1: the granted scope, which a client must read: it may differ from the request.
    scope: scopes.join(' '),
  };
  if (ctx.includeExpiresIn) response.expires_in = Math.round((access.expiresAt - ctx.now()) / 1000);
  if (extras.refreshToken !== undefined) response.refresh_token = extras.refreshToken;
  // Qlik's reference lists auth_time without a format [?]; the sandbox sends an ISO date like expires_at.
  if (extras.authTime !== undefined) response.auth_time = new Date(extras.authTime).toISOString();
  if (extras.issuedTokenType !== undefined) response.issued_token_type = extras.issuedTokenType;
  return response;
}
