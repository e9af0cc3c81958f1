// POST /oauth/token (RFC 6749 §3.2) and POST /oauth/revoke (RFC 7009). The grants are one table,
// GRANTS: a new grant is an entry there and its function here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { decideScopes, splitScope, type RegisteredClient, type SandboxContext } from './context.ts';
import { IMPERSONATION_GRANT } from './options.ts';
import { HTTP, TOKEN } from './error-codes.ts';
import { param, QlikFailure, readBodyParams, repeatedParams, sendHtml, sendJson } from './http.ts';
import { hasFault } from './settings.ts';
import { CODE_LIFETIME_MS, randomToken, revokeGrant, TOKEN_KEPT_AFTER_EXPIRY_MS, type TokenRecord } from './store.ts';
import { authenticateClient, readClientCredentials, type ClientCredentials } from './client-auth.ts';
import { BOT_PREFIX, DIRECTORY_USERS, userId, userSubject } from './fake-data.ts';

type GrantAnswer = (body: URLSearchParams, creds: ClientCredentials, ctx: SandboxContext) => TokenResponse;

/** Every grant_type the token endpoint knows. webOnly: Qlik allows it to web (confidential) clients only (M2M). */
export const GRANTS = {
  authorization_code: { answer: codeGrant, webOnly: false },
  refresh_token: { answer: refreshGrant, webOnly: false },
  client_credentials: { answer: clientCredentialsGrant, webOnly: true },
  [IMPERSONATION_GRANT]: { answer: impersonationGrant, webOnly: true },
} as const satisfies Record<string, { answer: GrantAnswer; webOnly: boolean }>;

export type SandboxGrantType = keyof typeof GRANTS;

const TOKEN_PARAMETERS = [
  'grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'code', 'redirect_uri',
  'code_verifier', 'refresh_token', 'scope', 'user_lookup[field]', 'user_lookup[value]',
] as const;

export async function handleToken(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): Promise<void> {
  ctx.stats.tokenRequests += 1;
  const body = await readBodyParams(req);
  const grantType = param(body, 'grant_type');
  if (grantType === 'refresh_token') ctx.stats.refreshRequests += 1;
  if (await answeredByFault(res, ctx)) return;

  // RFC 6749 §3.1: a repeated parameter makes the request ambiguous.
  const repeated = repeatedParams(body, TOKEN_PARAMETERS);
  if (repeated.length > 0) throw new QlikFailure(400, TOKEN.badParameter, `Repeated parameter: ${repeated.join(', ')}.`);
  const creds = readClientCredentials(req, body);
  if (grantType === undefined) throw new QlikFailure(400, TOKEN.badParameter, 'grant_type is missing.');
  // RFC 6749 §5.2 unsupported_grant_type. Object.hasOwn: grant_type=constructor is unknown, not Object's.
  if (!Object.hasOwn(GRANTS, grantType)) throw new QlikFailure(400, TOKEN.unsupportedGrant, `grant_type must be one of: ${Object.keys(GRANTS).join(', ')}.`);
  const response = GRANTS[grantType as SandboxGrantType].answer(body, creds, ctx);
  // RFC 6749 §5.1: Cache-Control: no-store and Pragma: no-cache on every response holding tokens.
  sendJson(res, 200, response, { pragma: 'no-cache' });
}

/** The named faults of the token endpoint: a tenant that is slow, broken, or refuses everyone. */
async function answeredByFault(res: ServerResponse, ctx: SandboxContext): Promise<boolean> {
  if (hasFault(ctx, 'token-slow')) {
    await waitUnlessClosed(res, ctx.slowTokenMs);
    if (res.destroyed) return true;
  }
  if (hasFault(ctx, 'token-not-json')) {
    // A 200 that is not JSON: what a captive portal or a proxy's sign-in page sends. RFC 6749 §5.1
    // says a token answer is application/json, so the client's NOT_JSON check must fire.
    sendHtml(res, 200, '<!doctype html><html><head><title>Sign in to the proxy</title></head><body><h1>Sign in to continue</h1></body></html>\n');
    return true;
  }
  if (hasFault(ctx, 'token-500')) throw new QlikFailure(500, HTTP.internal, 'The sandbox was told to fail (SANDBOX_FAULT=token-500).');
  if (hasFault(ctx, 'token-502')) {
    // Not the tenant's answer at all: a proxy's page, so no Qlik error body.
    sendHtml(res, 502, '<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n');
    return true;
  }
  // Qlik's tier 2 rate limit: 100 token requests a minute.
  if (hasFault(ctx, 'token-429')) {
    throw new QlikFailure(429, HTTP.tooManyRequests, 'Over the limit of token requests (SANDBOX_FAULT=token-429): wait 30 s (retry-after), then try again.', { 'retry-after': '30' });
  }
  if (hasFault(ctx, 'token-error')) throw new QlikFailure(401, TOKEN.fault, 'The sandbox was told to refuse every token request (SANDBOX_FAULT=token-error).');
  // Qlik: 403 = the user is disabled or the token limit is reached.
  if (hasFault(ctx, 'token-forbidden')) {
    throw new QlikFailure(403, TOKEN.forbidden, 'The sandbox was told to answer as for a disabled user or a reached token limit (SANDBOX_FAULT=token-forbidden).');
  }
  return false;
}

