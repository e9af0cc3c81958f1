// Tutorial 3.1 — discover the tenant's endpoints.
//
// The tutorial calls openid-client's Issuer.discover(). By hand that is: fetch the tenant's
// metadata document, check it really describes the tenant we asked for, and keep the endpoints.
// Qlik's document has no userinfo endpoint, so we add the one Qlik API that says who is signed in.

import { QlikOAuthError, check, clip, defineChecks, quote, skip, type CheckObserver } from './errors.ts';
import { httpRequest, insecureUrlReason, parseJsonObject, type HttpOptions, type HttpResult } from './http.ts';

const CHECK_TENANT = 'Check that the tenant URL is the address of a Qlik Cloud tenant, e.g. https://acme.eu.qlikcloud.com.';
export const DISCOVERY_CHECKS = defineChecks('3.1', {
  TENANT_URL_INVALID: { rule: 'RFC 8414 §2', title: 'the tenant URL is an absolute URL without query or fragment', hint: 'Give the bare tenant address, e.g. https://acme.eu.qlikcloud.com.', settings: ['tenantUrl'] },
  TENANT_URL_NOT_HTTPS: { rule: 'RFC 8414 §2', title: 'the tenant URL uses https (loopback excepted)', hint: 'Give the https:// address of your tenant.', settings: ['tenantUrl'] },
  DISCOVERY_FAILED: { rule: 'RFC 8414 §3.2', title: 'one of the two well-known paths answers with metadata', hint: CHECK_TENANT, settings: ['tenantUrl'] },
  DISCOVERY_HTTP_STATUS: { rule: 'RFC 8414 §3.2', title: 'the metadata request answers 200', hint: CHECK_TENANT, settings: ['tenantUrl'] },
  ISSUER_MISMATCH: { rule: 'RFC 8414 §3.3', title: 'the metadata issuer equals the tenant URL exactly', hint: 'Give the tenant URL exactly as the issuer your tenant publishes.', settings: ['tenantUrl'] },
  ENDPOINT_MISSING: { rule: 'RFC 8414 §2', title: 'authorization and token endpoints are present', hint: CHECK_TENANT, settings: ['tenantUrl'] },
  ENDPOINT_INVALID: { rule: 'RFC 8414 §2', title: 'each endpoint is an absolute URL', hint: `The tenant's metadata is broken. ${CHECK_TENANT}`, settings: ['tenantUrl'] },
  ENDPOINT_NOT_HTTPS: { rule: 'RFC 6749 §3.1, RFC 6749 §3.2', title: 'each endpoint uses https (loopback excepted)', hint: `Only https endpoints can carry codes and secrets. ${CHECK_TENANT}`, settings: ['tenantUrl'] },
  S256_NOT_SUPPORTED: { rule: 'RFC 8414 §2, RFC 9700 §2.1.1', title: 'a listed code_challenge_methods_supported includes S256', hint: `This client only signs in with PKCE S256. ${CHECK_TENANT}` },
  CODE_FLOW_NOT_SUPPORTED: { rule: 'RFC 8414 §2', title: 'a non-empty response_types_supported includes code', hint: `This client uses the authorization code flow. ${CHECK_TENANT}` },
  AUTH_METHOD_NOT_SUPPORTED: { rule: 'RFC 8414 §2', title: 'a listed token_endpoint_auth_methods_supported includes a method this client can use', hint: `This client authenticates with a client secret (post or basic), a private key JWT, or none. ${CHECK_TENANT}`, settings: ['tenantUrl'] },
});
const C = DISCOVERY_CHECKS;

/** What the rest of the sign-in needs to know about the tenant. */
export interface TenantMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** RFC 7009; Qlik documents `/oauth/revoke`. Undefined when the document does not list it. */
  revocationEndpoint: string | undefined;
  /** Not from the document: Qlik's "who am I", on the tenant's origin (usersMeEndpoint). */
  usersMeEndpoint: string;
  /** RFC 9207 §3: true when the tenant promises an `iss` on every callback. */
  issParameterSupported: boolean;
  /** RFC 8414 §2 token_endpoint_auth_methods_supported; empty (Qlik's case) means no information. */
  tokenEndpointAuthMethods: string[];
  /** The document as received, for display. */
  document: Record<string, unknown>;
}

/**
 * Tutorial 3.1, by hand: GET the tenant's metadata (RFC 8414 §3.1), check it, add the users endpoint.
 *
 * The documented path is asked first. Anything there that is not metadata — a 404, a redirect to a
 * login page, an HTML page, JSON without an issuer — sends us to the tutorial's path. Metadata
 * that fails a check (another issuer, an http endpoint) is final: it is not a wrong path, it is a
 * wrong or tampered tenant. So is a tenant that cannot be reached.
 */
