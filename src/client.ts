// The OAuth client as registered at the tenant, and how it proves who it is to the token and
// revocation endpoints: a Web client by its secret or its private key; a single-page or native app
// (public) by nothing, PKCE alone tying the code to it (docs/client-types.md).

import { httpRequest, type HttpOptions, type HttpResult } from './http.ts';
import type { TenantMetadata } from './3.1-discovery.ts';

/** How a client authenticates at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2; RFC 8414 §2 names). */
export type ClientAuthMethod = 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt' | 'none';

/** Who the client is: enough for the token endpoint (machine-to-machine needs no redirect URI). */
export interface ClientCredentials {
  clientId: string;
  /** Undefined for a public client (single-page or native app), or one that proves itself with a key. */
  clientSecret?: string | undefined;
  /** Private key JWT: signs an assertion for the token endpoint it is given (src/private-key-jwt.ts makes one). */
  assertion?: ((audience: string) => string) | undefined;
  /** Default: private_key_jwt with an assertion, client_secret_post with a secret (the tutorial's), else none. */
  authMethod?: ClientAuthMethod | undefined;
}

/** A client that signs users in through a browser: its redirectUri must equal, character for character, one registered for it. */
export type ClientConfig = ClientCredentials & { redirectUri: string };

export function authMethodOf(client: ClientCredentials, supported: readonly string[] = []): ClientAuthMethod {
  if (client.authMethod !== undefined) return client.authMethod;
  if (client.assertion !== undefined) return 'private_key_jwt';
  if (!client.clientSecret) return 'none';
  // RFC 8414 §2: a server that lists its methods without post but with basic gets basic. Qlik lists none.
  if (supported.length > 0 && !supported.includes('client_secret_post') && supported.includes('client_secret_basic')) return 'client_secret_basic';
  return 'client_secret_post';
}

/**
 * POSTs `fields` with the client's authentication (never in a URL), as a form (RFC 6749 §4.1.3), or
 * as JSON with `json`: Qlik takes both, and impersonation's `user_lookup` is an object no form carries.
 */
export function clientPost(metadata: TenantMetadata, client: ClientCredentials, url: string, fields: Record<string, unknown>, options: HttpOptions = {}, json = false): Promise<HttpResult> {
  const method = authMethodOf(client, metadata.tokenEndpointAuthMethods);
  const headers: Record<string, string> = { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' };
  // Qlik requires client_id in the body of every grant but the refresh, whose schema has none: there
  // a client that proves itself in a header or an assertion sends none, as @qlik/api does.
  const identified = method === 'client_secret_basic' || method === 'private_key_jwt';
  const body: Record<string, unknown> = fields.grant_type === 'refresh_token' && identified ? { ...fields } : { ...fields, client_id: client.clientId };
  if (method === 'client_secret_post' || method === 'client_secret_basic') {
    // A confidential method with no secret would send an empty one: say so rather than be refused.
    if (!client.clientSecret) throw new TypeError(`The client authenticates with ${method} but has no clientSecret; give it one, or use authMethod 'none' for a public client.`);
    // RFC 6749 §2.3.1: in the body (the tutorial's, Qlik's docs'), or id and secret form-encoded,
    // joined by ":" and base64-encoded in a Basic header (what every server MUST support).
    if (method === 'client_secret_post') body.client_secret = client.clientSecret;
    else headers.authorization = `Basic ${btoa(`${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`)}`;
  }
  if (method === 'private_key_jwt') {
    // RFC 7523 §2.2: a JWT signed with the client's key proves who it is; no secret travels.
    if (!client.assertion) throw new TypeError("The client authenticates with private_key_jwt but has no assertion signer; give it one (privateKeyJwt()).");
    body.client_assertion_type = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    body.client_assertion = client.assertion(metadata.tokenEndpoint);
  }
  const nested = Object.keys(body).find((name) => typeof body[name] !== 'string');
  if (!json && nested !== undefined) throw new TypeError(`The field "${nested}" is not a string; a form carries only strings, so send this request as JSON.`);
  const text = json ? JSON.stringify(body) : new URLSearchParams(body as Record<string, string>).toString();
  // What no error answer may repeat (httpRequest adds the Basic credentials): the secret, and the secret fields of the body.
  const secrets = [client.clientSecret, ...SECRET_FIELDS.map((name) => body[name])].filter((value) => typeof value === 'string');
  return httpRequest({ method: 'POST', url, issuer: metadata.issuer, headers, body: text, secrets }, options);
}

const SECRET_FIELDS = ['code', 'code_verifier', 'refresh_token', 'token', 'client_assertion', 'subject_token'];

/** application/x-www-form-urlencoded, as RFC 6749 Appendix B asks for Basic credentials. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
