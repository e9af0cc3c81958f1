// Which scopes a request gets: Qlik's scope syntax, the client's allow-list, and the empty-scope rule.
import type { RegisteredClient } from './context.ts';

/** Qlik: scope tokens are letters, digits, `_ . - :` (e.g. admin.apps:export). */
export const SCOPE_NAME = /^[A-Za-z0-9_.:-]+$/;

/** RFC 6749 §3.3: scope is a list of space-separated scope tokens. Duplicates are dropped. */
export function splitScope(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter((s) => s !== ''))];
}

export type ScopeDecision = { scopes: string[]; problem?: undefined } | { problem: string; scopes?: undefined };

/**
 * The scopes a request is granted, or why not.
 * - An absent or empty `scope` (optional at the token endpoint; /oauth/authorize refuses it before)
 *   grants the client's allow-list, except offline_access, which must be asked for explicitly.
 *   What a real tenant grants then is not documented [?]: this is our reading.
 * - Qlik: scope tokens are letters, digits, `_ . - :`; each must be on the client's allow-list.
 * Every lookup is an array search, never an object property: `constructor` or `__proto__` is
 * just an unknown scope.
 */
export function decideScopes(client: RegisteredClient, requested: string | undefined): ScopeDecision {
  const asked = splitScope(requested);
  if (asked.length === 0) return { scopes: client.scopes.filter((scope) => scope !== 'offline_access') };

  const malformed = asked.find((scope) => !SCOPE_NAME.test(scope));
  if (malformed !== undefined) {
    return { problem: 'Each scope must be made of letters, digits, _ . - and :, separated by spaces.' };
  }
  // Qlik is an OAuth 2.0 server, not an OpenID provider: it issues no id_token, so it refuses openid.
  if (asked.includes('openid')) return { problem: 'Qlik is not an OpenID provider: remove openid from scope.' };
  const unknown = asked.filter((scope) => !client.scopes.includes(scope));
  if (unknown.length > 0) {
    return {
      problem: `Scope ${unknown.map((scope) => `"${scope.slice(0, 60)}"`).slice(0, 5).join(', ')} is not allowed for client "${client.clientId}". ` +
        `Allowed: ${client.scopes.join(' ')}.`,
    };
  }
  return { scopes: asked };
}
