// Machine-to-machine grants of a web client: client_credentials (RFC 6749 §4.4), acting as the
// client's bot user, and Qlik's urn:qlik:oauth:user-impersonation, acting as a user of the tenant.
import type { SandboxContext } from './context.ts';
import { IMPERSONATION_GRANT } from './options.ts';
import { TOKEN } from './error-codes.ts';
import { param } from './params.ts';
import { QlikFailure } from './respond.ts';
import { randomToken } from './store.ts';
import { authenticateClient, type ClientCredentials } from './client-auth.ts';
import { requireGrantType } from './grant-types.ts';
import { decideScopes } from './scopes.ts';
import { botUser, DIRECTORY_USERS, userId, userSubject } from './fake-data.ts';
import { issueToken, tokenResponse, type TokenResponse } from './issue.ts';
import type { RegisteredClient } from './context.ts';

export function clientCredentials(body: URLSearchParams, creds: ClientCredentials, ctx: SandboxContext): TokenResponse {
  const client = authenticateClient(creds, ctx);
  requireGrantType(client, 'client_credentials');
  const scopes = machineScopes(client, param(body, 'scope'));
  const access = issueToken(ctx, 'access', { clientId: client.clientId, user: botUser(client.clientId), scopes, grantId: randomToken() });
  // RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included": the client can always ask again.
  return tokenResponse(ctx, access, scopes);
}

/** Qlik: user_lookup.field is "subject" or "userId"; value names the user to act as. */
export function impersonate(body: URLSearchParams, creds: ClientCredentials, ctx: SandboxContext): TokenResponse {
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
  const user = findUser(ctx, field, value);
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

/** The tenant's users: a fixed directory plus everyone who signed in through the consent page. */
function findUser(ctx: SandboxContext, field: 'subject' | 'userId', value: string): string | undefined {
  for (const user of [...DIRECTORY_USERS, ...ctx.signedInUsers]) {
    if ((field === 'subject' ? userSubject(user) : userId(user)) === value) return user;
  }
  return undefined;
}