/** Waits `ms`, or less when the client hangs up first (close() included). */
function waitUnlessClosed(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on('close', done);
  });
}

/** RFC 6749 §5.2 unauthorized_client: "not authorized to use this authorization grant type". */
function requireGrantType(client: RegisteredClient, grant: SandboxGrantType): void {
  if (client.grantTypes.has(grant)) return;
  let hint = '';
  if (GRANTS[grant].webOnly && client.type === 'web') hint = ' Allow machine-to-machine (and impersonation) in the OAuth client\'s settings, or use an M2M client.';
  if (GRANTS[grant].webOnly && client.type !== 'web') hint = ` A ${client.type} client is public: machine-to-machine needs a web client with a secret.`;
  throw new QlikFailure(400, TOKEN.grantNotAllowed, `Client "${client.clientId}" may not use grant_type=${grant}.${hint}`);
}

/** RFC 7636 §4.1: code_verifier = 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** grant_type=authorization_code: trade the code from the redirect for tokens (RFC 6749 §4.1.3). */
function codeGrant(body: URLSearchParams, creds: ClientCredentials, ctx: SandboxContext): TokenResponse {
  // [?] Whether a web client may leave its secret out here is undocumented (@qlik/api sends none): a switch.
  const client = authenticateClient(creds, ctx, { secretOptional: ctx.webCodeWithoutSecret });
  requireGrantType(client, 'authorization_code');

  const code = param(body, 'code');
  const redirectUri = param(body, 'redirect_uri');
  const verifier = param(body, 'code_verifier');
  // RFC 6749 §4.1.3: code, and redirect_uri since the authorization request had one;
  // RFC 7636 §4.5: code_verifier, since the authorization request had a code_challenge.
  if (code === undefined || redirectUri === undefined || verifier === undefined) {
    const missing = Object.entries({ code, redirect_uri: redirectUri, code_verifier: verifier }).filter(([, value]) => value === undefined);
    throw new QlikFailure(400, TOKEN.badParameter, `Missing: ${missing.map(([name]) => name).join(', ')}.`);
  }
  // RFC 7636 §4.1: a short or odd verifier is a client bug (too little entropy, or a challenge sent by
  // mistake). RFC 7636 §4.6 calls any failed verification invalid_grant; Qlik: 401 OAUTH-5.
  if (!CODE_VERIFIER.test(verifier)) {
    throw new QlikFailure(401, TOKEN.badVerifier, `code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (got ${verifier.length} characters).`);
  }

  const record = ctx.store.codes.get(code);
  // SANDBOX_FAULT=code-reused: answer as a tenant does for a code it has already seen.
  if (hasFault(ctx, 'code-reused') && record !== undefined) record.used = true;
  if (record === undefined) throw new QlikFailure(401, TOKEN.unknownCode, 'The authorization code is unknown. Start the sign-in again.');
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
  if (record.clientId !== client.clientId) throw new QlikFailure(401, TOKEN.codeOtherClient, 'The authorization code was issued to another client.');
  // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorization request.
  if (redirectUri !== record.redirectUri) {
    throw new QlikFailure(401, TOKEN.redirectMismatch, 'redirect_uri differs from the one sent to /oauth/authorize; send exactly the same string.');
  }
  // RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) must equal the code_challenge. This is what makes
  // a code intercepted on its way back useless to anyone without the verifier.
  if (createHash('sha256').update(verifier, 'ascii').digest('base64url') !== record.codeChallenge) {
    throw new QlikFailure(401, TOKEN.pkceFailed, 'code_verifier does not match the code_challenge. Send the verifier saved with this sign-in\'s state.');
  }

  const grant = { clientId: client.clientId, user: record.user, scopes: record.scopes, grantId: record.grantId, authTime: record.issuedAt };
  const access = issueToken(ctx, 'access', grant);
  // Qlik: a refresh token only when offline_access was granted. [?] Whether public clients get one: a switch.
  const refreshable = record.scopes.includes('offline_access') && (client.type === 'web' || ctx.publicClientRefreshTokens);
  const refresh = refreshable ? issueToken(ctx, 'refresh', grant) : undefined;
  return tokenResponse(ctx, access, record.scopes, { refreshToken: refresh?.token, authTime: record.issuedAt });
}

