// Sign-out at the tenant: revoke both tokens, so that they stop working now rather than when they
// expire (Qlik: access 6 h, refresh 30 days). Refreshing is src/5-lifecycle.ts's job.

import { QlikOAuthError } from '../errors.ts';
import type { HttpOptions } from '../http.ts';
import type { TenantMetadata } from '../1-discovery.ts';
import type { ClientConfig } from '../2-authorize.ts';
import { revokeToken, type TokenSet } from '../3-token.ts';

/**
 * RFC 7009 §2.1: revokes the refresh token first (the tenant then may drop the access tokens of the
 * same grant too), then the access token. Both are tried even when one fails. Returns the failures,
 * so that the page can say the sign-out here worked but the tenant may still honour a token.
 */
export async function revokeTokens(
  metadata: TenantMetadata,
  client: ClientConfig,
  tokens: TokenSet,
  http: HttpOptions,
): Promise<QlikOAuthError[]> {
  const failures: QlikOAuthError[] = [];
  const revoke = async (token: string, hint: 'refresh_token' | 'access_token') => {
    try {
      await revokeToken(metadata, client, { token, hint }, http);
    } catch (error) {
      if (!(error instanceof QlikOAuthError)) throw error;
      failures.push(error);
    }
  };
  if (tokens.refreshToken !== undefined) await revoke(tokens.refreshToken, 'refresh_token');
  await revoke(tokens.accessToken, 'access_token');
  return failures;
}
