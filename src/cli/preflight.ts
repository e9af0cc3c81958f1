// `npm run check`: a preflight of the settings `npm start` would use, against the tenant itself,
// before anyone signs in. One line per check: "ok", "FAIL", "warn" or "skip", then what was seen
// and what to do. Only the client's own steps are used, so what passes here passes at sign-in.
//
// What it asks the tenant: both well-known paths (GET), the authorization endpoint (GET, never
// followed), and the token and revocation endpoints (a client_credentials request; made-up tokens
// to revoke). It never prints the client secret, the state or a token — the tenant's text is
// scrubbed of them before anything cuts it — and revokes any token it gets.

import { randomBytes } from 'node:crypto';
import { metadataUrls, processDiscoveryResponse, whyNotMetadata, type TenantMetadata } from '../3.1-discovery.ts';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from '../3.2-authorize.ts';
import type { TokenSet } from '../3.3-token.ts';
import { revokeToken } from '../lifecycle.ts';
import { clientCredentialsToken } from '../machine.ts';
import type { ClientConfig, ClientCredentials } from '../client.ts';
import { QlikOAuthError, clip, quote } from '../errors.ts';
import { httpRequest, isLoopbackHost, parseJsonObject, type HttpExchange, type HttpOptions, type HttpResult } from '../http.ts';
import { parseErrorBody } from '../tenant-error.ts';
import { SecretMemory, escapeControl } from '../redact.ts';
import { CALLBACK_PATH, readConfig } from '../app/config.ts';
import { ConfigError, readClient, readSandboxSettings, readScope, readTenantUrl, type Env } from '../settings.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, startSandbox, type Sandbox } from '../sandbox/index.ts';

export interface CheckLine {
  status: 'ok' | 'FAIL' | 'warn' | 'skip';
  /** Which check: "tenant URL", "discovery", "issuer", … */
  name: string;
  text: string;
}

export interface PreflightOptions {
  /** The fetch for every call to the tenant (a test's recorder, a proxy). Default: the global one. */
  fetch?: typeof fetch;
  /** Given each line as soon as it is known, already formatted and redacted. */
  onLine?: (line: string) => void;
}

export interface PreflightResult {
  lines: CheckLine[];
  /** 0: nothing failed; 1: a check failed; 2: the settings cannot be used (nothing was asked). */
  exitCode: 0 | 1 | 2;
}

/** Clock skew beyond which the check warns, and fails. */
const CLOCK_WARN_MS = 30_000;
const CLOCK_FAIL_MS = 5 * 60_000;

/** Qlik: scope names are letters, digits and _ . - : (e.g. user_default, admin.apps:export). */
const QLIK_SCOPE_NAME = /^[A-Za-z0-9_.:-]+$/;

const WHERE_CLIENTS_ARE = 'Administration activity center → OAuth (older docs: Management Console → OAuth)';

/** The lines so far, and the values no line may show. */
class Report {
  readonly lines: CheckLine[] = [];
  /**
   * The secret, the state, a token: never printed, wherever a tenant's text echoes them. Tenant text
   * is scrubbed before anything cuts it: a secret straddling the cut would survive in part.
   */
  readonly secrets = new SecretMemory();
  readonly #onLine: ((line: string) => void) | undefined;
  constructor(onLine: ((line: string) => void) | undefined) {
    this.#onLine = onLine;
  }
  add(status: CheckLine['status'], name: string, text: string): void {
    // Scrubbed once more whole, and escaped: nothing a tenant sent can drive the terminal.
    const line = { status, name, text: escapeControl(this.secrets.scrub(text)) };
    this.lines.push(line);
    this.#onLine?.(formatLine(line));
  }
  failed(): boolean {
    return this.lines.some((line) => line.status === 'FAIL');
  }
}

/** "ok   name: text" — the status padded so the names line up. */
export function formatLine(line: CheckLine): string {
  return `${line.status.padEnd(4)} ${line.name}: ${line.text}`;
}

