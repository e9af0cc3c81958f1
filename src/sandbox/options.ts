// The sandbox's public types: what a test or `npm start` passes in, and what it gets back.
import type { ErrorStyle } from './http.ts';
import type { SandboxFaultName } from './settings.ts';
import type { SandboxGrantType } from './token.ts';

export type { SandboxGrantType };

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

/** A web client with a public key and no secret: private key JWT (RFC 7523 §2.2); key pair new at each start. */
export const SANDBOX_JWT_CLIENT_ID = 'sandbox-jwt-client';

/** The grant type Qlik documents for an M2M client acting as a user. */
export const IMPERSONATION_GRANT = 'urn:qlik:oauth:user-impersonation';

/** Qlik's client types: 'web' is confidential (a secret or a public key); 'native' and 'spa' are public (PKCE only). */
export type SandboxClientType = 'web' | 'native' | 'spa';

/** An OAuth client registered with the sandbox tenant (in Qlik: Administration activity center → OAuth). */
export interface SandboxClient {
  clientId: string;
  /** Default 'web'. */
  type?: SandboxClientType;
  /** Web clients only; a web client needs this, `publicKey`, or both. */
  clientSecret?: string;
  /** Web clients only: an EC P-384 or RSA public key (PEM), as Qlik accepts that verifies its client assertions (RFC 7523). */
  publicKey?: string;
  /** Matched exactly, as Qlik does; a native client's loopback URIs match any port (RFC 8252 §7.3). */
  redirectUris: string[];
  /** Default ['authorization_code', 'refresh_token']. The machine grants are for web clients only. */
  grantTypes?: SandboxGrantType[];
  /** The client's scope allow-list. Default DEFAULT_SCOPES. */
  scopes?: string[];
  /** The origins whose browser code may call the token endpoint and APIs (CORS). */
  allowedOrigins?: string[];
}

/** Scopes a sandbox client may ask for unless configured otherwise (Qlik scope names). */
export const DEFAULT_SCOPES: readonly string[] = [
  'user_default', 'offline_access', 'admin_classic', 'admin.apps', 'admin.apps:export', 'admin.spaces', 'admin.ai-descriptions',
];

const M2M_GRANTS: SandboxGrantType[] = ['client_credentials', IMPERSONATION_GRANT];

/** The clients of a default sandbox, one per Qlik client type; the JWT client when its public key is given. */
export function defaultClients(jwtPublicKey?: string): SandboxClient[] {
  const clients: SandboxClient[] = [
    { clientId: SANDBOX_CLIENT_ID, type: 'web', clientSecret: SANDBOX_CLIENT_SECRET, redirectUris: [] },
    { clientId: SANDBOX_NATIVE_CLIENT_ID, type: 'native', redirectUris: [...SANDBOX_NATIVE_REDIRECT_URIS] },
    {
      clientId: SANDBOX_M2M_CLIENT_ID,
      type: 'web',
      clientSecret: SANDBOX_M2M_CLIENT_SECRET,
      redirectUris: [],
      grantTypes: M2M_GRANTS,
      scopes: ['user_default', 'admin_classic', 'admin.apps', 'admin.spaces'],
    },
    { clientId: SANDBOX_SPA_CLIENT_ID, type: 'spa', redirectUris: [...SANDBOX_SPA_REDIRECT_URIS], allowedOrigins: [...SANDBOX_SPA_ORIGINS] },
  ];
  if (jwtPublicKey !== undefined) {
    const grantTypes: SandboxGrantType[] = ['authorization_code', 'refresh_token', ...M2M_GRANTS];
    clients.push({ clientId: SANDBOX_JWT_CLIENT_ID, type: 'web', publicKey: jwtPublicKey, redirectUris: [], grantTypes });
  }
  return clients;
}

/** What /.well-known/openid-configuration does: Qlik no longer documents that path [?]. */
export type OpenIdConfigurationMode = 'metadata' | 'notFound' | 'redirect' | 'html';