export async function discover(tenantUrl: string, options: HttpOptions = {}): Promise<TenantMetadata> {
  const issuer = expectedIssuer(tenantUrl, options.onCheck);
  const answers: string[] = [];
  for (const url of metadataUrls(issuer)) {
    let result: HttpResult;
    try {
      result = await httpRequest({ method: 'GET', url, issuer }, options);
    } catch (error) {
      // A redirect (never followed) or an oversized page is not metadata: try the other path.
      if (!(error instanceof QlikOAuthError && (error.code === 'REDIRECT_REFUSED' || error.code === 'BODY_TOO_LARGE'))) throw error;
      answers.push(`${url} → ${error.message.replace(/\.$/, '')}`);
      continue;
    }
    const notMetadata = whyNotMetadata(result);
    if (notMetadata === undefined) return processDiscoveryResponse(result, issuer, options);
    answers.push(`${url} → ${notMetadata}`);
  }
  // RFC 8414 §3.2: neither place answered with metadata.
  check(C.DISCOVERY_FAILED, false, () => `Neither well-known path gave the tenant's metadata: ${answers.join('; ')}.`);
}

/** Why one well-known path's answer is not a metadata document (then the other path is asked), or undefined. */
export function whyNotMetadata(result: HttpResult): string | undefined {
  if (result.status !== 200) return `HTTP ${result.status}`;
  try {
    return typeof parseJsonObject(result, '200 with a body that').issuer === 'string' ? undefined : '200 with JSON that has no issuer';
  } catch (error) {
    return (error as Error).message.replace(/\.$/, '');
  }
}

/** Checks one metadata response (RFC 8414 §3.2, §3.3) against the issuer we expect, and keeps the endpoints. */
export function processDiscoveryResponse(result: HttpResult, issuer: string, options: Pick<HttpOptions, 'onCheck'> = {}): TenantMetadata {
  const on = options.onCheck;
  // RFC 8414 §3.2: metadata comes with 200; anything else is an error page, not metadata.
  check(C.DISCOVERY_HTTP_STATUS, result.status === 200, () => `The tenant's metadata request answered ${result.status}, expected 200.`, on);
  const doc = parseJsonObject(result, "The tenant's metadata", on);
  // RFC 8414 §3.3: the issuer must be the one we asked, exactly, or a document from another server
  // (mix-up attack) or a mistyped tenant would be trusted.
  check(C.ISSUER_MISMATCH, doc.issuer === issuer, () => `The metadata names issuer ${quote(doc.issuer)}, but we asked ${quote(issuer)}.`, on);
  const authorizationEndpoint = endpoint(doc, 'authorization_endpoint', issuer, on)!;
  const tokenEndpoint = endpoint(doc, 'token_endpoint', issuer, on)!;
  const revocationEndpoint = endpoint(doc, 'revocation_endpoint', issuer, on);
  // RFC 8414 §2 reads an omitted list as a default (no PKCE; client_secret_basic only). Qlik's
  // documented metadata omits them or sends them empty although Qlik requires PKCE S256 and takes
  // client_secret_post, so here, on purpose, an absent or empty list is silence, not a default.
  // A value that is not a list is as good as a list without what we need.
  const listed = (name: string) => (doc[name] === undefined || (Array.isArray(doc[name]) && doc[name].length === 0) ? undefined : Array.isArray(doc[name]) ? (doc[name] as unknown[]) : []);
  const unlisted = (name: string) => `${name} is absent or empty: the tenant lists nothing to check against`;
  // RFC 8414 §2, RFC 9700 §2.1.1: we always send S256; a server that lists its methods without it
  // would ignore or reject our PKCE, and the code would be stealable.
  const methods = listed('code_challenge_methods_supported');
  if (methods === undefined) skip(C.S256_NOT_SUPPORTED, unlisted('code_challenge_methods_supported'), on);
  else check(C.S256_NOT_SUPPORTED, methods.includes('S256'), () => `The tenant lists code_challenge_methods_supported ${quote(doc.code_challenge_methods_supported)} without S256.`, on);
  // RFC 8414 §2: a non-empty response_types_supported without "code" says the code flow is not offered.
  const responseTypes = listed('response_types_supported');
  if (responseTypes === undefined) skip(C.CODE_FLOW_NOT_SUPPORTED, unlisted('response_types_supported'), on);
  else check(C.CODE_FLOW_NOT_SUPPORTED, responseTypes.includes('code'), () => `The tenant lists response_types_supported ${quote(doc.response_types_supported)} without "code".`, on);
  // RFC 8414 §2: a listed token_endpoint_auth_methods_supported says how clients may authenticate;
  // one without any method src/client.ts knows leaves us no way in.
  const authMethods = listed('token_endpoint_auth_methods_supported');
  if (authMethods === undefined) skip(C.AUTH_METHOD_NOT_SUPPORTED, unlisted('token_endpoint_auth_methods_supported'), on);
  else check(C.AUTH_METHOD_NOT_SUPPORTED, authMethods.some((m) => CLIENT_AUTH_METHODS.includes(m as string)), () => `The tenant lists token_endpoint_auth_methods_supported ${quote(doc.token_endpoint_auth_methods_supported)} with none of ${CLIENT_AUTH_METHODS.join(', ')}.`, on);
  return {
    issuer,
    authorizationEndpoint,
    tokenEndpoint,
    revocationEndpoint,
    usersMeEndpoint: usersMeEndpoint(issuer),
    issParameterSupported: doc.authorization_response_iss_parameter_supported === true,
    tokenEndpointAuthMethods: (authMethods ?? []).filter((m): m is string => typeof m === 'string'),
    document: doc,
  };
}

