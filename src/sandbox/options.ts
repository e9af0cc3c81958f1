// The sandbox's public types: what a test or `npm start` passes in, and what it gets back.

import type { ErrorStyle } from './respond.ts';
import type { SandboxFaultName } from './faults.ts';

/** The web client (confidential, authorization code + PKCE): what `npm start` uses. */
export const SANDBOX_CLIENT_ID = 'sandbox-web-client';
/** Its secret. Everyone can read it here, which is the point: never reuse it anywhere real. */
export const SANDBOX_CLIENT_SECRET = 'sandbox-secret-not-for-production';

/** The native client (public: no secret), for a command-line sign-in over a loopback redirect. */
export const SANDBOX_NATIVE_CLIENT_ID = 'sandbox-native-client';
/** RFC 8252 §7.3: registered without a port; any port on the same loopback host and path matches. */
export const SANDBOX_NATIVE_REDIRECT_URIS: readonly string[] = ['http://127.0.0.1/callback', 'http://localhost/callback'];

/** The machine-to-machine client (a confidential web client allowed client_credentials and impersonation). */
export const SANDBOX_M2M_CLIENT_ID = 'sandbox-m2m-client';
export const SANDBOX_M2M_CLIENT_SECRET = 'sandbox-m2m-secret-not-for-production';

/** The single-page-app client (public: no secret), e.g. a Vite dev server on its default port. */
export const SANDBOX_SPA_CLIENT_ID = 'sandbox-spa-client';
export const SANDBOX_SPA_REDIRECT_URIS: readonly string[] = ['http://localhost:5173/callback'];
export const SANDBOX_SPA_ORIGINS: readonly string[] = ['http://localhost:5173'];

/** The grant type Qlik documents for an M2M client acting as a user. */
export const IMPERSONATION_GRANT = 'urn:qlik:oauth:user-impersonation';

/**
 * Qlik's client types (Administration activity center → OAuth): 'web' is confidential (a secret);
 * 'native' and 'spa' are public (no secret, PKCE only).
 */
export type SandboxClientType = 'web' | 'native' | 'spa';
export type SandboxGrantType = 'authorization_code' | 'refresh_token' | 'client_credentials' | typeof IMPERSONATION_GRANT;

/** An OAuth client registered with the sandbox tenant (in Qlik: Administration activity center → OAuth). */
export interface SandboxClient {
  clientId: string;
  /** Default 'web'. */
  type?: SandboxClientType;
  /** Web clients only, and required for them. */
  clientSecret?: string;
  /**
   * Compared by exact string equality, as Qlik does, except for a native client's loopback URIs
   * (http://127.0.0.1/… or http://localhost/…), where any port matches (RFC 8252 §7.3).
   */
  redirectUris: string[];
  /**
   * Default ['authorization_code', 'refresh_token']. 'client_credentials' and the impersonation
   * grant are for web clients only (Qlik: M2M).
   */
  grantTypes?: SandboxGrantType[];
  /** The client's scope allow-list: what an empty or absent `scope` grants. Default DEFAULT_SCOPES. */
  scopes?: string[];
  /** Single-page apps only: the origins whose browser code may call the token endpoint and APIs (CORS). */
  allowedOrigins?: string[];
}

/** Scopes a sandbox client may ask for unless configured otherwise (Qlik scope names). */
export const DEFAULT_SCOPES: readonly string[] = [
  'user_default', 'offline_access', 'admin_classic', 'admin.apps', 'admin.apps:export', 'admin.spaces', 'admin.ai-descriptions',
];

/** The four clients of a default sandbox, one per Qlik client type. */
export function defaultClients(): SandboxClient[] {
  return [
    { clientId: SANDBOX_CLIENT_ID, type: 'web', clientSecret: SANDBOX_CLIENT_SECRET, redirectUris: [] },
    { clientId: SANDBOX_NATIVE_CLIENT_ID, type: 'native', redirectUris: [...SANDBOX_NATIVE_REDIRECT_URIS] },
    {
      clientId: SANDBOX_M2M_CLIENT_ID,
      type: 'web',
      clientSecret: SANDBOX_M2M_CLIENT_SECRET,
      redirectUris: [],
      grantTypes: ['client_credentials', IMPERSONATION_GRANT],
      scopes: ['user_default', 'admin_classic', 'admin.apps', 'admin.spaces'],
    },
    { clientId: SANDBOX_SPA_CLIENT_ID, type: 'spa', redirectUris: [...SANDBOX_SPA_REDIRECT_URIS], allowedOrigins: [...SANDBOX_SPA_ORIGINS] },
  ];
}

