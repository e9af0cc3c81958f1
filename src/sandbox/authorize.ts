// GET /oauth/authorize: check the authorization request, then show the consent page.
//
// The order of the checks matters (RFC 6749 §4.1.2.1). Until client_id and redirect_uri are both
// known good, errors are an HTTP 400 here: redirecting to an unchecked URI would make the sandbox an
// open redirector. After that, errors go back to the client's redirect URI with `error`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hasFault, type RegisteredClient, type SandboxContext } from './context.ts';
import { AUTHORIZE, type OAuthErrorCode } from './error-codes.ts';
import { param, repeatedParams } from './params.ts';
import { QlikFailure, rfcText, sendHtml, sendRedirect, withQuery } from './respond.ts';
import { PENDING_LIFETIME_MS, randomToken } from './store.ts';
import { consentPage } from './consent-page.ts';
import { redirectUriMatches } from './redirect-uris.ts';
import { decideScopes } from './scopes.ts';

/** An error that goes back to the client as `?error=...` (RFC 6749 §4.1.2.1) plus Qlik's error_code. */
export interface RedirectError {
  /** The sandbox's code; its `rfc` is the RFC 6749 error name, e.g. invalid_request. */
  code: OAuthErrorCode;
  detail: string;
}

export function handleAuthorize(_req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, query: URLSearchParams): void {
  const client = checkClient(query, ctx);
  const redirectUri = checkRedirectUri(query, client);
  const state = param(query, 'state');

  const problem = findRequestProblem(query, client);
  if (problem) {
    sendRedirect(res, errorRedirectUrl(ctx, redirectUri, state, problem));
    return;
  }

  // Every check passed: remember the request under a random transaction id, then ask the user.
  const scopes = decideScopes(client, param(query, 'scope')).scopes!;
  const tx = randomToken();
  ctx.store.pending.set(tx, {
    clientId: client.clientId,
    redirectUri,
    scopes,
    state: state!,
    codeChallenge: param(query, 'code_challenge')!,
    keepUntil: ctx.now() + PENDING_LIFETIME_MS,
  });
  const page = consentPage({ clientId: client.clientId, scopes, tx, user: param(query, 'login_hint') ?? 'ada' });
  sendHtml(res, 200, page, { 'content-security-policy': consentPolicy(redirectUri) });
}

/** Step 1 of 2: who is asking. Failures are a 400, never a redirect. */
function checkClient(query: URLSearchParams, ctx: SandboxContext): RegisteredClient {
  // RFC 6749 §3.1: a repeated parameter makes the request ambiguous.
  if (repeatedParams(query, ['client_id', 'redirect_uri']).length > 0) {
    throw new QlikFailure(400, AUTHORIZE.badParameter, 'client_id and redirect_uri must each appear once.');
  }
  const clientId = param(query, 'client_id');
  const client = clientId === undefined ? undefined : ctx.clients.get(clientId);
  // RFC 6749 §4.1.2.1: unknown client → tell the user, do not redirect anywhere. Qlik: 400 OAUTH-1.
  if (client === undefined) {
    throw new QlikFailure(
      400,
      AUTHORIZE.unknownClient,
      clientId === undefined
        ? 'The request has no client_id.'
        : `No OAuth client "${clientId.slice(0, 100)}" is registered on this tenant. Check the client ID in the app's settings.`,
    );
  }
  return client;
}

/** Step 2 of 2: where to answer. Failures are a 400, never a redirect. */
function checkRedirectUri(query: URLSearchParams, client: RegisteredClient): string {
  const redirectUri = param(query, 'redirect_uri');
  // Qlik: redirect_uri is required. RFC 9700 §4.1.3 and Qlik: compared by exact string equality, so an
  // attacker cannot steer the code to a look-alike URI (another path, port, or query). Native clients:
  // any loopback port (RFC 8252 §7.3), see redirect-uris.ts. Qlik [seen]: 400 OAUTH-1, not a redirect.
  if (redirectUri === undefined || !redirectUriMatches(client, redirectUri)) {
    const registered = client.redirectUris.length > 0 ? client.redirectUris.join(', ') : 'none yet';
    throw new QlikFailure(
      400,
      AUTHORIZE.badRedirectUri,
      `${redirectUri === undefined ? 'The request has no redirect_uri.' : `redirect_uri "${redirectUri.slice(0, 200)}" is not registered for this client.`} ` +
        `Registered redirect URIs: ${registered}. They must match exactly.`,
    );
  }
  return redirectUri;
}

