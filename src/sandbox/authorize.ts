// GET /oauth/authorize: check the authorization request, then show the consent page; and
// POST /oauth/authorize/decision: the user's Allow (a code to the client's redirect URI) or Deny.
//
// The order of the checks matters (RFC 6749 §4.1.2.1). Until client_id and redirect_uri are both
// known good, errors are an HTTP 400 here: redirecting to an unchecked URI would make the sandbox an
// open redirector. After that, errors go back to the client's redirect URI with `error`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decideScopes, redirectUriMatches, splitScope, type RegisteredClient, type SandboxContext } from './context.ts';
import { AUTHORIZE, CONSENT, type OAuthErrorCode } from './error-codes.ts';
import { escapeHtml, param, QlikFailure, readBodyParams, repeatedParams, rfcText, sendHtml, sendRedirect, withQuery } from './http.ts';
import { hasFault } from './settings.ts';
import { CODE_KEPT_MS, PENDING_LIFETIME_MS, randomToken } from './store.ts';

/** An error that goes back to the client as `?error=...` (RFC 6749 §4.1.2.1) plus Qlik's error_code. */
type RedirectError = { code: OAuthErrorCode; detail: string };

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
  if (repeatedParams(query, ['client_id', 'redirect_uri']).length > 0) throw new QlikFailure(400, AUTHORIZE.badParameter, 'client_id and redirect_uri must each appear once.');
  const clientId = param(query, 'client_id');
  const client = clientId === undefined ? undefined : ctx.clients.get(clientId);
  // RFC 6749 §4.1.2.1: unknown client → tell the user, do not redirect anywhere. Qlik: 400 OAUTH-1.
  if (client === undefined) {
    const said = clientId === undefined ? 'The request has no client_id.' : `No OAuth client "${clientId.slice(0, 100)}" is registered on this tenant.`;
    throw new QlikFailure(400, AUTHORIZE.unknownClient, `${said} Check the client ID in the app's settings.`);
  }
  return client;
}

/** Step 2 of 2: where to answer. Failures are a 400, never a redirect. */
function checkRedirectUri(query: URLSearchParams, client: RegisteredClient): string {
  const redirectUri = param(query, 'redirect_uri');
  // Qlik: redirect_uri is required. RFC 9700 §4.1.3 and Qlik: compared by exact string equality, so an
  // attacker cannot steer the code to a look-alike URI (another path, port, or query). Native clients:
  // any loopback port (RFC 8252 §7.3), see context.ts. Qlik [seen]: 400 OAUTH-1, not a redirect.
  if (redirectUri === undefined || !redirectUriMatches(client, redirectUri)) {
    const said = redirectUri === undefined ? 'The request has no redirect_uri.' : `redirect_uri "${redirectUri.slice(0, 200)}" is not registered for this client.`;
    const registered = client.redirectUris.length > 0 ? client.redirectUris.join(', ') : 'none yet';
    throw new QlikFailure(400, AUTHORIZE.badRedirectUri, `${said} Registered redirect URIs: ${registered}. They must match exactly.`);
  }
  return redirectUri;
}

