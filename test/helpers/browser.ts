// A scripted browser for the end-to-end tests, and the stack it talks to (sandbox tenant + app).
//
// The browser is fetch with `redirect: 'manual'`, a cookie jar, and 302s followed by hand, so a test
// sees every hop. It does what a real browser does that matters here (cookies per host, Origin on
// form posts) and no more: it does not model SameSite or run pages. test/browser/ has the real one.

import { createApp, type App, type AppOptions } from '../../src/app/index.ts';
import { startSandbox, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';

/** One response, read in full. */
export interface Page {
  url: string;
  method: string;
  status: number;
  headers: Headers;
  body: string;
  /** The Location of a redirect, resolved against the request URL. */
  location: string | undefined;
}

interface StoredCookie {
  value: string;
  secure: boolean;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'HEAD';
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Extra headers. A form post gets `Origin: <the target's origin>` unless `origin` says otherwise. */
  headers?: Record<string, string>;
  /** The Origin header of a POST: a string, or null for none. Default: the target's own origin. */
  origin?: string | null;
}

export class Browser {
  /** Every response this browser received, in order: tests scan them for secrets. */
  readonly pages: Page[] = [];
  /** Cookies by host name. RFC 6265 §8.5: cookies are not isolated by port, so neither are these. */
  readonly #jar = new Map<string, Map<string, StoredCookie>>();

  async request(url: string, options: RequestOptions = {}): Promise<Page> {
    const target = new URL(url);
    const method = options.method ?? (options.form ? 'POST' : 'GET');
    const headers: Record<string, string> = { ...options.headers };
    const cookie = this.#cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    if (method === 'POST') {
      const origin = options.origin === undefined ? target.origin : options.origin;
      if (origin !== null) headers.origin = origin;
    }
    let body: string | undefined;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    const response = await fetch(target, { method, headers, body, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.#storeCookie(target, line);
    const location = response.headers.get('location');
    const page: Page = {
      url: target.href,
      method,
      status: response.status,
      headers: response.headers,
      body: await response.text(),
      location: location === null ? undefined : new URL(location, target).href,
    };
    this.pages.push(page);
    return page;
  }

  get(url: string): Promise<Page> {
    return this.request(url);
  }

  /** GETs the URL and follows redirects by hand. Returns every hop; the last one is not a redirect. */
  async follow(url: string, maxHops = 10): Promise<Page[]> {
    const hops: Page[] = [];
    let next: string | undefined = url;
    while (next !== undefined) {
      if (hops.length >= maxHops) throw new Error(`More than ${maxHops} redirects from ${url}`);
      const page: Page = await this.get(next);
      hops.push(page);
      next = page.status >= 300 && page.status < 400 ? page.location : undefined;
    }
    return hops;
  }

  /** The sandbox consent page's form: where it posts and its hidden transaction id. */
  consentForm(page: Page): { action: string; tx: string } {
    const forms = page.body.match(/<form\b[^>]*>/g) ?? [];
    if (forms.length !== 1) throw new Error(`Expected one form on ${page.url}, found ${forms.length}: ${page.body.slice(0, 300)}`);
    const action = /action="([^"]*)"/.exec(forms[0]!)?.[1];
    const tx = /<input[^>]*name="tx"[^>]*value="([^"]*)"/.exec(page.body)?.[1];
    if (action === undefined || tx === undefined) throw new Error(`No action or tx in the consent form on ${page.url}`);
    return { action: new URL(unescapeHtml(action), page.url).href, tx: unescapeHtml(tx) };
  }

  /** Answers the consent page. Returns the tenant's redirect (its location is the app's callback). */
  async consent(page: Page, answer: { user?: string; decision: 'allow' | 'deny' }): Promise<Page> {
    const { action, tx } = this.consentForm(page);
    return this.request(action, { form: { tx, user: answer.user ?? 'ada', decision: answer.decision } });
  }

  /** The value of a cookie this browser would send to the URL. */
  cookie(url: string, name: string): string | undefined {
    return this.#jar.get(new URL(url).hostname)?.get(name)?.value;
  }

  #cookieHeader(url: URL): string {
    const cookies = this.#jar.get(url.hostname) ?? new Map<string, StoredCookie>();
    const secureOk = url.protocol === 'https:' || url.hostname === 'localhost' || url.hostname === '127.0.0.1';
    return [...cookies]
      .filter(([, cookie]) => !cookie.secure || secureOk)
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');
  }

  #storeCookie(url: URL, line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const lower = attributes.map((a) => a.toLowerCase());
    const jar = this.#jar.get(url.hostname) ?? new Map<string, StoredCookie>();
    this.#jar.set(url.hostname, jar);
    if (lower.includes('max-age=0')) jar.delete(name);
    else jar.set(name, { value, secure: lower.includes('secure') });
  }
}

