// Tutorial 3.1 — discover the tenant's endpoints.
//
// The tutorial calls openid-client's Issuer.discover(). By hand that is: fetch the tenant's
// metadata document, check it really describes the tenant we asked for, and keep the endpoints.
// Qlik's document has no userinfo endpoint, so we add the one Qlik API that says who is signed in.

import { DiscoveryError, QlikOAuthError, clip, quote, reportPassed, type CheckCode } from './errors.ts';
import { httpRequest, insecureUrlReason, isJsonContentType, isObject, parseJsonObject, type HttpOptions, type HttpResult } from './http.ts';

/** What the rest of the sign-in needs to know about the tenant. */
export interface TenantMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** RFC 7009; Qlik documents `/oauth/revoke`. Undefined when the document does not list it. */
  revocationEndpoint: string | undefined;
  /** Not from the document: `${issuer}/api/v1/users/me`, Qlik's "who am I" (see usersMeEndpoint). */
  usersMeEndpoint: string;
  /** RFC 9207 §3: true when the tenant promises an `iss` on every callback. */
  issParameterSupported: boolean;
  /** RFC 8414 §2 token_endpoint_auth_methods_supported; empty (Qlik's case) means no information. */
  tokenEndpointAuthMethods: string[];
  /** The document as received, for display. */
  document: Record<string, unknown>;
}

/** The path RFC 8414 §3 defines, and the one Qlik documents: asked first. */
export const OAUTH_SERVER_METADATA_PATH = '/.well-known/oauth-authorization-server';
/** The path the tutorial uses (OpenID Connect Discovery 1.0 §4): asked when the first is not metadata. */
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';

/**
 * RFC 8414 §2, §3.3: turns the configured tenant URL into the issuer we expect the metadata to
 * name. Only a trailing slash of the *configured* URL is forgiven; the document's issuer must
 * then match to the letter.
 */
export function expectedIssuer(tenantUrl: string): string {
  let url: URL;
  try {
    url = new URL(tenantUrl);
  } catch {
    throw new DiscoveryError(
      'TENANT_URL_INVALID',
      `The tenant URL ${quote(tenantUrl)} is not an absolute URL.`,
      'Give the tenant address, e.g. https://acme.eu.qlikcloud.com.',
      { settings: ['tenantUrl'] },
    );
  }
  // RFC 8414 §2: an issuer has no query or fragment; one here means a pasted link, not a tenant.
  if (url.search || url.hash || url.username || url.password) {
    throw new DiscoveryError(
      'TENANT_URL_INVALID',
      `The tenant URL ${quote(`${url.origin}${url.pathname}…`)} carries a query, fragment or credentials.`,
      'Give the bare tenant address, e.g. https://acme.eu.qlikcloud.com.',
      { settings: ['tenantUrl'] },
    );
  }
  // RFC 8414 §2: the issuer uses https. Plain http would let anyone on the path swap the
  // endpoints. Loopback is allowed so the sandbox tenant can run locally (http.ts has the rule).
  const insecure = insecureUrlReason(url);
  if (insecure !== undefined) {
    throw new DiscoveryError(
      'TENANT_URL_NOT_HTTPS',
      `The tenant URL ${quote(tenantUrl)} cannot be used: ${insecure}.`,
      'Give the https:// address of your tenant.',
      { settings: ['tenantUrl'] },
    );
  }
  return url.href.replace(/\/+$/, '');
}

/** The checks on a metadata response before its document is read (readMetadataAnswer, processDiscoveryResponse). */
const METADATA_RESPONSE_CHECKS: readonly CheckCode[] = ['DISCOVERY_HTTP_STATUS', 'NOT_JSON', 'JSON_INVALID', 'JSON_NOT_OBJECT'];

/** The checks checkMetadataDocument() makes, in order. */
const METADATA_DOCUMENT_CHECKS: readonly CheckCode[] = [
  'ISSUER_MISMATCH',
  'ENDPOINT_MISSING',
  'ENDPOINT_INVALID',
  'ENDPOINT_NOT_HTTPS',
  'S256_NOT_SUPPORTED',
  'CODE_FLOW_NOT_SUPPORTED',
  'AUTH_METHOD_NOT_SUPPORTED',
];