const OTHER_PARAMETERS = ['response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'prompt', 'max_age', 'login_hint'] as const;

/** The remaining checks; each problem goes back to the client's redirect URI. */
function findRequestProblem(query: URLSearchParams, client: RegisteredClient): RedirectError | undefined {
  const repeated = repeatedParams(query, OTHER_PARAMETERS);
  // RFC 6749 §3.1: parameters must not be repeated.
  if (repeated.length > 0) return { code: AUTHORIZE.badParameter, detail: `Repeated parameter: ${repeated.join(', ')}.` };

  const responseType = param(query, 'response_type');
  // RFC 6749 §4.1.1: response_type is required and is "code" for this flow (Qlik has no implicit flow).
  if (responseType === undefined) return { code: AUTHORIZE.badParameter, detail: 'response_type is missing; send response_type=code.' };
  if (responseType !== 'code') return { code: AUTHORIZE.unsupportedResponseType, detail: 'Only response_type=code is supported.' };
  // RFC 6749 §4.1.2.1 unauthorized_client: e.g. an M2M-only client asking for a user's sign-in.
  if (!client.grantTypes.has('authorization_code')) return { code: AUTHORIZE.grantNotAllowed, detail: `Client "${client.clientId}" may not use the authorization code flow.` };

  // Qlik: scope is required. RFC 6749 §3.3: without a default, "fail the request indicating an invalid
  // scope" — an error redirect (§4.1.2.1), as for any scope the client may not have.
  if (splitScope(param(query, 'scope')).length === 0) {
    return { code: AUTHORIZE.badScope, detail: 'scope is missing: send the scopes to ask for, e.g. scope=user_default offline_access.' };
  }
  const scopes = decideScopes(client, param(query, 'scope'));
  if (scopes.problem !== undefined) return { code: AUTHORIZE.badScope, detail: scopes.problem };

  // RFC 6749 §10.12: state ties the answer to the browser that asked (CSRF). Qlik: required.
  if (param(query, 'state') === undefined) return { code: AUTHORIZE.badParameter, detail: 'state is missing; send a fresh random state per sign-in.' };

  // RFC 7636 §4.3 and Qlik: PKCE with S256 is required of every client, confidential ones included.
  // "plain" would hand the verifier to anyone who sees the authorization request (RFC 7636 §7.2).
  if (param(query, 'code_challenge_method') !== 'S256') return { code: AUTHORIZE.pkceMethod, detail: 'PKCE is required: send code_challenge_method=S256.' };
  // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters of A-Z a-z 0-9 - _.
  if (!/^[A-Za-z0-9_-]{43}$/.test(param(query, 'code_challenge') ?? '')) {
    return { code: AUTHORIZE.badChallenge, detail: 'code_challenge must be BASE64URL(SHA256(code_verifier)): 43 characters, no padding.' };
  }

  const prompt = param(query, 'prompt');
  // Qlik documents prompt = none | login, and one version of its reference adds consent [?]. The
  // sandbox shows its consent page every time, so login and consent change nothing here.
  if (prompt !== undefined && prompt !== 'none' && prompt !== 'login' && prompt !== 'consent') {
    return { code: AUTHORIZE.badParameter, detail: 'prompt must be none, login or consent.' };
  }
  const maxAge = param(query, 'max_age');
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge)) return { code: AUTHORIZE.badParameter, detail: 'max_age must be a whole number of seconds.' };
  // prompt=none asks for no user interaction; the sandbox keeps no sign-in session, so it cannot.
  if (prompt === 'none') return { code: AUTHORIZE.loginRequired, detail: 'prompt=none was sent but nobody is signed in.' };
  return undefined;
}

/**
 * The redirect that reports an error (RFC 6749 §4.1.2.1): error, error_description, state as sent, plus
 * Qlik's error_code / error_detail [doc] (the codes are ours) and `iss` (RFC 9207 §2: on errors too).
 */
