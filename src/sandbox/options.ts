// The sandbox's public types: what a test or `npm start` passes in, and what it gets back.

/** The one client the sandbox knows when no `clients` option is given. */
export const SANDBOX_CLIENT_ID = 'sandbox-web-client';
/** Its secret. Everyone can read it here, which is the point: never reuse it anywhere real. */
export const SANDBOX_CLIENT_SECRET = 'sandbox-secret-not-for-production';

/** An OAuth client registered with the sandbox tenant (in Qlik: Management Console → OAuth). */
export interface SandboxClient {
  clientId: string;
  clientSecret: string;
  /** Compared by exact string equality, as Qlik does. */
  redirectUris: string[];
}

export interface SandboxOptions {
  /** Default 0: an ephemeral port. The sandbox listens on 127.0.0.1 only. */
  port?: number;
  /** Default: one client with SANDBOX_CLIENT_ID / SANDBOX_CLIENT_SECRET and no redirect URIs yet. */
  clients?: SandboxClient[];
  /** Default 21600 (6 hours, as Qlik). */
  accessTokenLifetimeSeconds?: number;
  /** Default 30 days, as Qlik. */
  refreshTokenLifetimeSeconds?: number;
  /**
   * Default true: a refresh returns a new refresh_token and the old one stops working.
   * false: the refresh response has no refresh_token and the old one stays valid.
   */
  rotateRefreshTokens?: boolean;
  /** Default false. true: metadata says authorization_response_iss_parameter_supported (RFC 9207). */
  advertiseIss?: boolean;
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
  stats(): SandboxStats;
  /** Stops the server and drops every open socket, hanging ones included. */
  close(): Promise<void>;
}