const CLIENT_AUTH_METHODS = ['client_secret_post', 'client_secret_basic', 'private_key_jwt', 'none'];

/**
 * RFC 8414 §2, §3.3: the issuer the metadata must name — the tenant URL as configured. Only the
 * slash a bare address may end with is forgiven (https://acme.eu.qlikcloud.com/ names the issuer
 * https://acme.eu.qlikcloud.com); an issuer with a path is taken to the letter.
 */
export function expectedIssuer(tenantUrl: string, onCheck?: CheckObserver): string {
  const url = URL.canParse(tenantUrl) ? new URL(tenantUrl) : undefined;
  // RFC 8414 §2: an issuer has no query or fragment; one here means a pasted link, not a tenant.
  check(C.TENANT_URL_INVALID, url && !url.search && !url.hash && !url.username && !url.password, () => `The tenant URL ${quote(url ? `${url.origin}${url.pathname}…` : tenantUrl)} is not an absolute URL, or it carries a query, fragment or credentials.`, onCheck);
  // RFC 8414 §2: the issuer uses https; plain http would let anyone on the path swap the endpoints.
  const insecure = insecureUrlReason(url);
  check(C.TENANT_URL_NOT_HTTPS, insecure === undefined, () => `The tenant URL ${quote(tenantUrl)} cannot be used: ${insecure}.`, onCheck);
  return url.pathname === '/' ? url.origin : url.href;
}

/**
 * The two places a tenant's metadata may be, in the order we ask: RFC 8414 §3.1's (Qlik documents
 * it; the well-known part goes between the host and any path of the issuer, whose terminating "/"
 * is dropped), then the tutorial's (OpenID Connect Discovery §4).
 */
export function metadataUrls(issuer: string): [string, string] {
  const { origin, pathname } = new URL(issuer);
  const path = pathname.replace(/\/$/, '');
  return [`${origin}/.well-known/oauth-authorization-server${path}`, `${origin}${path}/.well-known/openid-configuration`];
}

/**
 * Qlik has no OpenID userinfo endpoint. The tutorial plugged in `/api/v1/users`, a paged list of
 * every user; `/api/v1/users/me` is the signed-in user. Qlik's REST APIs live at the tenant's origin.
 */
export function usersMeEndpoint(issuer: string): string {
  return `${new URL(issuer).origin}/api/v1/users/me`;
}

/** Reads one endpoint URL from the document, with the checks every endpoint needs. */
function endpoint(doc: Record<string, unknown>, name: string, issuer: string, onCheck: CheckObserver | undefined): string | undefined {
  const value = doc[name];
  if (value === undefined && name === 'revocation_endpoint') return undefined;
  // RFC 8414 §2: authorization_endpoint and token_endpoint are REQUIRED for the code flow.
  check(C.ENDPOINT_MISSING, typeof value === 'string' && value !== '', () => `The tenant's metadata has no ${name}.`, onCheck);
  // RFC 8414 §2: endpoints are absolute URLs; a relative one would resolve against who knows what.
  const url = URL.canParse(value) ? new URL(value) : undefined;
  check(C.ENDPOINT_INVALID, url, () => `The tenant's ${name} ${quote(value)} is not an absolute URL.`, onCheck);
  // RFC 6749 §3.1, §3.2: the endpoints carry credentials and codes, so they need TLS.
  const insecure = insecureUrlReason(url, issuer);
  check(C.ENDPOINT_NOT_HTTPS, insecure === undefined, () => `The tenant's ${name} ${quote(clip(value))} cannot be used: ${insecure}.`, onCheck);
  return value;
}