function errorRedirectUrl(ctx: SandboxContext, redirectUri: string, state: string | undefined, problem: RedirectError): string {
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
function callbackIss(ctx: SandboxContext): string | undefined {
  if (hasFault(ctx, 'iss-missing')) return undefined;
  if (hasFault(ctx, 'iss-mismatch')) return ANOTHER_ISSUER;
  return ctx.issInCallback ? ctx.url : undefined;
}

/** An issuer that is not this sandbox: what a mix-up attack's callback would carry. */
export const ANOTHER_ISSUER = 'https://another-tenant.eu.qlikcloud.com';

/** RFC 6749 §4.1.2: state exactly as received; the state-tampered fault changes it. */
function callbackState(ctx: SandboxContext, state: string | undefined): string | undefined {
  if (state === undefined || !hasFault(ctx, 'state-tampered')) return state;
  return `${state}-tampered`;
}

/**
 * The consent page's CSP: no script, and the form posts only to the sandbox. Browsers apply form-action to
 * the redirect after the post too (CSP Level 3): the client's origin is allowed, else Chrome blocks the 302.
 */
function consentPolicy(redirectUri: string): string {
  const target = new URL(redirectUri);
  const source = target.origin !== 'null' ? target.origin : target.protocol; // custom schemes have no origin
  const safe = /^[a-z][a-z0-9+.-]*:(\/\/[A-Za-z0-9.:[\]-]+)?$/i.test(source);
  return `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'${safe ? ` ${source}` : ''}`;
}

/** Who may sign in to the sandbox: any name of this shape; there are no passwords. */
const USER_NAME_PATTERN = '[a-z0-9._-]{1,40}';

/** What well-known Qlik scopes let the app do. A Map: a scope named `constructor` must find nothing. */
const SCOPE_TEXT = new Map<string, string>([
  ['user_default', 'act as you in Qlik Cloud (read your profile, spaces and apps)'],
  ['offline_access', 'keep access when you are away (a refresh token)'],
  ['admin_classic', 'use the tenant administration APIs'],
]);

function consentPage({ clientId, scopes, tx, user }: { clientId: string; scopes: string[]; tx: string; user: string }): string {
  const items = scopes
    .map((scope) => {
      const text = SCOPE_TEXT.get(scope);
      return `<li><code>${escapeHtml(scope)}</code>${text ? ` — ${escapeHtml(text)}` : ''}</li>`;
    })
    .join('\n        ');
  // No `required`/`pattern` on the input: the browser would then block Deny too. The server checks the name.
  // Every value from the request is escaped: client_id and login_hint come from the URL (XSS).
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Sandbox tenant: allow access?</title>
    <style>
      body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; }
      .note { color: #666; font-size: 0.9rem; }
      button { font-size: 1rem; padding: 0.4rem 1.2rem; margin-right: 0.5rem; }
    </style>
  </head>
  <body>
    <main>
    <h1>Allow <code>${escapeHtml(clientId)}</code> to access your account?</h1>
    <p>It asks for these scopes:</p>
    <ul>
        ${items}
    </ul>
    <form method="post" action="/oauth/authorize/decision">
      <input type="hidden" name="tx" value="${escapeHtml(tx)}">
      <p>
        <label for="user">Sign in as</label>
        <input id="user" type="text" name="user" value="${escapeHtml(user.slice(0, 100))}" autocomplete="off">
        <span class="note">(${USER_NAME_PATTERN})</span>
      </p>
      <button name="decision" value="allow">Allow</button>
      <button name="decision" value="deny">Deny</button>
    </form>
    <p class="note">This is the local sandbox tenant, not Qlik Cloud: any user name works, there is no password.</p>
    </main>
  </body>
</html>
`;
}

const USER_NAME = new RegExp(`^${USER_NAME_PATTERN}$`);

/** POST /oauth/authorize/decision: Allow → an authorization code to the client's redirect URI; Deny → error=access_denied. */
export async function handleDecision(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): Promise<void> {
  const form = await readBodyParams(req);

  const tx = param(form, 'tx');
  const pending = tx === undefined ? undefined : ctx.store.pending.get(tx);
  // The random, single-use, 10-minute tx ties this answer to one consent page the sandbox showed:
  // a forged or replayed form post finds nothing here.
  if (tx === undefined || pending === undefined) {
    throw new QlikFailure(400, CONSENT.unknownTransaction, 'This sign-in is unknown, expired or already answered. Start the sign-in again from the app.');
  }

  const decision = param(form, 'decision');
  if (decision !== 'allow' && decision !== 'deny') throw new QlikFailure(400, CONSENT.badDecision, 'decision must be allow or deny.');

  if (decision === 'deny') {
    ctx.store.pending.delete(tx);
    // RFC 6749 §4.1.2.1: the resource owner denied the request → access_denied, state echoed.
    const denied = { code: AUTHORIZE.denied, detail: 'The user denied the request.' };
    sendRedirect(res, errorRedirectUrl(ctx, pending.redirectUri, pending.state, denied));
    return;
  }

  const user = param(form, 'user') ?? '';
  // The sandbox's users have no password, only a name of a safe shape. The tx is kept, so Back works.
  if (!USER_NAME.test(user)) throw new QlikFailure(400, CONSENT.badUser, `The user name must match ${USER_NAME_PATTERN}. Go back and fix it.`);

  ctx.store.pending.delete(tx); // one answer per consent page
  rememberUser(ctx, user);
  const code = randomToken('sbx_ac_');
  const issuedAt = ctx.now();
  ctx.store.codes.set(code, {
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    scopes: pending.scopes,
    codeChallenge: pending.codeChallenge,
    user,
    issuedAt,
    used: false,
    grantId: randomToken(),
    keepUntil: issuedAt + CODE_KEPT_MS,
  });
  // RFC 6749 §4.1.2: code and state; RFC 9207 §2: iss, so the client can tell which server answered.
  // The faults iss-mismatch, iss-missing and state-tampered change these two (callbackIss, callbackState).
  sendRedirect(res, withQuery(pending.redirectUri, { code, state: callbackState(ctx, pending.state), iss: callbackIss(ctx) }));
}

/** Who signed in, so impersonation can find them; bounded, oldest forgotten first. */
const MAX_REMEMBERED_USERS = 10_000;

function rememberUser(ctx: SandboxContext, user: string): void {
  ctx.signedInUsers.delete(user);
  ctx.signedInUsers.add(user);
  if (ctx.signedInUsers.size > MAX_REMEMBERED_USERS) ctx.signedInUsers.delete(ctx.signedInUsers.values().next().value!);
}