function unescapeHtml(text: string): string {
  return text.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

/** The pages of one sign-in, hop by hop. */
/** Browsers a test file makes, remembered so that its last check can look at every page they saw. */
export function browserPool(): { browsers: Browser[]; newBrowser: () => Browser } {
  const browsers: Browser[] = [];
  return {
    browsers,
    newBrowser: () => {
      const browser = new Browser();
      browsers.push(browser);
      return browser;
    },
  };
}

export interface SignIn {
  /** From GET /login to the consent page. */
  toConsent: Page[];
  consentPage: Page;
  /** The tenant's 302 after Allow or Deny; its location is the app's callback URL. */
  decision: Page;
  /** From the callback to the final page. */
  afterCallback: Page[];
  final: Page;
}

/** Starts the sign-in: /login → the tenant's consent page. */
export async function startSignIn(browser: Browser, app: App): Promise<Page> {
  const hops = await browser.follow(`${app.url}/login`);
  const consentPage = hops.at(-1)!;
  if (consentPage.status !== 200) throw new Error(`Expected the consent page, got ${consentPage.status} ${consentPage.url}: ${consentPage.body.slice(0, 300)}`);
  return consentPage;
}

/** A sign-in up to the tenant's answer: the callback URL it sends the browser to (not opened yet). */
export async function consentCallback(browser: Browser, app: App, user = 'ada', decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  const answer = await browser.consent(await startSignIn(browser, app), { user, decision });
  if (answer.status !== 302 || answer.location === undefined) {
    throw new Error(`The consent answer was ${answer.status}, not a redirect: ${answer.body.slice(0, 300)}`);
  }
  return new URL(answer.location);
}

/** A whole sign-in: /login, consent as `user`, the callback, and whatever follows. */
export async function signIn(browser: Browser, app: App, user = 'ada', decision: 'allow' | 'deny' = 'allow'): Promise<SignIn> {
  const toConsent = await browser.follow(`${app.url}/login`);
  const consentPage = toConsent.at(-1)!;
  const answer = await browser.consent(consentPage, { user, decision });
  if (answer.status !== 302 || answer.location === undefined) {
    throw new Error(`The consent answer was ${answer.status}, not a redirect: ${answer.body.slice(0, 300)}`);
  }
  const afterCallback = await browser.follow(answer.location);
  return { toConsent, consentPage, decision: answer, afterCallback, final: afterCallback.at(-1)! };
}

/** The sandbox tenant and the app, both on 127.0.0.1 with ephemeral ports. */
export interface Stack {
  sandbox: Sandbox;
  app: App;
  /** The app's log lines. */
  logs: string[];
  close(): Promise<void>;
}

export async function startStack(
  options: { sandbox?: SandboxOptions; app?: Partial<AppOptions> } = {},
): Promise<Stack> {
  const sandbox = await startSandbox(options.sandbox);
  const logs: string[] = [];
  // A start that fails (a fault at discovery, say) must not leave the sandbox running: the test
  // process would never exit.
  const app = await createApp({
    tenantUrl: sandbox.url,
    clientId: SANDBOX_CLIENT_ID,
    clientSecret: SANDBOX_CLIENT_SECRET,
    host: '127.0.0.1',
    port: 0,
    log: (line) => logs.push(line),
    ...options.app,
  }).catch(async (error: unknown) => {
    await sandbox.close();
    throw error;
  });
  sandbox.addRedirectUri(SANDBOX_CLIENT_ID, app.redirectUri);
  return {
    sandbox,
    app,
    logs,
    close: async () => {
      await app.close();
      await sandbox.close();
    },
  };
}

/**
 * Watches the wire for secrets: every value the app sends or receives at the tenant that must never
 * reach a browser (code verifier, client secret, access and refresh tokens). Wraps global fetch,
 * which the app (src/http.ts) and the scripted browser share in the test process.
 */
export function watchSecrets(): { secrets: Set<string>; stop(): void } {
  const secrets = new Set<string>();
  const original = globalThis.fetch;
  const keep = (value: unknown) => {
    if (typeof value === 'string' && value.length >= 8) secrets.add(value);
  };
  globalThis.fetch = async (input, init) => {
    if (typeof init?.body === 'string') {
      const form = new URLSearchParams(init.body);
      for (const name of ['code_verifier', 'client_secret', 'refresh_token', 'token']) keep(form.get(name));
    }
    const authorization = new Headers(init?.headers).get('authorization');
    if (authorization?.startsWith('Bearer ')) keep(authorization.slice(7));
    const response = await original(input, init);
    if (String(input).endsWith('/oauth/token') && response.status === 200) {
      const body = (await response.clone().json()) as Record<string, unknown>;
      keep(body.access_token);
      keep(body.refresh_token);
    }
    return response;
  };
  return {
    secrets,
    stop: () => {
      globalThis.fetch = original;
    },
  };
}

/** Every place a secret could leak to the browser or the log: bodies, headers (Location, Set-Cookie). */
export function findLeaks(secrets: Set<string>, pages: readonly Page[], logs: readonly string[] = []): string[] {
  const leaks: string[] = [];
  for (const page of pages) {
    const text = page.body + '\n' + [...page.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
    for (const secret of secrets) {
      if (text.includes(secret)) leaks.push(`${page.method} ${page.url} (${page.status}) contains ${secret.slice(0, 6)}…`);
    }
  }
  for (const line of logs) {
    for (const secret of secrets) if (line.includes(secret)) leaks.push(`log line contains ${secret.slice(0, 6)}…`);
  }
  return leaks;
}