/** grant_type=refresh_token: a new access token without the user (RFC 6749 §6). */
function refreshGrant(body: URLSearchParams, creds: ClientCredentials, ctx: SandboxContext): TokenResponse {
  // Qlik's refresh schema has no client_id, and @qlik/api sends none: the token names its client.
  // [?] Whether a tenant minds one is unknown: refreshClientId 'ignored' (default) or 'refused'.
  if (param(body, 'client_id') !== undefined && ctx.refreshClientId === 'refused') {
    throw new QlikFailure(400, TOKEN.badParameter, 'client_id is not a parameter of a refresh request (Qlik\'s schema has none): leave it out.');
  }
  const token = param(body, 'refresh_token');
  if (token === undefined) throw new QlikFailure(400, TOKEN.badParameter, 'refresh_token is missing.');
  const stored = ctx.store.tokens.get(token);
  const record = stored?.kind === 'refresh' ? stored : undefined;
  const named = creds.method === 'basic' || creds.method === 'jwt'; // credentials that name a client themselves
  if (record === undefined && !named) throw invalid('The refresh token is unknown. Sign in again.');
  const client = authenticateClient({ ...creds, clientId: creds.method === 'basic' ? creds.clientId : undefined }, ctx, { tokenClientId: record?.clientId });
  requireGrantType(client, 'refresh_token');

  if (record === undefined) throw invalid('The refresh token is unknown. Sign in again.');
  // RFC 6749 §6: the refresh token must have been issued to the authenticated client.
  if (record.clientId !== client.clientId) throw new QlikFailure(401, TOKEN.tokenOtherClient, 'The refresh token was issued to another client.');
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

  // RFC 6749 §6: a refresh may ask for less scope than the original grant, never more.
  const requested = splitScope(param(body, 'scope'));
  const extra = requested.filter((s) => !record.scopes.includes(s));
  if (extra.length > 0) throw new QlikFailure(400, TOKEN.scopeTooWide, `A refresh cannot add scopes the user did not grant: ${extra.join(' ').slice(0, 200)}.`);
  const scopes = requested.length > 0 ? requested : record.scopes;
  const grant = { clientId: record.clientId, user: record.user, grantId: record.grantId, authTime: record.authTime };
  const access = issueToken(ctx, 'access', { ...grant, scopes });
  // No rotation: no refresh_token in the response; the client keeps using the one it has.
  if (!ctx.rotateRefreshTokens) return tokenResponse(ctx, access, scopes, { authTime: record.authTime });
  // Rotation (RFC 9700 §4.14.2): a new refresh token with the original scope; the old one stops working.
  record.rotated = true;
  const next = issueToken(ctx, 'refresh', { ...grant, scopes: record.scopes });
  return tokenResponse(ctx, access, scopes, { refreshToken: next.token, authTime: record.authTime });
}

/** Unknown, revoked, rotated or expired: one code (a client's reaction is the same: sign in again), distinct details. */
function invalid(detail: string): QlikFailure {
  return new QlikFailure(401, TOKEN.badRefreshToken, detail);
}

/** client_credentials (RFC 6749 §4.4): a web client acting as its own bot user. */
function clientCredentialsGrant(body: URLSearchParams, creds: ClientCredentials, ctx: SandboxContext): TokenResponse {
  const client = authenticateClient(creds, ctx);
  requireGrantType(client, 'client_credentials');
  const scopes = machineScopes(client, param(body, 'scope'));
  const access = issueToken(ctx, 'access', { clientId: client.clientId, user: BOT_PREFIX + client.clientId, scopes, grantId: randomToken() });
  // RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included": the client can always ask again.
  return tokenResponse(ctx, access, scopes);
}

/** Qlik's urn:qlik:oauth:user-impersonation: user_lookup.field is "subject" or "userId"; value names the user to act as. */
function impersonationGrant(body: URLSearchParams, creds: ClientCredentials, ctx: SandboxContext): TokenResponse {
  const client = authenticateClient(creds, ctx);
  requireGrantType(client, IMPERSONATION_GRANT);
  const field = param(body, 'user_lookup[field]');
  const value = param(body, 'user_lookup[value]');
  if (field === undefined || value === undefined) {
    throw new QlikFailure(400, TOKEN.badParameter, 'user_lookup is missing: send "user_lookup": {"field": "subject" or "userId", "value": "…"}.');
  }
  if (field !== 'subject' && field !== 'userId') {
    throw new QlikFailure(400, TOKEN.badParameter, `user_lookup.field must be "subject" or "userId", not "${field.slice(0, 40)}".`);
  }
  // The tenant's users: a fixed directory plus everyone who signed in through the consent page.
  const user = [...DIRECTORY_USERS, ...ctx.signedInUsers].find((name) => (field === 'subject' ? userSubject(name) : userId(name)) === value);
  if (user === undefined) {
    throw new QlikFailure(401, TOKEN.unknownUser, `No user with ${field} "${value.slice(0, 100)}" on this tenant. Users: the directory (${DIRECTORY_USERS.join(', ')}) and whoever signed in.`);
  }
  const scopes = machineScopes(client, param(body, 'scope'));
  const access = issueToken(ctx, 'access', { clientId: client.clientId, user, scopes, grantId: randomToken() });
  // No refresh token (as client_credentials): the service asks again. issued_token_type: RFC 8693 §2.2.1.
  return tokenResponse(ctx, access, scopes, { issuedTokenType: 'urn:ietf:params:oauth:token-type:access_token' });
}