/** The checks a metadata answer goes through, in order, for the transcript: the response's, then the document's. */
export const DISCOVERY_CHECKS: readonly CheckCode[] = [...METADATA_RESPONSE_CHECKS, ...METADATA_DOCUMENT_CHECKS];

/**
 * The two places a tenant's metadata may be, in the order we ask: RFC 8414 §3.1's (Qlik documents
 * it; the well-known part goes between the host and any path of the issuer), then the tutorial's.
 */
export function metadataUrls(issuer: string): [string, string] {
  const { origin, pathname } = new URL(issuer);
  const path = pathname === '/' ? '' : pathname;
  return [origin + OAUTH_SERVER_METADATA_PATH + path, issuer + OPENID_CONFIGURATION_PATH];
}

/**
 * Tutorial 3.1, by hand: GET the tenant's metadata (RFC 8414 §3.1), check it (readMetadataAnswer,
 * then checkMetadataDocument), and add the users endpoint.
 *
 * The documented path is asked first. Anything there that is not metadata — a 404, a 401, a
 * redirect to a login page, an HTML page, JSON without an issuer — sends us to the tutorial's path.
 * Metadata that fails a check (another issuer, an http endpoint) is final: it is not a wrong path,
 * it is a wrong or tampered tenant. A tenant that cannot be reached is final too.
 */
export async function discover(tenantUrl: string, options: HttpOptions = {}): Promise<TenantMetadata> {
  const issuer = expectedIssuer(tenantUrl);
  options.onCheck?.('TENANT_URL_INVALID', true);
  options.onCheck?.('TENANT_URL_NOT_HTTPS', true);

  const answers: string[] = [];
  for (const url of metadataUrls(issuer)) {
    let result: HttpResult;
    try {
      result = await httpRequest({ method: 'GET', url, issuer }, options);
    } catch (error) {
      // A redirect (never followed) or an oversized page is not metadata: try the other path.
      if (error instanceof QlikOAuthError && (error.code === 'REDIRECT_REFUSED' || error.code === 'BODY_TOO_LARGE')) {
        answers.push(`${url} → ${error.message.replace(/\.$/, '')}`);
        continue;
      }
      throw error;
    }
    const answer = readMetadataAnswer(result);
    if ('document' in answer) {
      reportPassed(options.onCheck, METADATA_RESPONSE_CHECKS);
      return checkMetadataDocument(answer.document, issuer, options);
    }
    answers.push(`${url} → ${answer.notMetadata}`);
  }
  // RFC 8414 §3.2: neither place answered with metadata.
  throw new DiscoveryError(
    'DISCOVERY_FAILED',
    `Neither well-known path gave the tenant's metadata: ${answers.join('; ')}.`,
    'Check the tenant URL: it should be the tenant address itself, e.g. https://acme.eu.qlikcloud.com.',
    { settings: ['tenantUrl'] },
  );
}

/** One well-known path's answer: a metadata document, or why it is not one. */
export type MetadataAnswer = { document: Record<string, unknown> } | { notMetadata: string };

/**
 * Reads one well-known path's answer leniently: a 200 JSON object with an issuer is a metadata
 * document (checked next, by checkMetadataDocument); anything else says why it is not one, and the
 * other path is asked. The body is parsed here, once.
 */
export function readMetadataAnswer(result: HttpResult): MetadataAnswer {
  if (result.status !== 200) return { notMetadata: `HTTP ${result.status}` };
  const type = result.headers.get('content-type') ?? '(no content type)';
  if (!isJsonContentType(type)) return { notMetadata: `200 with ${clip(type, 60)}, not JSON` };
  let value: unknown;
  try {
    value = JSON.parse(result.body);
  } catch {
    return { notMetadata: '200 with a body that is not valid JSON' };
  }
  if (!isObject(value) || typeof value.issuer !== 'string') return { notMetadata: '200 with JSON that has no issuer' };
  return { document: value };
}

