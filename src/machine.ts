// Beyond the tutorial — a program with no user at the keyboard: machine-to-machine (M2M).
//
// A nightly job or a backend calls Qlik as itself (client_credentials, RFC 6749 §4.4), or as one of
// the tenant's users (Qlik's urn:qlik:oauth:user-impersonation). Both need a confidential Web
// client with the grant allowed at the tenant. In the order docs/machine.md reads them:
//   clientCredentialsToken()  — a token for the client itself (its bot user);
//   impersonationToken()      — a token for a user, found by subject or userId (JSON body, as Qlik documents);
//   machineSession()          — a QlikSession whose token source asks for a new grant when needed,
//                               once for all callers, so qlikFetch() and paginate() work unchanged.

import { check, clip, defineChecks, quote, type CheckObserver } from './errors.ts';
import { TenantError } from './tenant-error.ts';
import type { HttpOptions } from './http.ts';
import type { TenantMetadata } from './3.1-discovery.ts';
import { AUTHORIZE_CHECKS, SCOPE_PATTERN } from './3.2-authorize.ts';
import { authMethodOf, clientPost, type ClientCredentials } from './client.ts';
import { processTokenResponse, type TokenSet } from './3.3-token.ts';
import type { QlikSession } from './lifecycle.ts';

export const MACHINE_CHECKS = defineChecks('machine', {
  CONFIDENTIAL_CLIENT_REQUIRED: { rule: 'RFC 6749 §4.4', title: 'a machine grant is asked for by a confidential client, with its secret or key', hint: 'Use a Web client (confidential) with its client secret or private key, and allow it the client credentials or user impersonation grant at the tenant (Administration → OAuth).', settings: ['clientId', 'clientSecret'], configuration: true },
  USER_LOOKUP_INVALID: { rule: 'Qlik: user impersonation user_lookup', title: 'the user lookup is subject or userId with a non-empty value of sane length and no control characters', hint: 'Name the user as { field: "subject", value: "<their IdP subject>" } or { field: "userId", value: "<their Qlik user id>" }.', configuration: true },
  MACHINE_TOKEN_REFUSED: { rule: 'RFC 6749 §5.2', title: 'the tenant grants the client its own token', hint: 'Check, at the tenant (Administration → OAuth), that this is a Web client with the client credentials grant allowed, that the client ID and secret (or key) match it, and that the scope asks only for scopes the client allows.', settings: ['clientId', 'clientSecret', 'scope'] },
  IMPERSONATION_REFUSED: { rule: 'Qlik: user impersonation', title: 'the tenant finds the user and lets the client act as them', hint: 'Check that the user exists on the tenant and is not disabled (Administration → Users), that this Web client has the user impersonation grant allowed, that its client ID and secret (or key) match, and that the scope asks only for scopes the client allows.', settings: ['clientId', 'clientSecret', 'scope'] },
});
const C = MACHINE_CHECKS;

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

/**
 * RFC 6749 §4.4.2: a token for the client itself: client_id, its authentication, scope. §4.4.3: no
 * refresh token is expected; one that comes anyway is dropped, so that the session asks for a new
 * grant instead of relying on it.
 */
export async function clientCredentialsToken(metadata: TenantMetadata, client: ClientCredentials, { scope = '' }: { scope?: string | undefined } = {}, options: HttpOptions = {}): Promise<TokenSet> {
  checkMachineGrant(client, metadata, scope, options.onCheck);
  const grant = { grant_type: 'client_credentials', ...(scope ? { scope } : {}) };
  return machineToken(metadata, client, { grant, action: 'issue a client credentials token' }, options, C.MACHINE_TOKEN_REFUSED);
}

/**
 * Qlik: a token for one of the tenant's users, with the client acting as them. The body is JSON (as
 * Qlik documents it, and as @qlik/api sends it), with `user_lookup: { field, value }`.
 */
export async function impersonationToken(metadata: TenantMetadata, client: ClientCredentials, { scope = '', userLookup }: { scope?: string | undefined; userLookup: UserLookup }, options: HttpOptions = {}): Promise<TokenSet> {
  checkMachineGrant(client, metadata, scope, options.onCheck);
  const lookup = checkUserLookup(userLookup, options.onCheck);
  const grant = { grant_type: IMPERSONATION_GRANT_TYPE, ...(scope ? { scope } : {}), user_lookup: lookup };
  return machineToken(metadata, client, { grant, action: `issue a token for the user with ${lookup.field} ${quote(lookup.value)}`, json: true }, options, C.IMPERSONATION_REFUSED);
}

/**
 * A QlikSession for a machine: no token until its first call, and no refresh token ever. Its token
 * source asks for a new grant (client credentials, or impersonation when `grant.userLookup` is
 * given) whenever the token is missing, in its refresh margin, or answered 401; refreshSession()
 * makes one request for all the calls that need it at the same moment.
 */
