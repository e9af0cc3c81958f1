// Beyond the tutorial — a program with no user at the keyboard: machine-to-machine (M2M).
//
// A nightly job or a backend calls Qlik as itself (client_credentials, RFC 6749 §4.4), or as one of
// the tenant's users (Qlik's urn:qlik:oauth:user-impersonation). Both need a confidential Web
// client with the grant enabled at the tenant. In the order docs/machine.md reads them:
//   clientCredentialsToken()  — a token for the client itself (its bot user);
//   impersonationToken()      — a token for a user, found by subject or userId (JSON body, as Qlik documents);
//   machineSession()          — a QlikSession that fetches its token when needed, once for all
//                               callers, so qlikFetch() and paginate() work unchanged;
//   machineAccessToken()      — the session's current token, for a call qlikFetch() cannot make.

import { ConfigurationError, TokenError, clip, quote, reportPassed, type CheckCode } from './errors.ts';
import type { HttpOptions } from './http.ts';
import type { TenantMetadata } from './1-discovery.ts';
import { SCOPE_PATTERN } from './2-authorize.ts';
import { authMethodOf, type ClientCredentials } from './client.ts';
import { requestTokens, type TokenSet } from './3-token.ts';
import { isExpired, refreshSession, type QlikSession } from './5-lifecycle.ts';

/** Qlik's grant type for an M2M client acting as a user of the tenant. */
export const IMPERSONATION_GRANT_TYPE = 'urn:qlik:oauth:user-impersonation';

/** Who to act as: Qlik looks the user up by their IdP subject or by their Qlik user id. */
export interface UserLookup {
  field: 'subject' | 'userId';
  value: string;
}

/** What a machine session asks for: its scope, and a user to act as (impersonation) or none (the client itself). */
export interface MachineGrant {
  /** Space-separated; empty or absent: Qlik grants the client's configured allow-list. */
  scope?: string | undefined;
  userLookup?: UserLookup | undefined;
}

/** The longest subject or user id we send. Qlik's ids are 24 characters; IdP subjects are at most a few hundred. */
export const MAX_USER_LOOKUP_LENGTH = 256;

/** The checks made before a client credentials grant is sent, in order. */
export const CLIENT_CREDENTIALS_CHECKS: readonly CheckCode[] = ['CONFIDENTIAL_CLIENT_REQUIRED', 'SCOPE_INVALID'];
/** The checks made before an impersonation grant is sent, in order. */
export const IMPERSONATION_CHECKS: readonly CheckCode[] = ['CONFIDENTIAL_CLIENT_REQUIRED', 'SCOPE_INVALID', 'USER_LOOKUP_INVALID'];

/**
 * RFC 6749 §4.4.2: a token for the client itself. Qlik's body: client_id, client_secret, scope,
 * sent as a form like every other grant here. §4.4.3: no refresh token is expected; one that
 * comes anyway is dropped, so that the session asks for a new grant instead of relying on it.
 */
export async function clientCredentialsToken(
  metadata: TenantMetadata,
  client: ClientCredentials,
  { scope = '' }: { scope?: string | undefined } = {},
  options: HttpOptions = {},
): Promise<TokenSet> {
  checkMachineClient(client, metadata);
  checkScope(scope);
  reportPassed(options.onCheck, CLIENT_CREDENTIALS_CHECKS);
  const grant: Record<string, string> = { grant_type: 'client_credentials' };
  if (scope !== '') grant.scope = scope;
  try {
    const tokens = await requestTokens(metadata, client, grant, options, 'issue a client credentials token');
    return withoutRefreshToken(tokens);
  } catch (error) {
    throw refusedAs('MACHINE_TOKEN_REFUSED', error, {
      hint:
        'Check, at the tenant (Administration → OAuth), that this is a Web client with the client credentials grant allowed, that the client ID and secret match it, ' +
        'and that the scope asks only for scopes the client allows.',
      settings: ['clientId', 'clientSecret', 'scope'],
    });
  }
}

/**
 * Qlik: a token for one of the tenant's users, with the client acting as them. The body is JSON
 * (as Qlik documents it, and as @qlik/api sends it): client_id, client_secret, scope, and
 * `user_lookup: { field, value }`. The lookup is checked before anything is sent.
 */
export async function impersonationToken(
  metadata: TenantMetadata,
  client: ClientCredentials,
  { scope = '', userLookup }: { scope?: string | undefined; userLookup: UserLookup },
  options: HttpOptions = {},
): Promise<TokenSet> {
  checkMachineClient(client, metadata);
  checkScope(scope);
  const lookup = checkUserLookup(userLookup);
  reportPassed(options.onCheck, IMPERSONATION_CHECKS);
  const grant: Record<string, string | Record<string, string>> = { grant_type: IMPERSONATION_GRANT_TYPE };
  if (scope !== '') grant.scope = scope;
  grant.user_lookup = { field: lookup.field, value: lookup.value };
  try {
    const tokens = await requestTokens(metadata, client, grant, options, `issue a token for the user with ${lookup.field} ${quote(lookup.value)}`, 'json');
    return withoutRefreshToken(tokens);
  } catch (error) {
    throw refusedAs('IMPERSONATION_REFUSED', error, {
      hint:
        `Check that a user with ${lookup.field} ${quote(lookup.value)} exists on the tenant and is not disabled (Administration → Users), ` +
        'that this Web client has the user impersonation grant allowed, that its client ID and secret match, and that the scope asks only for scopes the client allows.',
      settings: ['clientId', 'clientSecret', 'scope'],
    });
  }
}