/**
 * Checks one metadata response strictly (RFC 8414 §3.2): 200 and a JSON object, then the document
 * itself (checkMetadataDocument). For a response on its own; discover() reads both paths'
 * answers leniently first (readMetadataAnswer).
 */
export function processDiscoveryResponse(
  result: HttpResult,
  issuer: string,
  options: Pick<HttpOptions, 'onCheck'> = {},
): TenantMetadata {
  // RFC 8414 §3.2: metadata comes with 200; anything else is an error page, not metadata.
  if (result.status !== 200) {
    throw new DiscoveryError(
      'DISCOVERY_HTTP_STATUS',
      `The tenant's metadata request answered ${result.status}, expected 200.`,
      'Check the tenant URL: it should be the tenant address itself, e.g. https://acme.eu.qlikcloud.com.',
      { settings: ['tenantUrl'] },
    );
  }
  const doc = parseJsonObject(result, "The tenant's metadata");
  reportPassed(options.onCheck, METADATA_RESPONSE_CHECKS);
  return checkMetadataDocument(doc, issuer, options);
}

/** Checks a metadata document against the issuer we expect (RFC 8414 §3.3), and keeps the endpoints. */
export function checkMetadataDocument(
  doc: Record<string, unknown>,
  issuer: string,
  options: Pick<HttpOptions, 'onCheck'> = {},
): TenantMetadata {
  // RFC 8414 §3.3: the issuer in the document must be the one we asked, exactly. Otherwise a
  // document from another server (mix-up attack) or a mistyped tenant would be trusted.
  if (doc.issuer !== issuer) {
    throw new DiscoveryError(
      'ISSUER_MISMATCH',
      `The metadata names issuer ${quote(doc.issuer)}, but we asked ${quote(issuer)}.`,
      'Give the tenant URL exactly as the issuer your tenant publishes (no path, no trailing slash).',
      { settings: ['tenantUrl'] },
    );
  }

  const authorizationEndpoint = endpoint(doc, 'authorization_endpoint', true, issuer)!;
  const tokenEndpoint = endpoint(doc, 'token_endpoint', true, issuer)!;
  const revocationEndpoint = endpoint(doc, 'revocation_endpoint', false, issuer);

  // RFC 8414 §2, RFC 9700 §2.1.1: we always send S256. A server that lists its methods without
  // S256 would ignore or reject our PKCE, and the code would be stealable.
  if (listsWithout(doc, 'code_challenge_methods_supported', 'S256')) {
    throw new DiscoveryError(
      'S256_NOT_SUPPORTED',
      `The tenant lists code_challenge_methods_supported ${quote(doc.code_challenge_methods_supported)} without S256.`,
      'This client only signs in with PKCE S256. Check that the tenant URL is a Qlik Cloud tenant.',
    );
  }
  // RFC 8414 §2: response_types_supported lists what the server can do. Qlik sends it empty, which
  // says nothing; a non-empty list without "code" says the authorization code flow is not offered.
  if (listsWithout(doc, 'response_types_supported', 'code')) {
    throw new DiscoveryError(
      'CODE_FLOW_NOT_SUPPORTED',
      `The tenant lists response_types_supported ${quote(doc.response_types_supported)} without "code".`,
      'This client uses the authorization code flow. Check that the tenant URL is a Qlik Cloud tenant.',
    );
  }
  // RFC 8414 §2: a listed token_endpoint_auth_methods_supported says how clients may authenticate.
  // We can use any of these three (src/client.ts); a list with none of them leaves us no way in.
  if (CLIENT_AUTH_METHODS.every((method) => listsWithout(doc, 'token_endpoint_auth_methods_supported', method))) {
    throw new DiscoveryError(
      'AUTH_METHOD_NOT_SUPPORTED',
      `The tenant lists token_endpoint_auth_methods_supported ${quote(doc.token_endpoint_auth_methods_supported)} with none of ${CLIENT_AUTH_METHODS.join(', ')}.`,
      'This client authenticates with client_secret_post, client_secret_basic or (public clients) none. Check that the tenant URL is a Qlik Cloud tenant.',
      { settings: ['tenantUrl'] },
    );
  }

  // For the transcript: a list the tenant leaves out (or, as Qlik, sends empty) says nothing to check.
  reportPassed(options.onCheck, METADATA_DOCUMENT_CHECKS, {
    ...(stringList(doc.code_challenge_methods_supported).length === 0 ? { S256_NOT_SUPPORTED: unlisted('code_challenge_methods_supported') } : {}),
    ...(stringList(doc.response_types_supported).length === 0 ? { CODE_FLOW_NOT_SUPPORTED: unlisted('response_types_supported') } : {}),
    ...(stringList(doc.token_endpoint_auth_methods_supported).length === 0 ? { AUTH_METHOD_NOT_SUPPORTED: unlisted('token_endpoint_auth_methods_supported') } : {}),
  });
  return {
    issuer,
    authorizationEndpoint,
    tokenEndpoint,
    revocationEndpoint,
    usersMeEndpoint: usersMeEndpoint(issuer),
    issParameterSupported: doc.authorization_response_iss_parameter_supported === true,
    tokenEndpointAuthMethods: stringList(doc.token_endpoint_auth_methods_supported),
    document: doc,
  };
}

