// A lean scripted browser for the bench, after test/helpers/browser.ts: fetch with
// `redirect: 'manual'`, a cookie jar per host, redirects followed by hand. Unlike the test helper it
// keeps no page history (a bench makes thousands of sign-ins), and it times every leg of a sign-in.
//
// It is given its own fetch, so that the bench can wrap globalThis.fetch to time only the app's
// calls to the tenant (src/http.ts calls the global fetch) without counting the browser's.

import { createApp, type App } from '../../src/app/index.ts';
import type { SessionLimits } from '../../src/app/sessions.ts';
import { startSandbox, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, type Sandbox } from '../../src/sandbox/index.ts';

export type Fetch = typeof globalThis.fetch;

/** One response, read in full. */
export interface Hop {
  status: number;
  location: string | undefined;
  body: string;
}

export class Browser {
  readonly #fetch: Fetch;
  /** host name → cookie name → value. RFC 6265 §8.5: cookies are not isolated by port. */
  readonly #jar = new Map<string, Map<string, string>>();

  constructor(fetchImpl: Fetch) {
    this.#fetch = fetchImpl;
  }

  async request(url: string, form?: Record<string, string>): Promise<Hop> {
    const target = new URL(url);
    const headers: Record<string, string> = {};
    const cookies = this.#jar.get(target.hostname);
    if (cookies && cookies.size > 0) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    let body: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = target.origin; // a browser sends Origin on every form post
      body = new URLSearchParams(form).toString();
    }
    const response = await this.#fetch(target, { method: form ? 'POST' : 'GET', headers, body, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.#storeCookie(target.hostname, line);
    const location = response.headers.get('location');
    return { status: response.status, location: location === null ? undefined : new URL(location, target).href, body: await response.text() };
  }

  #storeCookie(host: string, line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    const jar = this.#jar.get(host) ?? new Map<string, string>();
    this.#jar.set(host, jar);
    if (attributes.some((a) => a.toLowerCase() === 'max-age=0')) jar.delete(pair.slice(0, eq));
    else jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
}

/** The legs of one sign-in, in ms of wall time as the browser saw them. */
export interface SignInTiming {
  /** GET /login → 302 to the tenant (app). */
  login: number;
  /** GET /oauth/authorize → the consent page (tenant). */
  authorize: number;
  /** POST /oauth/authorize/decision, Allow → 302 to the callback (tenant). */
  decision: number;
  /** GET /login/callback → 302 home (app, which calls the tenant's token endpoint and /users/me meanwhile). */
  callback: number;
  /** GET / → the signed-in home page (app; it may call the tenant too, e.g. to list spaces). */
  home: number;
  /** From the start of GET /login to the end of the home page. */
  total: number;
}

function expect(hop: Hop, status: number, what: string): Hop {
  if (hop.status !== status) throw new Error(`${what}: expected ${status}, got ${hop.status}: ${hop.body.slice(0, 200)}`);
  return hop;
}

/** The sandbox consent page's form: where it posts and its hidden transaction id. */
function consentForm(page: Hop, pageUrl: string): { action: string; tx: string } {
  const action = /<form\b[^>]*action="([^"]*)"/.exec(page.body)?.[1];
  const tx = /<input[^>]*name="tx"[^>]*value="([^"]*)"/.exec(page.body)?.[1];
  if (action === undefined || tx === undefined) throw new Error(`No consent form on ${pageUrl}`);
  return { action: new URL(action.replaceAll('&amp;', '&'), pageUrl).href, tx: tx.replaceAll('&amp;', '&') };
}

/**
 * One whole sign-in by a new browser: GET /login → the consent page → Allow → the callback → home.
 * Every leg is checked, so a failed sign-in cannot pass for a fast one.
 */
export async function signIn(fetchImpl: Fetch, appUrl: string, user = 'ada'): Promise<SignInTiming> {
  const browser = new Browser(fetchImpl);
  const legs = { login: 0, authorize: 0, decision: 0, callback: 0, home: 0 };
  // Each leg is timed around its request alone; the browser's work between requests is not in any leg.
  const leg = async (name: keyof typeof legs, url: string, status: number, form?: Record<string, string>): Promise<Hop> => {
    const started = performance.now();
    const hop = await browser.request(url, form);
    legs[name] = performance.now() - started;
    return expect(hop, status, `${form ? 'POST' : 'GET'} ${new URL(url).pathname}`);
  };
  const t0 = performance.now();
  const login = await leg('login', `${appUrl}/login`, 302);
  const consentUrl = login.location!;
  const consent = await leg('authorize', consentUrl, 200);
  const { action, tx } = consentForm(consent, consentUrl);
  const decision = await leg('decision', action, 302, { tx, user, decision: 'allow' });
  const callback = await leg('callback', decision.location!, 302);
  const home = await leg('home', callback.location!, 200);
  const total = performance.now() - t0;
  if (!home.body.includes('Signed in as')) throw new Error(`GET /: not signed in: ${home.body.slice(0, 200)}`);
  return { ...legs, total };
}

/** The sandbox tenant and the app, both in this process, on 127.0.0.1 with ephemeral ports. */
export interface Stack {
  sandbox: Sandbox;
  app: App;
  close(): Promise<void>;
}

export async function startStack(sessionLimits?: Partial<SessionLimits>): Promise<Stack> {
  const sandbox = await startSandbox();
  const app = await createApp({
    tenantUrl: sandbox.url,
    clientId: SANDBOX_CLIENT_ID,
    clientSecret: SANDBOX_CLIENT_SECRET,
    host: '127.0.0.1',
    port: 0,
    log: () => {},
    ...(sessionLimits ? { sessionLimits } : {}),
  });
  sandbox.addRedirectUri(SANDBOX_CLIENT_ID, app.redirectUri);
  return {
    sandbox,
    app,
    close: async () => {
      await app.close();
      await sandbox.close();
    },
  };
}