/** What /.well-known/openid-configuration does: Qlik no longer documents that path [?]. */
export type OpenIdConfigurationMode = 'metadata' | 'notFound' | 'redirect' | 'html';

export interface SandboxOptions {
  /** Default 0: an ephemeral port. The sandbox listens on 127.0.0.1 only. */
  port?: number;
  /** Default: defaultClients(), one per client type. */
  clients?: SandboxClient[];
  /** Default 21600 (6 hours, as Qlik). */
  accessTokenLifetimeSeconds?: number;
  /** Default 30 days, as Qlik. */
  refreshTokenLifetimeSeconds?: number;
  /**
   * Qlik documents no rotation rule [?]. Default true: a refresh returns a new refresh_token and
   * the old one stops working. false: the refresh response has no refresh_token and the old one stays valid.
   */
  rotateRefreshTokens?: boolean;
  /**
   * Default false. true: presenting a refresh token that was already rotated away ends the whole
   * grant (RFC 9700 §4.14.2 reuse detection). Qlik documents neither behaviour.
   */
  refreshTokenReuseDetection?: boolean;
  /** Default false. true: metadata says authorization_response_iss_parameter_supported (RFC 9207). */
  advertiseIss?: boolean;
  /**
   * Default true: callbacks carry `iss` (RFC 9207 §2). Qlik documents neither way [?]; false gives a
   * tenant that never sends it (and so must not advertise it).
   */
  issInCallback?: boolean;
  /** Default 'terse': /oauth/* errors as a real tenant sends them. 'detailed': explained, for learning. */
  errors?: ErrorStyle;
  /**
   * Default 'metadata' (the same document as /.well-known/oauth-authorization-server). 'notFound': 404;
   * 'redirect': 302 to a login page; 'html': 200 with a login page.
   */
  openidConfiguration?: OpenIdConfigurationMode;
  /** Default false: token answers carry expires_at only, as Qlik's reference. true: also expires_in. */
  includeExpiresIn?: boolean;
  /** Named faults switched on from the start (SANDBOX_FAULT); see SANDBOX_FAULTS. */
  faults?: readonly SandboxFaultName[];
  /** How long the token-slow fault waits before answering. Default 15000 ms (past the client's 10 s timeout). */
  slowTokenMs?: number;
  /** The sandbox's clock in milliseconds since the epoch. Default Date.now. Tests move it to expire codes and tokens. */
  now?: () => number;
}

/** Failures a test can switch on while the sandbox runs: `sandbox.faults.tokenEndpoint = 'hang'`. */
export interface SandboxFaults {
  /**
   * 'hang': never answer; 'error500': 500 with a Qlik error body; 'html': 502 with an HTML page;
   * 'rateLimit': 429 with `retry-after: 30`, as Qlik's tier-2 limit (100 token requests a minute).
   */
  tokenEndpoint?: 'hang' | 'error500' | 'html' | 'rateLimit' | undefined;
  /** Answer the next N requests to /api/v1/* with 429 and `retry-after: 1`. */
  api429?: number;
  /** Named faults, as SANDBOX_FAULT switches them on (see SANDBOX_FAULTS). */
  named?: readonly SandboxFaultName[];
}

export interface SandboxStats {
  /** Every request to /oauth/token, whatever its grant_type or outcome (refreshes included). */
  tokenRequests: number;
  /** The subset of tokenRequests with grant_type=refresh_token. */
  refreshRequests: number;
  /** Every request to /oauth/revoke. */
  revokeRequests: number;
  /** Every request to /api/v1/*, including those answered 401 or 429. */
  apiRequests: number;
}

export interface Sandbox {
  /** e.g. http://127.0.0.1:54321, no trailing slash. Also the issuer. */
  url: string;
  faults: SandboxFaults;
  /** Register a redirect URI after start (the app learns its own port only then). */
  addRedirectUri(clientId: string, uri: string): void;
  /** The registered clients, as they are now (copies). */
  clients(): SandboxClient[];
  stats(): SandboxStats;
  /** Stops the server and drops every open socket, hanging ones included. */
  close(): Promise<void>;
}