/** With no tenant configured, checks a sandbox tenant started for the occasion (SANDBOX_* settings apply to it). */
export async function preflight(env: Env, options: PreflightOptions = {}): Promise<PreflightResult> {
  const report = new Report(options.onLine);
  const sandboxOptions = readSetting(report, 'settings', () => {
    const sandboxSettings = readSandboxSettings(env);
    // Credentials without a tenant: the same refusal as `npm start` (the other settings get their own lines).
    if (sandboxSettings !== undefined) readClient(env, true);
    return sandboxSettings;
  });
  if (report.failed()) return { lines: report.lines, exitCode: 2 };
  const sandbox = sandboxOptions === undefined ? undefined : await startSandbox(sandboxOptions);
  try {
    return await check(report, env, sandbox, options);
  } finally {
    await sandbox?.close();
  }
}

/** The value `read` gives, or undefined with a FAIL line named `name` when it throws a ConfigError. */
function readSetting<T>(report: Report, name: string, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    report.add('FAIL', name, `${error.message} Fix: ${error.hint}`);
    return undefined;
  }
}

async function check(report: Report, env: Env, sandbox: Sandbox | undefined, options: PreflightOptions): Promise<PreflightResult> {
  // --- the settings themselves, before any network call
  const issuer = readSetting(report, 'tenant URL', () => checkTenantUrl(report, sandbox?.url ?? readTenantUrl(env)!, sandbox !== undefined));
  const client = readSetting(report, 'client', () => checkClient(report, env, sandbox !== undefined));
  const redirectUri = readSetting(report, 'redirect URI', () => checkRedirectUri(report, env, client?.clientId ?? '(your client)', sandbox));
  const scope = readSetting(report, 'scope', () => checkScope(report, env));
  if (report.failed() || issuer === undefined || client === undefined || scope === undefined) {
    for (const name of ['discovery', 'issuer', 'clock', 'authorize', 'credentials']) report.add('skip', name, 'the settings above must be fixed first; nothing was sent to the tenant');
    return { lines: report.lines, exitCode: 2 };
  }
  const http: HttpOptions = options.fetch ? { fetch: options.fetch } : {};

  // --- the tenant
  // RFC 8414 §3: asks BOTH well-known paths; the client asks the second only when the first is not metadata.
  const [documented, tutorial] = metadataUrls(issuer);
  const answers = [await get(documented, issuer, http), await get(tutorial, issuer, http)] as const;
  const metadata = checkDiscovery(report, issuer, answers);
  checkClock(report, answers);
  if (metadata === undefined) {
    for (const name of ['authorize', 'credentials']) report.add('skip', name, "needs the tenant's metadata (see above)");
  } else {
    if (redirectUri === undefined) report.add('skip', 'authorize', 'needs the redirect URI (see above)');
    else await checkAuthorize(report, metadata, { ...client, redirectUri }, scope, http);
    await checkCredentials(report, metadata, client, http);
  }
  return { lines: report.lines, exitCode: report.failed() ? 1 : 0 };
}

// ------------------------------------------------------------------ settings

/** The configured URL, already read as an issuer (RFC 8414 §2, src/settings.ts): is it a Qlik tenant's address? */
function checkTenantUrl(report: Report, issuer: string, isSandbox: boolean): string {
  const url = new URL(issuer);
  if (isSandbox) {
    report.add('ok', 'tenant URL', `${issuer} — the built-in sandbox tenant, started for this check (no QLIK_TENANT_URL set)`);
  } else if (url.pathname !== '/') {
    // Qlik: the issuer is the tenant's bare address; a path is a page's address pasted by mistake.
    report.add('warn', 'tenant URL', `${issuer} has a path (${clip(url.pathname, 60)}); a Qlik tenant's address has none, e.g. https://acme.eu.qlikcloud.com. Discovery below says whether the tenant agrees.`);
  } else if (!/\.qlikcloud(gov)?\.com$/i.test(url.hostname) && !isLoopbackHost(url.hostname)) {
    report.add('warn', 'tenant URL', `${issuer} is not a *.qlikcloud.com address; fine for a custom domain, else check it. Its metadata must name exactly this issuer.`);
  } else {
    report.add('ok', 'tenant URL', `${issuer} — its metadata must name exactly this issuer`);
  }
  return issuer;
}