const OTHER_PARAMETERS = ['response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'prompt', 'max_age', 'login_hint'] as const;

/** The remaining checks; each problem goes back to the client's redirect URI. */
export function findRequestProblem(query: URLSearchParams, client: RegisteredClient): RedirectError | undefined {
  const repeated = repeatedParams(query, OTHER_PARAMETERS);
  // RFC 6749 §3.1: parameters must not be repeated.
  if (repeated.length > 0) return { code: AUTHORIZE.badParameter, detail: `Repeated parameter: ${repeated.join(', ')}.` };

  const responseType = param(query, 'response_type');
  // RFC 6749 §4.1.1: response_type is required and is "code" for this flow (Qlik has no implicit flow).
  if (responseType === undefined) return { code: AUTHORIZE.badParameter, detail: 'response_type is missing; send response_type=code.' };
  if (responseType !== 'code') return { code: AUTHORIZE.unsupportedResponseType, detail: 'Only response_type=code is supported.' };
  // RFC 6749 §4.1.2.1 unauthorized_client: e.g. an M2M-only client asking for a user's sign-in.
  if (!client.grantTypes.has('authorization_code')) {
    return { code: AUTHORIZE.grantNotAllowed, detail: `Client "${client.clientId}" may not use the authorization code flow.` };
  }

  // Qlik: scopes from the client's allow-list; an empty or absent scope grants that list (scopes.ts).
  const scopes = decideScopes(client, param(query, 'scope'));
  if (scopes.problem !== undefined) return { code: AUTHORIZE.badScope, detail: scopes.problem };

  // RFC 6749 §10.12: state ties the answer to the browser that asked (CSRF). Qlik: required.
  if (param(query, 'state') === undefined) {
    return { code: AUTHORIZE.badParameter, detail: 'state is missing; send a fresh random state per sign-in.' };
  }

  // RFC 7636 §4.3 and Qlik: PKCE with S256 is required of every client, confidential ones included.
  // "plain" would hand the verifier to anyone who sees the authorization request (RFC 7636 §7.2).
  if (param(query, 'code_challenge_method') !== 'S256') {
    return { code: AUTHORIZE.pkceMethod, detail: 'PKCE is required: send code_challenge_method=S256.' };
  }
  // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters of A-Z a-z 0-9 - _.
  if (!/^[A-Za-z0-9_-]{43}$/.test(param(query, 'code_challenge') ?? '')) {
    return { code: AUTHORIZE.badChallenge, detail: 'code_challenge must be BASE64URL(SHA256(code_verifier)): 43 characters, no padding.' };
  }

  const prompt = param(query, 'prompt');
  // Qlik documents prompt = none | login.
  if (prompt !== undefined && prompt !== 'none' && prompt !== 'login') {
    return { code: AUTHORIZE.badParameter, detail: 'prompt must be none or login.' };
  }
  const maxAge = param(query, 'max_age');
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge)) {
    return { code: AUTHORIZE.badParameter, detail: 'max_age must be a whole number of seconds.' };
  }
  // prompt=none asks for no user interaction; the sandbox keeps no sign-in session, so it cannot.
  if (prompt === 'none') return { code: AUTHORIZE.loginRequired, detail: 'prompt=none was sent but nobody is signed in.' };
  return undefined;
}

/**
 * The redirect that reports an error (RFC 6749 §4.1.2.1): error, error_description, state as sent,
 * plus Qlik's error_code / error_detail [doc] (the codes themselves are ours) and `iss` (RFC 9207 §2:
 * on error responses too).
 */
export function errorRedirectUrl(ctx: SandboxContext, redirectUri: string, state: string | undefined, problem: RedirectError): string {
  return withQuery(redirectUri, {
    error: problem.code.rfc,
    error_description: rfcText(problem.code.title),
    error_code: problem.code.code,
    error_detail: rfcText(problem.detail),
    state: callbackState(ctx, state),
    iss: callbackIss(ctx),
  });
}

/** RFC 9207 §2: the issuer in the callback. Faults: another tenant's (iss-mismatch) or none (iss-missing). */
export function callbackIss(ctx: SandboxContext): string | undefined {
  if (hasFault(ctx, 'iss-missing')) return undefined;
  if (hasFault(ctx, 'iss-mismatch')) return ANOTHER_ISSUER;
  return ctx.issInCallback ? ctx.url : undefined;
}

/** An issuer that is not this sandbox: what a mix-up attack's callback would carry. */
export const ANOTHER_ISSUER = 'https://another-tenant.eu.qlikcloud.com';

/** RFC 6749 §4.1.2: state exactly as received; the state-tampered fault changes it. */
export function callbackState(ctx: SandboxContext, state: string | undefined): string | undefined {
  if (state === undefined || !hasFault(ctx, 'state-tampered')) return state;
  return `${state}-tampered`;
}

/**
 * The consent page's Content-Security-Policy: no script, and the form may post only to the sandbox.
 * Browsers also apply form-action to the redirect that follows the post (CSP Level 3), so the
 * client's origin is allowed too, else Chrome would block the 302 back to the app.
 */
function consentPolicy(redirectUri: string): string {
  const target = new URL(redirectUri);
  const source = target.origin !== 'null' ? target.origin : target.protocol; // custom schemes have no origin
  const safe = /^[a-z][a-z0-9+.-]*:(\/\/[A-Za-z0-9.:[\]-]+)?$/i.test(source);
  return `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'${safe ? ` ${source}` : ''}`;
}