/** Every option has a default; those marked [?] are what no source settles about a real tenant. */
export interface SandboxOptions {
  /** Default 0: an ephemeral port. The sandbox listens on 127.0.0.1 only. */
  port?: number;
  /** Default: defaultClients(), one per client type, and the JWT client. */
  clients?: SandboxClient[];
  /** Default 21600 (6 hours, as Qlik). */
  accessTokenLifetimeSeconds?: number;
  /** Default 30 days, as Qlik. */
  refreshTokenLifetimeSeconds?: number;
  /** [?] Default true: a refresh returns a new refresh_token, the old one stops working. false: none, the old one lives on. */
  rotateRefreshTokens?: boolean;
  /** [?] Default false. true: a refresh token already rotated away ends the whole grant (RFC 9700 §4.14.2). */
  refreshTokenReuseDetection?: boolean;
  /** Default false. true: metadata says authorization_response_iss_parameter_supported (RFC 9207). */
  advertiseIss?: boolean;
  /** [?] Default true: callbacks carry `iss` (RFC 9207 §2). false: never (and so not advertised either). */
  issInCallback?: boolean;
  /** Default 'terse': /oauth/* errors as a real tenant sends them. 'detailed': explained, for learning. */
  errors?: ErrorStyle;
  /** [?] Default 'metadata' (as the documented path). 'notFound': 404; 'redirect': 302 to a login page; 'html': a login page. */
  openidConfiguration?: OpenIdConfigurationMode;
  /** Default false: token answers carry expires_at only, as Qlik's reference. true: also expires_in. */
  includeExpiresIn?: boolean;
  /** Default true: GET /api/v1/users/me answers 301 to /api/v1/users/{id}, as documented. false: 200 and the user. */
  usersMeRedirect?: boolean;
  /** [?] Default false: a web client's code exchange needs its secret (or assertion). true: PKCE alone will do. */
  webCodeWithoutSecret?: boolean;
  /** [?] Default true: public clients get a refresh token for offline_access. false: only confidential ones do. */
  publicClientRefreshTokens?: boolean;
  /** [?] Default 'ignored': a refresh's client_id is not looked at (the token names its client). 'refused': 400. */
  refreshClientId?: 'ignored' | 'refused';
  /** [?] Default true: a 403 from the REST API carries a WWW-Authenticate insufficient_scope challenge. */
  challengeOn403?: boolean;
  /** Named faults switched on from the start (SANDBOX_FAULT); see SANDBOX_FAULTS. */
  faults?: readonly SandboxFaultName[];
  /** How long the token-slow fault waits before answering. Default 15000 ms (past the client's 10 s timeout). */
  slowTokenMs?: number;
  /** The sandbox's clock in milliseconds since the epoch. Default Date.now. Tests move it to expire codes and tokens. */
  now?: () => number;
}

/** The faults switched on, by name; a test may change the list while the sandbox runs. */
export interface SandboxFaults {
  named: readonly SandboxFaultName[];
}

export interface SandboxStats {
  /** Every request to /oauth/token, whatever its grant_type or outcome (refreshes included). */
  tokenRequests: number;
  /** The subset of tokenRequests with grant_type=refresh_token. */
  refreshRequests: number;
  /** Every request to /oauth/revoke. */
  revokeRequests: number;
  /** Every request to /api/v1/*, including those answered 401, 301 or 429. */
  apiRequests: number;
}

export interface Sandbox {
  /** e.g. http://127.0.0.1:54321, no trailing slash. Also the issuer. */
  url: string;
  faults: SandboxFaults;
  /** The PKCS#8 PEM private key of SANDBOX_JWT_CLIENT_ID, made at start (EC P-384, ES384). */
  jwtPrivateKeyPem: string;
  /** Register a redirect URI after start (the app learns its own port only then). */
  addRedirectUri(clientId: string, uri: string): void;
  /** The registered clients, as they are now (copies). */
  clients(): SandboxClient[];
  stats(): SandboxStats;
  /** Stops the server and drops every open socket, hanging ones included. */
  close(): Promise<void>;
}