function checkClient(report: Report, env: Env, isSandbox: boolean): ClientCredentials {
  const { clientId, clientSecret, assertion } = isSandbox ? { clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, assertion: undefined } : readClient(env, true);
  if (clientSecret !== undefined) report.secrets.remember(clientSecret);
  const proof = assertion ? `private key JWT (QLIK_CLIENT_KEY_ID ${quote(env.QLIK_CLIENT_KEY_ID)}; no secret is sent)` : `client secret set (${clientSecret!.length} characters, never printed)`;
  report.add('ok', 'client', `client ID ${quote(clientId)}${isSandbox ? " (the sandbox's web client)" : ''}; ${proof}`);
  return { clientId: clientId!, clientSecret, assertion };
}

/** RFC 6749 §3.1.2: the redirect URI must match a registered one exactly, so the check prints it. */
function checkRedirectUri(report: Report, env: Env, clientId: string, sandbox: Sandbox | undefined): string | undefined {
  const config = readConfig({ PORT: env.PORT, APP_URL: env.APP_URL });
  if (config.appUrl === undefined && config.port === 0) {
    report.add('warn', 'redirect URI', 'PORT=0 picks a free port at start, so the redirect URI is not known in advance. Set APP_URL (and PORT) to a fixed address for a real tenant.');
    return undefined;
  }
  const redirectUri = `${config.appUrl ?? `http://localhost:${config.port}`}${CALLBACK_PATH}`;
  if (sandbox) {
    sandbox.addRedirectUri(SANDBOX_CLIENT_ID, redirectUri);
    report.add('ok', 'redirect URI', `${redirectUri} (APP_URL + ${CALLBACK_PATH}), registered with the sandbox for this check`);
  } else {
    report.add('ok', 'redirect URI', `register exactly ${redirectUri} (APP_URL + ${CALLBACK_PATH}) for client ${quote(clientId)} in ${WHERE_CLIENTS_ARE}`);
  }
  return redirectUri;
}

/** QLIK_SCOPE as src/settings.ts reads it (RFC 6749 §3.3 syntax, no openid, never empty), then Qlik's name characters and offline_access. */
function checkScope(report: Report, env: Env): string {
  const scope = readScope(env);
  const odd = scope.split(' ').filter((token) => !QLIK_SCOPE_NAME.test(token));
  if (odd.length > 0) {
    report.add('warn', 'scope', `${quote(scope)}: ${odd.map((token) => quote(token)).join(', ')} has characters Qlik scope names do not use (they are letters, digits, _ . - :). Separate scopes with single spaces, e.g. "user_default offline_access".`);
  } else if (!scope.split(' ').includes('offline_access')) {
    report.add('warn', 'scope', `${quote(scope)} has no offline_access: no refresh token, so users sign in again when the access token ends (6 h at Qlik).`);
  } else {
    report.add('ok', 'scope', `${quote(scope)}${env.QLIK_SCOPE === undefined ? ' (the default)' : ''}: valid syntax, no openid, offline_access for a refresh token`);
  }
  return scope;
}

// ------------------------------------------------------------------ the tenant

interface Answer {
  url: string;
  /** The response, when one came that was not a redirect. */
  result: HttpResult | undefined;
  /** The exchange as sent and received: status and headers, also for a redirect. */
  exchange: HttpExchange | undefined;
  receivedAt: number;
  /** Why this is not metadata, or undefined when it is. */
  notMetadata: string | undefined;
}