/**
 * A QlikSession for a machine: it has no token yet, and no refresh token ever. Its `renew` asks
 * for a new grant (client credentials, or impersonation when `grant.userLookup` is given). The
 * first qlikFetch() finds the empty token expired and fetches one; later calls reuse it until it
 * is in its refresh margin (isExpired), or until the tenant answers 401. refreshSession() makes
 * one request for all the calls that find the token wanting at the same moment.
 */
export function machineSession(
  metadata: TenantMetadata,
  client: ClientCredentials,
  grant: MachineGrant = {},
  options: HttpOptions = {},
): QlikSession {
  // Checked now, so that a wrong setting fails where the session is made, not at its first call.
  checkMachineClient(client, metadata);
  checkScope(grant.scope ?? '');
  const userLookup = grant.userLookup === undefined ? undefined : checkUserLookup(grant.userLookup);
  return {
    metadata,
    client,
    // Not a token: expired from the start, so the first call fetches a real one.
    tokens: { accessToken: '', tokenType: 'bearer', expiresAt: 0, lifetimeMs: undefined, refreshToken: undefined, scope: undefined },
    options,
    renew: () =>
      userLookup === undefined
        ? clientCredentialsToken(metadata, client, { scope: grant.scope }, options)
        : impersonationToken(metadata, client, { scope: grant.scope, userLookup }, options),
  };
}

/**
 * The session's access token, fetched or renewed first when it is missing or in its refresh
 * margin — for what qlikFetch() does not do (a websocket, a download with its own client).
 */
export async function machineAccessToken(session: QlikSession): Promise<string> {
  if (isExpired(session.tokens, Date.now())) await refreshSession(session, session.tokens.accessToken);
  return session.tokens.accessToken;
}

/**
 * RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
 * A public client has no secret to prove who it is, so the tenant would be asked to hand a token
 * to anyone who knows a client id. Refused here, before anything is sent.
 */
function checkMachineClient(client: ClientCredentials, metadata: TenantMetadata): void {
  const method = authMethodOf(client, metadata.tokenEndpointAuthMethods);
  if (method === 'none' || client.clientSecret === undefined || client.clientSecret === '') {
    throw new ConfigurationError(
      'CONFIDENTIAL_CLIENT_REQUIRED',
      `The client ${quote(client.clientId)} has no secret${method === 'none' ? ' (authentication method none)' : ''}; client credentials and impersonation are for confidential clients only.`,
      'Use a Web client (confidential) with its client secret, and allow it the client credentials or user impersonation grant at the tenant (Administration → OAuth).',
      { settings: ['clientId', 'clientSecret'] },
    );
  }
}

function checkScope(scope: string): void {
  // RFC 6749 §3.3: an empty scope is allowed (Qlik then grants the client's allow-list).
  if (scope !== '' && !SCOPE_PATTERN.test(scope)) {
    throw new ConfigurationError(
      'SCOPE_INVALID',
      `The scope ${quote(scope)} is not a list of scope tokens separated by single spaces.`,
      'Give space-separated scopes, e.g. "user_default", or none for the client\'s allow-list.',
      { settings: ['scope'] },
    );
  }
}

/**
 * Qlik: user_lookup.field is "subject" or "userId", and value names the user. Checked before
 * sending: a typo in the field would be an opaque 400, an empty value could match nobody (or, on a
 * careless server, somebody), and control characters or a megabyte value have no business in a
 * user name — they would also end up in logs and transcripts.
 */
export function checkUserLookup(lookup: UserLookup): UserLookup {
  const field: unknown = lookup?.field;
  const value: unknown = lookup?.value;
  const invalid = (what: string) =>
    new ConfigurationError(
      'USER_LOOKUP_INVALID',
      `The user lookup ${what}.`,
      'Name the user as { field: "subject", value: "<their IdP subject>" } or { field: "userId", value: "<their Qlik user id>" }.',
    );
  if (field !== 'subject' && field !== 'userId') throw invalid(`field is ${quote(field)}; it must be "subject" or "userId"`);
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`value is ${typeof value === 'string' ? 'empty' : quote(value)}; it must name a user`);
  if (value.length > MAX_USER_LOOKUP_LENGTH) throw invalid(`value is ${value.length} characters long; at most ${MAX_USER_LOOKUP_LENGTH} are accepted`);
  // C0 controls, DEL and C1 controls: no subject or id has them, and they can forge log lines.
  if (/[\x00-\x1f\x7f-\x9f]/.test(value)) throw invalid(`value ${quote(clip(value.replace(/[\x00-\x1f\x7f-\x9f]/g, '?'), 40))} contains control characters`);
  return { field, value };
}

/** RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included." If one comes, we do not rely on it. */
function withoutRefreshToken(tokens: TokenSet): TokenSet {
  return tokens.refreshToken === undefined ? tokens : { ...tokens, refreshToken: undefined };
}

/**
 * The token endpoint's refusal (400, 401, 403), said for a machine grant: the code-exchange hints
 * (redirect URI, PKCE, a used code) mean nothing here. A 429, a 5xx or a malformed answer keep
 * their own error: those are not a refusal of this client or user.
 */
function refusedAs(code: CheckCode, error: unknown, { hint, settings }: { hint: string; settings: ('clientId' | 'clientSecret' | 'scope')[] }): unknown {
  if (!(error instanceof TokenError) || error.code !== 'TOKEN_ERROR_RESPONSE') return error;
  if (error.status !== 400 && error.status !== 401 && error.status !== 403) return error;
  return new TokenError(code, error.message, hint, { status: error.status, tenantError: error.tenantError, retryAfter: error.retryAfter, settings });
}