export function machineSession(metadata: TenantMetadata, client: ClientCredentials, grant: MachineGrant = {}, options: HttpOptions = {}): QlikSession {
  // Checked now, so that a wrong setting fails where the session is made, not at its first call.
  checkMachineGrant(client, metadata, grant.scope ?? '');
  const userLookup = grant.userLookup === undefined ? undefined : checkUserLookup(grant.userLookup);
  const source = () =>
    userLookup === undefined
      ? clientCredentialsToken(metadata, client, { scope: grant.scope }, options)
      : impersonationToken(metadata, client, { scope: grant.scope, userLookup }, options);
  return { metadata, client, tokens: undefined, source, options };
}

/**
 * RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients." A
 * public client has nothing to prove who it is, so the tenant would hand a token to anyone who knows
 * a client id. Refused here, before anything is sent; so is a scope that breaks RFC 6749 §3.3.
 */
function checkMachineGrant(client: ClientCredentials, metadata: TenantMetadata, scope: string, onCheck?: CheckObserver): void {
  const method = authMethodOf(client, metadata.tokenEndpointAuthMethods);
  const proof = method === 'private_key_jwt' ? client.assertion : method === 'none' ? undefined : client.clientSecret;
  check(C.CONFIDENTIAL_CLIENT_REQUIRED, proof, () => `The client ${quote(client.clientId)} has no secret and no private key for ${method}; client credentials and impersonation are for confidential clients only.`, onCheck);
  // RFC 6749 §3.3; at the token endpoint an empty scope is allowed (Qlik then grants the client's allow-list).
  check(AUTHORIZE_CHECKS.SCOPE_INVALID, scope === '' || SCOPE_PATTERN.test(scope), () => `The scope ${quote(scope)} is not a list of scope tokens separated by single spaces.`, onCheck);
}

/**
 * Qlik: user_lookup.field is "subject" or "userId", and value names the user. Checked before
 * sending: a typo in the field would be an opaque 400, an empty value could match nobody (or, on a
 * careless server, somebody), and control characters or a megabyte value have no business in a
 * user name — they would also end up in logs and transcripts.
 */
export function checkUserLookup(lookup: UserLookup, onCheck?: CheckObserver): UserLookup {
  const field: unknown = lookup?.field;
  const value: unknown = lookup?.value;
  check(C.USER_LOOKUP_INVALID, field === 'subject' || field === 'userId', () => `The user lookup field is ${quote(field)}; it must be "subject" or "userId".`, onCheck);
  check(C.USER_LOOKUP_INVALID, typeof value === 'string' && value.trim() !== '', () => `The user lookup value is ${typeof value === 'string' ? 'empty' : quote(value)}; it must name a user.`);
  check(C.USER_LOOKUP_INVALID, value.length <= MAX_USER_LOOKUP_LENGTH, () => `The user lookup value is ${value.length} characters long; at most ${MAX_USER_LOOKUP_LENGTH} are accepted.`);
  // C0 controls, DEL and C1 controls: no subject or id has them, and they can forge log lines.
  check(C.USER_LOOKUP_INVALID, !/[\x00-\x1f\x7f-\x9f]/.test(value), () => `The user lookup value ${quote(clip(value.replace(/[\x00-\x1f\x7f-\x9f]/g, '?'), 40))} contains control characters.`);
  return { field, value };
}

/** A grant's fields, what it is for (said in errors), and whether it goes as JSON (a form carries only strings). */
type MachineTokenRequest = { grant: Record<string, unknown>; action: string; json?: boolean };

/**
 * One machine grant. The token endpoint's refusal (400, 401, 403) is said for a machine grant: the
 * code-exchange hints (redirect URI, PKCE, a used code) mean nothing here. A 429, a 5xx or a
 * malformed answer keep their own error. RFC 6749 §4.4.3: a refresh token that comes is dropped.
 */
async function machineToken(metadata: TenantMetadata, client: ClientCredentials, request: MachineTokenRequest, options: HttpOptions, refused: typeof C.MACHINE_TOKEN_REFUSED): Promise<TokenSet> {
  try {
    const result = await clientPost(metadata, client, metadata.tokenEndpoint, request.grant, options, request.json);
    return { ...processTokenResponse(result, Date.now(), options, request.action), refreshToken: undefined };
  } catch (error) {
    const refusal = error instanceof TenantError && error.code === 'TOKEN_ERROR_RESPONSE' && [400, 401, 403].includes(error.status ?? 0);
    throw refusal ? new TenantError(refused, error.message, error.tenantError, { status: error.status, retryAfter: error.retryAfter }) : error;
  }
}
