// The OAuth client as registered at the tenant (Administration → OAuth), and how it proves who it
// is at the token endpoint. Every step that talks to the token or revocation endpoint imports this
// file; none of them has to import a step it does not use to get the client's type.
//
// A Web client is confidential: it has a secret. A single-page or native app is public: it has no
// secret, and PKCE alone ties the code to it. Qlik's three client types: docs/client-types.md.

/** How a client authenticates at the token endpoint (RFC 6749 §2.3, RFC 8414 §2 names). */
export type ClientAuthMethod = 'client_secret_post' | 'client_secret_basic' | 'none';

/** Who the client is: enough for the token endpoint (machine-to-machine needs no redirect URI). */
export interface ClientCredentials {
  clientId: string;
  /** Undefined for a public client (single-page or native app): it has no secret to send. */
  clientSecret?: string | undefined;
  /**
   * Default: `client_secret_post` when there is a secret (what the tutorial and Qlik's docs use),
   * `none` when there is not.
   */
  authMethod?: ClientAuthMethod | undefined;
}

/** A client that signs users in through a browser: it also has a registered redirect URI. */
export interface ClientConfig extends ClientCredentials {
  /** Must equal, character for character, a redirect URI registered for the client. */
  redirectUri: string;
}

/**
 * The method this client uses: the one it names; else none without a secret; else
 * client_secret_post — unless the tenant's metadata lists its methods (RFC 8414 §2
 * token_endpoint_auth_methods_supported) without post but with basic. Qlik lists none.
 */
export function authMethodOf(client: ClientCredentials, supported: readonly string[] = []): ClientAuthMethod {
  if (client.authMethod !== undefined) return client.authMethod;
  if (client.clientSecret === undefined) return 'none';
  if (supported.length > 0 && !supported.includes('client_secret_post') && supported.includes('client_secret_basic')) return 'client_secret_basic';
  return 'client_secret_post';
}

/**
 * Adds the client's authentication to a token or revocation request: fields for the body, and
 * headers. The secret goes in the body (client_secret_post) or in an Authorization header
 * (client_secret_basic) — never in a URL, and a public client sends none at all.
 */
export function clientAuthentication(
  client: ClientCredentials,
  supported: readonly string[] = [],
): { fields: Record<string, string>; headers: Record<string, string> } {
  const method = authMethodOf(client, supported);
  if (method !== 'none' && (client.clientSecret === undefined || client.clientSecret === '')) {
    // A confidential method with no secret would send an empty one: say so rather than be refused.
    throw new TypeError(`The client authenticates with ${method} but has no clientSecret; give it one, or use authMethod 'none' for a public client.`);
  }
  switch (method) {
    case 'client_secret_basic':
      // RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined by ":" and base64-encoded.
      // The method every server MUST support.
      return {
        fields: {},
        headers: { authorization: `Basic ${Buffer.from(`${formEncode(client.clientId)}:${formEncode(client.clientSecret!)}`).toString('base64')}` },
      };
    case 'client_secret_post':
      // RFC 6749 §2.3.1: both in the body; a server MAY support it. Qlik does, and the tutorial uses it.
      return { fields: { client_id: client.clientId, client_secret: client.clientSecret! }, headers: {} };
    case 'none':
      // RFC 6749 §2.1, §3.2.1: a public client identifies itself with client_id and has no secret.
      return { fields: { client_id: client.clientId }, headers: {} };
  }
}

/** application/x-www-form-urlencoded, as RFC 6749 Appendix B asks for Basic credentials. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