/** One GET, with the redirect (never followed) and failures described instead of thrown. */
async function get(url: string, issuer: string, http: HttpOptions, headers?: Record<string, string>): Promise<Answer> {
  const seen = recording(http);
  try {
    const result = await httpRequest({ method: 'GET', url, issuer, ...(headers ? { headers } : {}) }, seen.http);
    return { url, result, exchange: seen.last(), receivedAt: Date.now(), notMetadata: whyNotMetadata(result) };
  } catch (error) {
    if (!(error instanceof QlikOAuthError)) throw error;
    const exchange = seen.last();
    const location = exchange?.result?.headers.get('location') ?? undefined;
    const why =
      error.code === 'REDIRECT_REFUSED' && exchange?.result !== undefined
        ? `HTTP ${exchange.result.status} redirect to ${clip(location === undefined ? '(no location)' : new URL(location, url).href, 120)}`
        : `${error.code}: ${error.message.replace(/\.$/, '')}`;
    return { url, result: undefined, exchange, receivedAt: Date.now(), notMetadata: why };
  }
}

/** Says what each path answered, then checks the document the client would use, as the client would. */
function checkDiscovery(report: Report, issuer: string, answers: readonly [Answer, Answer]): TenantMetadata | undefined {
  const labels = ["RFC 8414, Qlik's documented path", "the tutorial's path"];
  const said = (answer: Answer, index: number) =>
    `${answer.url} (${labels[index]}) → ${answer.notMetadata === undefined ? 'metadata' : answer.notMetadata}`;
  const chosenIndex = answers.findIndex((answer) => answer.notMetadata === undefined);

  if (chosenIndex === -1) {
    // RFC 8414 §3.2: neither place answered with metadata (the client's DISCOVERY_FAILED).
    report.add('FAIL', 'discovery', `neither well-known path gave metadata: ${answers.map(said).join('; ')}. Check QLIK_TENANT_URL: it is the tenant's own address, e.g. https://acme.eu.qlikcloud.com (DISCOVERY_FAILED).`);
    report.add('skip', 'issuer', 'no metadata to read it from');
    return undefined;
  }
  const chosen = answers[chosenIndex]!;
  const other = answers[1 - chosenIndex]!;
  const otherText = other.notMetadata === undefined ? `${other.url} (${labels[1 - chosenIndex]}) → metadata too` : said(other, 1 - chosenIndex);
  report.add(
    'ok',
    'discovery',
    `metadata at ${chosen.url} (${labels[chosenIndex]}${chosenIndex === 1 ? ', which the client falls back to' : ''}); ${otherText}`,
  );

  try {
    const metadata = processDiscoveryResponse(chosen.result!, issuer);
    const revoke = metadata.revocationEndpoint ?? `not listed (${issuer}/oauth/revoke is used)`;
    report.add('ok', 'issuer', `the metadata names ${quote(issuer)}, the tenant URL exactly; endpoints: authorize ${metadata.authorizationEndpoint}, token ${metadata.tokenEndpoint}, revoke ${revoke}`);
    return metadata;
  } catch (error) {
    if (!(error instanceof QlikOAuthError)) throw error;
    if (error.code === 'ISSUER_MISMATCH') {
      const named = quote(parseJsonObject(chosen.result!, 'metadata').issuer);
      report.add('FAIL', 'issuer', `the metadata names issuer ${named}, but QLIK_TENANT_URL gives ${quote(issuer)}; they must be equal to the letter (RFC 8414 §3.3, ISSUER_MISMATCH). If ${named} is your tenant's address, set QLIK_TENANT_URL to it; else this is not your tenant's metadata.`);
    } else {
      report.add('FAIL', 'issuer', `the issuer matches, but the metadata fails a check: ${error.message} ${error.hint} (${error.code})`);
    }
    return undefined;
  }
}

/**
 * RFC 9110 §6.6.1: the Date header is the tenant's clock. Qlik's expires_at is read against it, so
 * skew does not break tokens here; but a clock minutes off breaks TLS certificate checks and makes
 * this machine's log times useless to Qlik support.
 */
