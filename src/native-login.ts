// Beyond the tutorial — sign a user in from a command line or a desktop program (a native app).
//
// A native app has no web server and no secret it can keep (it is public, RFC 8252 §8.4). It
// signs in with the same authorization code + PKCE flow as the tutorial's web app, but the
// tenant sends the browser back to a one-shot listener on this machine's loopback interface
// (RFC 8252 §7.3). In the order docs/native-login.md reads them:
//   loopbackRedirectUri()  — the redirect URI: http://127.0.0.1:<port>/callback, or the one registered;
//   startLoopbackSignIn()  — listen, build the authorization URL (step 3.2), take exactly one
//                            valid callback (step 3.3's checks), exchange the code, stop listening.

import { createServer, type ServerResponse } from 'node:http';
import { QlikOAuthError, check, defineChecks, quote } from './errors.ts';
import { escapeHtml, listen } from './local-server.ts';
import { isLoopbackHost, type HttpOptions } from './http.ts';
import type { TenantMetadata } from './3.1-discovery.ts';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from './3.2-authorize.ts';
import { exchangeCode, validateCallback, type TokenSet } from './3.3-token.ts';
import type { ClientCredentials } from './client.ts';

export const NATIVE_CHECKS = {
  ...defineChecks('3.2', {
    REDIRECT_NOT_LOOPBACK: { rule: 'RFC 8252 §7.3', title: 'a native app redirects to http on the loopback interface', hint: 'Register a loopback redirect URI for the native client, e.g. http://127.0.0.1/callback, and use the same one here.', settings: ['redirectUri'], configuration: true },
  }),
  ...defineChecks('3.3', {
    LOOPBACK_TIMEOUT: { rule: 'Robustness: every call is bounded', title: 'the browser comes back to the loopback listener within the time limit', hint: 'Run the sign-in again and finish it in the browser within the time limit (or give a longer one).' },
  }),
};

/** The path the listener answers on when no redirect URI is given: what the sandbox's native client registers. */
export const DEFAULT_CALLBACK_PATH = '/callback';
/** How long to wait for the browser to come back: 5 minutes, long enough to type a password and a second factor. */
export const DEFAULT_LOGIN_TIMEOUT_MS = 300_000;

export interface LoopbackSignInParams {
  /** Space-separated scopes; add `offline_access` to get a refresh token. */
  scope: string;
  /**
   * The redirect URI registered for the client, when it has a fixed one. Its port (0 or none: any
   * free port) and path are used; its host must be a loopback address.
   */
  redirectUri?: string | undefined;
  /** The port to listen on when there is no redirectUri (0: a free one, chosen by the system). */
  port?: number | undefined;
  /** Default DEFAULT_LOGIN_TIMEOUT_MS. */
  timeoutMs?: number | undefined;
  /** Told about each request that is not the callback, or fails its checks: the wait goes on. */
  onIgnoredRequest?: ((what: string) => void) | undefined;
}

export interface LoopbackSignIn {
  /** Send the user's browser here (print it, and open it when a browser is at hand). */
  authorizationUrl: URL;
  /** The redirect URI the tenant will send the browser back to. */
  redirectUri: string;
  /** The tokens, once one valid callback came and its code was exchanged. */
  tokens: Promise<TokenSet>;
  /** Stops listening now (Ctrl-C); `tokens` then rejects. */
  close: () => void;
}

/**
 * RFC 8252 §7.3: a native app's redirect URI is plain http on the loopback interface, with the
 * port chosen at run time. §8.3 recommends the IP literal over "localhost" (which a resolver may
 * map elsewhere); a registered http://localhost:<port>/… still works: we listen on 127.0.0.1.
 * Returns where to listen and the path to answer on.
 */
export function loopbackRedirectUri(redirectUri: string | undefined, port = 0): { host: string; port: number; path: string } {
  if (redirectUri === undefined) return { host: '127.0.0.1', port, path: DEFAULT_CALLBACK_PATH };
  const url = URL.canParse(redirectUri) ? new URL(redirectUri) : undefined;
  // RFC 8252 §7.3: http (TLS is pointless on loopback), a loopback host, no fragment (RFC 6749 §3.1.2).
  const loopback = url?.protocol === 'http:' && isLoopbackHost(url.hostname) && !url.hash && !url.search && !url.username;
  check(NATIVE_CHECKS.REDIRECT_NOT_LOOPBACK, url && loopback, () => `The redirect URI ${quote(redirectUri)} is not http://127.0.0.1:<port>/<path> (or [::1], or localhost) without query or fragment.`);
  const host = url.hostname === '[::1]' ? '::1' : url.hostname === 'localhost' ? '127.0.0.1' : url.hostname;
  return { host, port: url.port === '' ? port : Number(url.port), path: url.pathname };
}

/**
 * RFC 8252 §7.3 with RFC 7636: starts the loopback listener and returns the authorization URL.
 * The listener takes exactly one valid callback: a request on another path gets a 404, one that
 * fails step 3.3's checks (no state, another state, a repeated parameter…) gets a short page and
 * does not end the wait — anything on this machine can reach the port, and must not be able to
 * end or hijack the sign-in. The tenant's own error (state checked first) ends it. So does the
 * time limit. A confidential client sends its secret in the exchange; a public one none.
 */