/** Why a list check had nothing to look at, for the transcript. */
function unlisted(name: string): string {
  return `${name} is absent or empty: the tenant lists nothing to check against`;
}

const CLIENT_AUTH_METHODS = ['client_secret_post', 'client_secret_basic', 'none'] as const;

/** A list of strings from the document; anything else (absent, not a list) is an empty list: no information. */
function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * Qlik has no OpenID userinfo endpoint. The tutorial plugged in `/api/v1/users` as a stand-in, but
 * that is a paged list of every user in the tenant. `/api/v1/users/me` is the signed-in user.
 */
export function usersMeEndpoint(issuer: string): string {
  return `${issuer}/api/v1/users/me`;
}

/** Reads one endpoint URL from the document, with the checks every endpoint needs. */
function endpoint(doc: Record<string, unknown>, name: string, required: boolean, issuer: string): string | undefined {
  const value = doc[name];
  // RFC 8414 §2: authorization_endpoint and token_endpoint are REQUIRED for the code flow.
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new DiscoveryError(
      'ENDPOINT_MISSING',
      `The tenant's metadata has no ${name}.`,
      'Check that the tenant URL is a Qlik Cloud tenant; its metadata always lists this endpoint.',
      { settings: ['tenantUrl'] },
    );
  }
  // RFC 8414 §2: endpoints are absolute URLs; a relative one would resolve against who knows what.
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DiscoveryError(
      'ENDPOINT_INVALID',
      `The tenant's ${name} ${quote(value)} is not an absolute URL.`,
      'The tenant metadata is broken. Check the tenant URL, or contact Qlik support.',
      { settings: ['tenantUrl'] },
    );
  }
  // RFC 6749 §3.1, §3.2: the endpoints carry credentials and codes, so they need TLS; http only
  // when the tenant itself is a local http one (the sandbox), never for an https tenant.
  const insecure = insecureUrlReason(url, issuer);
  if (insecure !== undefined) {
    throw new DiscoveryError(
      'ENDPOINT_NOT_HTTPS',
      `The tenant's ${name} ${quote(value)} cannot be used: ${insecure}.`,
      'Only https endpoints can carry codes and secrets. Check that the tenant URL is the https address of your tenant.',
      { settings: ['tenantUrl'] },
    );
  }
  return value;
}

/**
 * True when the document has a list `name` that leaves out `wanted`. An absent or empty list, as
 * Qlik's document has, says nothing either way; a value that is not a list is as good as no `wanted`.
 * RFC 8414 §2 reads some omitted lists as defaults (no PKCE; client_secret_basic only). Qlik's
 * documented metadata omits them although Qlik requires PKCE S256 and takes client_secret_post
 * (Qlik facts), so here, on purpose, an omitted list is silence, not a default.
 */
function listsWithout(doc: Record<string, unknown>, name: string, wanted: string): boolean {
  const list = doc[name];
  if (list === undefined || (Array.isArray(list) && list.length === 0)) return false;
  return !(Array.isArray(list) && list.includes(wanted));
}