function checkClock(report: Report, answers: readonly Answer[]): void {
  const dated = answers.find((answer) => answer.exchange?.result?.headers.has('date'));
  if (dated === undefined) {
    report.add('skip', 'clock', 'the tenant sent no Date header, so its clock cannot be compared');
    return;
  }
  const date = dated.exchange!.result!.headers.get('date')!;
  const offset = Date.parse(date) - dated.receivedAt;
  const seconds = Math.round(Math.abs(offset) / 1000);
  const size = seconds >= 120 ? `${seconds} s (${(seconds / 60).toFixed(1)} min)` : `${seconds} s`;
  const side = offset > 0 ? 'ahead of' : 'behind';
  // The Date header has whole seconds, and the answer took a while to come: 2 s is no skew.
  if (Math.abs(offset) <= 2_000) {
    report.add('ok', 'clock', `the tenant's clock (its Date header, ${date}) and this machine's agree to within 2 s`);
  } else if (Math.abs(offset) <= CLOCK_WARN_MS) {
    report.add('ok', 'clock', `the tenant's clock is ${size} ${side} this machine's (its Date header); under ${CLOCK_WARN_MS / 1000} s is fine`);
  } else if (Math.abs(offset) <= CLOCK_FAIL_MS) {
    report.add('warn', 'clock', `the tenant's clock is ${size} ${side} this machine's (its Date header, ${date}); over ${CLOCK_WARN_MS / 1000} s. Tokens still work (expiry is read against the tenant's clock), but set this machine's clock right (NTP).`);
  } else {
    report.add('FAIL', 'clock', `the tenant's clock is ${size} ${side} this machine's (its Date header, ${date}); over ${CLOCK_FAIL_MS / 60_000} min. This machine's clock is wrong: TLS certificate checks and the times you give Qlik support depend on it. Set it right (e.g. turn on NTP).`);
  }
}

/**
 * RFC 6749 §4.1.1, §4.1.2.1; Qlik answers a client ID or redirect URI it does not know with a 400
 * OAUTH-1 page, not a redirect. One GET of the authorization URL the app would build, not followed.
 */
async function checkAuthorize(report: Report, metadata: TenantMetadata, client: ClientConfig, scope: string, http: HttpOptions): Promise<void> {
  const state = createState();
  report.secrets.remember(state);
  const url = buildAuthorizationUrl(metadata, client, { scope, state, codeChallenge: codeChallengeS256(createCodeVerifier()) });
  const answer = await get(url.href, metadata.issuer, http, { accept: 'text/html' });
  const status = answer.exchange?.result?.status;
  const location = answer.exchange?.result?.headers.get('location') ?? undefined;
  if (status !== undefined && status >= 300 && status < 400 && location !== undefined) {
    const target = new URL(location, url);
    if (target.origin + target.pathname !== client.redirectUri) {
      report.add('ok', 'authorize', `no OAUTH-1 error: the tenant sends the browser on to ${clip(report.secrets.scrub(target.origin + target.pathname), 100)} (its sign-in) — it did not refuse the client ID or redirect URI up front, which is all this can show before someone signs in`);
      return;
    }
    // RFC 6749 §4.1.2.1: the tenant redirects back only to a registered redirect URI; an error then
    // is about the request itself (scope, client type), not the URI.
    const error = target.searchParams.get('error');
    if (error === null) {
      report.add('ok', 'authorize', 'the tenant accepted the client ID, redirect URI and scope, and sent a code back at once (not used)');
      return;
    }
    const description = target.searchParams.get('error_description');
    const what = error === 'invalid_scope' ? 'Check QLIK_SCOPE against the scopes the OAuth client allows.' : `Check the OAuth client's settings in ${WHERE_CLIENTS_ARE}.`;
    report.add('FAIL', 'authorize', `the redirect URI is registered, but the tenant refused the request: error=${clip(report.secrets.scrub(error), 60)}${description ? ` (${clip(report.secrets.scrub(description), 200)})` : ''}. ${what}`);
    return;
  }
  if (answer.result === undefined || status === undefined || status >= 500 || status === 429) {
    report.add('warn', 'authorize', `could not tell whether the client ID and redirect URI are registered: ${answer.notMetadata ?? `HTTP ${status}`}`);
    return;
  }
  if (status >= 400) {
    report.add('FAIL', 'authorize', `the tenant refused the authorization request: ${tenantSaid(report, answer.exchange).text}. OAUTH-1 means the client ID or the redirect URI is not registered: register exactly ${client.redirectUri} for client ${quote(client.clientId)}, and check QLIK_CLIENT_ID.`);
    return;
  }
  report.add('ok', 'authorize', `no OAUTH-1 error: the tenant answered HTTP ${status} with a page (its sign-in or consent page) for this client ID and redirect URI`);
}