export async function startLoopbackSignIn(
  metadata: TenantMetadata,
  client: ClientCredentials,
  params: LoopbackSignInParams,
  options: HttpOptions = {},
): Promise<LoopbackSignIn> {
  const where = loopbackRedirectUri(params.redirectUri, params.port ?? 0);
  const codeVerifier = createCodeVerifier();
  const state = createState();
  let settle: { resolve: (tokens: TokenSet) => void; reject: (error: unknown) => void };
  const tokens = new Promise<TokenSet>((resolve, reject) => (settle = { resolve, reject }));
  tokens.catch(() => {}); // the caller may attach later; never an unhandled rejection
  let taken = false;
  let redirectUri = '';

  const server = createServer((req, res) => {
    // A request line that is no URL at all ("GET http://[x") is not the callback, and must not end the sign-in.
    const url = URL.canParse(req.url ?? '/', 'http://loopback') ? new URL(req.url ?? '/', 'http://loopback') : undefined;
    if (req.method !== 'GET' || url?.pathname !== where.path) {
      params.onIgnoredRequest?.(`${req.method} ${(url?.pathname ?? '(no URL)').slice(0, 100)}: not the callback (404)`);
      return page(res, 404, 'Not found', 'This address only takes the sign-in callback.');
    }
    if (taken) {
      params.onIgnoredRequest?.(`${url.pathname}: a second callback (the sign-in already has one)`);
      return page(res, 409, 'Already signed in', 'This sign-in already received its answer. You can close this tab.');
    }
    let code: string;
    try {
      ({ code } = validateCallback(new URL(req.url ?? '/', redirectUri), { expectedState: state, issuer: metadata.issuer, issRequired: metadata.issParameterSupported }, options));
    } catch (error) {
      if (error instanceof QlikOAuthError && error.code !== 'AUTHORIZATION_ERROR') {
        // Not the answer to our request: say so, and keep waiting for the real one.
        params.onIgnoredRequest?.(`${url.pathname}: ${error.code}, ${error.message}`);
        return page(res, 400, 'Not this sign-in', `${error.message} This window is still waiting for the sign-in it started.`);
      }
      // AUTHORIZATION_ERROR: the tenant answered our own request (its state matched) with an error.
      taken = true;
      page(res, 400, 'Sign-in failed', `${(error as Error).message} You can close this tab.`);
      return finish(() => settle.reject(error));
    }
    taken = true;
    exchangeCode(metadata, { ...client, redirectUri }, { code, codeVerifier }, options).then(
      (received) => {
        page(res, 200, 'Signed in', 'You can close this tab and return to the command line.');
        finish(() => settle.resolve(received));
      },
      (error: unknown) => {
        page(res, 502, 'Sign-in failed', `${error instanceof QlikOAuthError ? error.message : 'The code exchange failed.'} You can close this tab.`);
        finish(() => settle.reject(error));
      },
    );
  });

  // Bounded: a browser that never comes back must not keep the program (and the port) forever.
  const timeoutMs = params.timeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS;
  const timer = setTimeout(() => {
    finish(() =>
      settle.reject(
        new QlikOAuthError(NATIVE_CHECKS.LOOPBACK_TIMEOUT, `No sign-in came back within ${Math.round(timeoutMs / 1000)} s.`),
      ),
    );
  }, timeoutMs);

  function finish(then: () => void): void {
    clearTimeout(timer);
    // Stop taking connections; the one answering now closes once its page is sent.
    server.close();
    server.closeIdleConnections();
    then();
  }

  const port = await listen(server, where.port, where.host);
  // RFC 8252 §7.3: the port the system gave us goes into the redirect URI; the host is as registered.
  const host = params.redirectUri === undefined ? '127.0.0.1' : new URL(params.redirectUri).hostname;
  redirectUri = `http://${host}:${port}${where.path}`;

  let authorizationUrl: URL;
  try {
    authorizationUrl = buildAuthorizationUrl(metadata, { ...client, redirectUri }, { scope: params.scope, state, codeChallenge: codeChallengeS256(codeVerifier) });
  } catch (error) {
    finish(() => {});
    throw error;
  }
  return {
    authorizationUrl,
    redirectUri,
    tokens,
    close: () =>
      finish(() => settle.reject(new QlikOAuthError(NATIVE_CHECKS.LOOPBACK_TIMEOUT, 'The sign-in was stopped before the browser came back.', { hint: 'Run the sign-in again.' }))),
  };
}

/** A small page for the browser. No script, nothing loaded, the URL (with its code) not passed on. */
function page(res: ServerResponse, status: number, title: string, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The page's URL carries the code: no Referer, nothing loaded from elsewhere.
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-content-type-options': 'nosniff',
    connection: 'close',
  });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
      `<style>body{font:16px system-ui,sans-serif;margin:3rem auto;max-width:36rem}</style></head>` +
      `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`,
  );
}