function machineScopes(client: RegisteredClient, requested: string | undefined): string[] {
  const decision = decideScopes(client, requested);
  if (decision.problem !== undefined) throw new QlikFailure(400, TOKEN.scopeTooWide, decision.problem);
  return decision.scopes;
}

/** Who a token speaks for, and which sign-in (authorization code) it descends from. */
type Grant = Pick<TokenRecord, 'clientId' | 'user' | 'scopes' | 'grantId' | 'authTime'>;
type IssuedToken = { token: string; expiresAt: number };

/** A new opaque token, remembered with its grant. The prefix only helps a human reading a transcript. */
function issueToken(ctx: SandboxContext, kind: 'access' | 'refresh', grant: Grant): IssuedToken {
  const lifetimeSeconds = kind === 'access' ? ctx.accessTokenLifetimeSeconds : ctx.refreshTokenLifetimeSeconds;
  const expiresAt = ctx.now() + lifetimeSeconds * 1000;
  const token = randomToken(kind === 'access' ? 'sbx_at_' : 'sbx_rt_');
  ctx.store.tokens.set(token, { kind, ...grant, scopes: [...grant.scopes], expiresAt, revoked: false, rotated: false, keepUntil: expiresAt + TOKEN_KEPT_AFTER_EXPIRY_MS });
  return { token, expiresAt };
}

/** The success body: RFC 6749 §5.1's fields as Qlik's reference shows them. */
interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_at: string;
  expires_in?: number;
  scope: string;
  refresh_token?: string;
  auth_time?: number;
  issued_token_type?: string;
}

/** authTime: when the user signed in (ms). issuedTokenType: RFC 8693 §2.2.1, optional in Qlik's reference. */
type ResponseExtras = { refreshToken?: string | undefined; authTime?: number | undefined; issuedTokenType?: string };

function tokenResponse(ctx: SandboxContext, access: IssuedToken, scopes: string[], extras: ResponseExtras = {}): TokenResponse {
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
  // Qlik's reference: auth_time is a Unix time in seconds (its example: 1628524367).
  if (extras.authTime !== undefined) response.auth_time = Math.floor(extras.authTime / 1000);
  if (extras.issuedTokenType !== undefined) response.issued_token_type = extras.issuedTokenType;
  return response;
}

/**
 * POST /oauth/revoke (RFC 7009). Qlik documents `token` and an optional `token_type_hint`, and no client
 * credentials (@qlik/sdk sends an Authorization: Bearer header): whoever holds a token may end it. So
 * none are checked, and none can cause a 401: 200, or 400 for a malformed request.
 */
export async function handleRevoke(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): Promise<void> {
  ctx.stats.revokeRequests += 1;
  const body = await readBodyParams(req);
  // RFC 6749 §3.1: a repeated parameter makes the request ambiguous.
  const repeated = repeatedParams(body, ['token', 'token_type_hint']);
  if (repeated.length > 0) throw new QlikFailure(400, TOKEN.badParameter, `Repeated parameter: ${repeated.join(', ')}.`);
  const token = param(body, 'token');
  // RFC 7009 §2.1: token is required.
  if (token === undefined) throw new QlikFailure(400, TOKEN.badParameter, 'token is missing: send the access or refresh token to revoke.');
  const record = ctx.store.tokens.get(token);
  // RFC 7009 §2.2: an unknown or already invalid token still gets 200: the client's goal is met, and
  // an attacker learns nothing. token_type_hint is ignored (§2.1: search all token types anyway).
  // Revoking a refresh token SHOULD also invalidate the access tokens of the same grant (§2.1).
  if (record?.kind === 'refresh') revokeGrant(ctx.store, record.grantId);
  else if (record !== undefined) record.revoked = true;
  res.writeHead(200, { 'cache-control': 'no-store', 'content-length': '0' });
  res.end();
}