interface TenantSaid {
  /** Undefined: no answer came (the text then is the failure's code). */
  status: number | undefined;
  /** OAuth's `error` or Qlik's `errors[0].code`. */
  code: string | undefined;
  text: string;
}

/**
 * What the tenant said, from its body as it came (scrubbed first): text like
 * "HTTP 401 OAUTH-5 "Unauthorized", traceId …". Without the traceId, two answers compare.
 */
function tenantSaid(report: Report, exchange: HttpExchange | undefined, withTraceId = true): TenantSaid {
  const result = exchange?.result;
  if (result === undefined) return { status: exchange?.status, code: undefined, text: `${exchange?.status ? `HTTP ${exchange.status}, ` : ''}${exchange?.error?.code ?? 'no answer'}` };
  const said = parseErrorBody({ ...result, body: report.secrets.scrub(result.body) });
  const parts = [`HTTP ${result.status}`];
  if (said?.code) parts.push(said.code);
  if (said?.message) parts.push(quote(said.message));
  const text = parts.join(' ') + (withTraceId && said?.traceId ? `, traceId ${said.traceId}` : '');
  return { status: result.status, code: said?.code, text };
}

/** HttpOptions that keep the last exchange: the tenant's answer as it came, before any message was made of it. */
function recording(http: HttpOptions): { http: HttpOptions; last: () => HttpExchange | undefined } {
  let last: HttpExchange | undefined;
  return { http: { ...http, onExchange: (exchange) => (last = exchange) }, last: () => last };
}

/**
 * Are the client ID and secret right? A client_credentials request (RFC 6749 §4.4) is the one the
 * token endpoint can answer without a user. Its answer settles it only sometimes:
 * - 200: yes (and the client may do machine-to-machine); the token is revoked at once.
 * - unauthorized_client / unsupported_grant_type (RFC 6749 §5.2): yes — authenticated, but no M2M.
 * - invalid_client: no (or the client cannot authenticate this way).
 * - Qlik's 401 OAUTH-5 "Unauthorized": either. Then the revocation endpoint is asked to revoke a
 *   made-up token (RFC 7009 §2.2: answered 200), with the configured secret and with a deliberately
 *   wrong one. Only "the configured one taken, the wrong one refused" proves anything: Qlik
 *   documents revocation without client credentials, so answers alike (200s or refusals) may just
 *   mean it does not look at them — "could not tell", never FAIL.
 * Each line leads with its verdict; what was seen follows.
 */
async function checkCredentials(report: Report, metadata: TenantMetadata, client: ClientCredentials, http: HttpOptions): Promise<void> {
  const seen = recording(http);
  let tokens: TokenSet;
  try {
    tokens = await clientCredentialsToken(metadata, client, {}, seen.http);
  } catch (error) {
    if (!(error instanceof QlikOAuthError)) throw error;
    await afterRefusal(report, metadata, client, http, error, seen.last());
    return;
  }
  report.secrets.remember(tokens.accessToken);
  let revoked = 'the token it gave was revoked at once';
  try {
    await revokeToken(metadata, client, { token: tokens.accessToken, hint: 'access_token' }, http);
  } catch (error) {
    if (!(error instanceof QlikOAuthError)) throw error;
    const minutes = tokens.lifetimeMs === undefined ? undefined : Math.ceil(tokens.lifetimeMs / 60_000);
    revoked = `revoking the token it gave failed (${error.code}), so it lives on${minutes === undefined ? '' : ` for up to ${minutes} min`}`;
  }
  report.add('ok', 'credentials', `accepted: a client_credentials request got an access token, so this client may also do machine-to-machine; ${revoked}`);
}

async function afterRefusal(report: Report, metadata: TenantMetadata, client: ClientCredentials, http: HttpOptions, error: QlikOAuthError, answer: HttpExchange | undefined): Promise<void> {
  const { status, code, text } = tenantSaid(report, answer);
  const said = status === undefined ? `${error.code}: ${error.message}` : text;
  if (status === 429) {
    const wait = (error as { retryAfter?: number }).retryAfter;
    report.add('warn', 'credentials', `not checked: the token endpoint is rate limited (${said}); Qlik asks to wait ${wait} s. Run the check again after that.`);
    return;
  }
  // RFC 6749 §5.2: unauthorized_client = "the authenticated client is not authorized to use this grant".
  if (code === 'unauthorized_client' || code === 'unsupported_grant_type') {
    report.add('ok', 'credentials', `accepted, without machine-to-machine (sign-in does not need it): client_credentials was refused with ${said}, which the tenant says only after the client authenticated`);
    return;
  }
  // RFC 6749 §5.2 invalid_client: "client authentication failed".
  if (code === 'invalid_client') {
    report.add('FAIL', 'credentials', `refused: the client ID or secret is wrong, or this client cannot authenticate with a secret (a public client; a Web client set to private key JWT only). Check, in order: QLIK_CLIENT_SECRET, QLIK_CLIENT_ID, the client's type (Web) in ${WHERE_CLIENTS_ARE}. The token endpoint answered client_credentials with ${said}.`);
    return;
  }
  const first = `client_credentials answered ${said}, which proves nothing by itself (Qlik answers "Unauthorized" alike to a wrong ID or secret and to a client without machine-to-machine)`;
  if (client.assertion) {
    report.add('warn', 'credentials', `could not tell — sign in with npm start to find out: ${first}; with a private key there is no wrong secret to compare it with.`);
    return;
  }
  const wrong = `deliberately-wrong-${randomBytes(12).toString('hex')}`;
  report.secrets.remember(wrong);
  const ours = await revokeProbe(report, metadata, client, http);
  const control = await revokeProbe(report, metadata, { ...client, clientSecret: wrong }, http);
  if (ours.status === 200 && control.status !== undefined && control.status !== 200 && control.status !== 429) {
    report.add('ok', 'credentials', `accepted: the revocation endpoint took the configured ID and secret and refused a deliberately wrong secret (${control.text}); ${first}`);
  } else {
    report.add('warn', 'credentials', `could not tell — sign in with npm start to find out: the revocation endpoint answered ${ours.text} to the configured secret and ${control.text} to a deliberately wrong one, so it does not tell them apart; ${first}`);
  }
}

/** RFC 7009 §2.1: asks to revoke a made-up token with these credentials, as sign-out would; what the tenant answered, without its traceId. */
async function revokeProbe(report: Report, metadata: TenantMetadata, client: ClientCredentials, http: HttpOptions): Promise<TenantSaid> {
  const seen = recording(http);
  try {
    await revokeToken(metadata, client, { token: `not-a-token-${randomBytes(16).toString('hex')}`, hint: 'access_token' }, seen.http);
  } catch (error) {
    if (!(error instanceof QlikOAuthError)) throw error;
  }
  return tenantSaid(report, seen.last(), false);
}
