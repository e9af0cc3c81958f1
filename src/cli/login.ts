// `npm run login`: sign a user in from the command line over a loopback redirect (RFC 8252 §7.3,
// src/native-login.ts), then print their /api/v1/users/me JSON as the last line of stdout. USAGE
// lists the arguments and settings. With --save FILE, a later run refreshes from the saved tokens
// instead of opening the browser while the refresh token works.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { QlikOAuthError } from '../errors.ts';
import { discover, type TenantMetadata } from '../3.1-discovery.ts';
import type { TokenSet } from '../3.3-token.ts';
import { getCurrentUser } from '../3.4-api.ts';
import { refreshTokens, revokeToken } from '../lifecycle.ts';
import type { ClientCredentials } from '../client.ts';
import { DEFAULT_LOGIN_TIMEOUT_MS, loopbackRedirectUri, startLoopbackSignIn } from '../native-login.ts';
import { escapeControl } from '../redact.ts';
import { SANDBOX_NATIVE_CLIENT_ID, type Sandbox } from '../sandbox/index.ts';
import { ConfigError, readClient, readScope, readTenantUrl, setting } from '../settings.ts';
import { runCommand, startLocalTenant } from './shared.ts';

const USAGE = `Usage: npm run login [-- --no-open] [--port N] [--timeout SECONDS] [--save FILE]
  --no-open          print the sign-in URL only; do not start a browser
  --port N           listen for the callback on 127.0.0.1:N (default: a free port)
  --timeout SECONDS  give up when the browser has not come back after this long (default ${DEFAULT_LOGIN_TIMEOUT_MS / 1000})
  --save FILE        keep the tokens in FILE (mode 0600) and, next time, refresh from it without a browser
Settings: QLIK_TENANT_URL, QLIK_CLIENT_ID, QLIK_CLIENT_SECRET (confidential clients only), QLIK_SCOPE, QLIK_REDIRECT_URI.
With no QLIK_TENANT_URL it runs against a local sandbox tenant.`;
const HELP = 'See npm run login -- --help for the usage.';

interface LoginArguments {
  open: boolean;
  port: number | undefined;
  timeoutMs: number;
  saveFile: string | undefined;
}

function parseLoginArguments(argv: string[]): LoginArguments | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { 'no-open': { type: 'boolean' }, port: { type: 'string' }, timeout: { type: 'string' }, save: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new ConfigError((error as Error).message, HELP);
  }
  if (parsed.values.help) return 'help';
  const { port, timeout, save } = parsed.values;
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) <= 65_535)) {
    throw new ConfigError(`--port "${port.slice(0, 20)}" is not a port number from 0 to 65535.`, 'Give a free port, e.g. --port 8765, or leave it out for any free port.');
  }
  if (timeout !== undefined && !(/^\d{1,6}$/.test(timeout) && Number(timeout) > 0)) {
    throw new ConfigError(`--timeout "${timeout.slice(0, 20)}" is not a positive number of seconds.`, 'Give the wait in seconds, e.g. --timeout 120.');
  }
  if (save === '') throw new ConfigError('--save needs a file name.', 'Write --save tokens.json.');
  return {
    open: !parsed.values['no-open'],
    port: port === undefined ? undefined : Number(port),
    timeoutMs: timeout === undefined ? DEFAULT_LOGIN_TIMEOUT_MS : Number(timeout) * 1000,
    saveFile: save,
  };
}

/** What --save keeps. Tokens in a file readable by this user only; never on stdout or stderr. */
interface SavedTokens {
  tenantUrl: string;
  clientId: string;
  accessToken: string;
  refreshToken: string | undefined;
  expiresAt: string | undefined;
  scope: string | undefined;
}

export function saveTokens(file: string, metadata: TenantMetadata, client: ClientCredentials, tokens: TokenSet): void {
  const saved: SavedTokens = {
    tenantUrl: metadata.issuer,
    clientId: client.clientId,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: tokens.expiresAt === undefined ? undefined : new Date(tokens.expiresAt).toISOString(),
    scope: tokens.scope,
  };
  // Written beside the file, then renamed over it: no half-written file if the program is stopped.
  // The temporary name is unpredictable and created only if it does not exist yet ('wx', O_EXCL),
  // mode 0600 from the start: nobody can plant a file or a link there first, or read the tokens.
  const temporary = `${file}.${randomBytes(12).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, file);
  } catch (error) {
    // What is left of ours goes; a file that was there first (EEXIST) is not ours to remove.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(temporary, { force: true });
    throw error;
  }
}

/** Saves the tokens; when they cannot be saved, revokes them (RFC 7009 §2.1), so that none is left anywhere unkept. */
async function saveOrRevoke(file: string, metadata: TenantMetadata, client: ClientCredentials, tokens: TokenSet): Promise<void> {
  try {
    saveTokens(file, metadata, client, tokens);
  } catch (error) {
    let failed = 0;
    // The refresh token first: revoking it may end the grant's access tokens too (RFC 7009 §2.1).
    for (const [token, hint] of [[tokens.refreshToken, 'refresh_token'], [tokens.accessToken, 'access_token']] as const) {
      if (token === undefined) continue;
      await revokeToken(metadata, client, { token, hint }).catch(() => (failed += 1));
    }
    const revoked = failed === 0 ? 'the new tokens were revoked' : 'revoking the new tokens failed, so they work until they expire';
    throw new Error(`Could not save the tokens to ${file} (${(error as Error).message}); ${revoked}. What to do: give --save a file in a directory you can write, and sign in again.`);
  }
}

/**
 * Why a saved file may not be used, or undefined when it may: it must be this user's own (another
 * user's file may hold tokens they planted) and closed to group and others (a file others could
 * read has leaked its tokens). POSIX only: Windows has no uid or mode bits (`uid` undefined).
 */
export function savedFileProblem(stats: { uid: number; mode: number }, uid: number | undefined): string | undefined {
  if (uid !== undefined && stats.uid !== uid) return `it belongs to another user (uid ${stats.uid}; you are ${uid})`;
  if ((stats.mode & 0o077) !== 0) return `group or other users may read or write it (mode ${(stats.mode & 0o777).toString(8)}; expected 600)`;
  return undefined;
}

/**
 * The file --save names, read before anything is sent: undefined when there is none yet; a
 * ConfigError when it is not safe to use. Checked through the one open file that is then read, so
 * what is checked is what is read.
 */
function readSavedFile(file: string): Partial<SavedTokens> | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const problem = savedFileProblem(fstatSync(fd), process.getuid?.());
    if (problem !== undefined) {
      throw new ConfigError(`--save ${file}: not using it, because ${problem}.`, 'If it is yours and nobody else can have read it, run chmod 600 on it; else delete it (and sign out at the tenant), or give --save another file.');
    }
    try {
      return (JSON.parse(readFileSync(fd, 'utf8')) ?? {}) as Partial<SavedTokens>;
    } catch {
      return {};
    }
  } finally {
    closeSync(fd);
  }
}

/** The saved tokens, when they are for this tenant and client and hold a refresh token; otherwise why not. */
function usableTokens(file: string, saved: Partial<SavedTokens>, metadata: TenantMetadata, client: ClientCredentials): TokenSet | string {
  if (saved.tenantUrl !== metadata.issuer || saved.clientId !== client.clientId) return `${file} holds no sign-in for this tenant and client`;
  if (typeof saved.refreshToken !== 'string' || saved.refreshToken === '') return `${file} holds no refresh token`;
  return {
    accessToken: typeof saved.accessToken === 'string' ? saved.accessToken : '',
    tokenType: 'bearer',
    expiresAt: undefined,
    lifetimeMs: undefined,
    refreshToken: saved.refreshToken,
    scope: typeof saved.scope === 'string' ? saved.scope : undefined,
  };
}

/**
 * Starts the system's browser on the URL; "no browser here" is not an error (the URL is printed).
 * Windows: rundll32's URL handler, because `cmd /c start` would read the & in the URL as a command separator.
 */
function openBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]] : ['xdg-open', [url]];
  const failed = () => process.stderr.write('Could not start a browser: open the URL above yourself.\n');
  try {
    spawn(command, args, { stdio: 'ignore', detached: true }).on('error', failed).unref();
  } catch {
    failed();
  }
}

async function signIn(): Promise<unknown> {
  const args = parseLoginArguments(process.argv.slice(2));
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const tenantUrl = readTenantUrl(process.env);
  const settings = readClient(process.env, false);
  const scope = readScope(process.env);
  const redirectUri = setting(process.env, 'QLIK_REDIRECT_URI');
  // A fixed redirect URI decides the port; --port then may only agree with it.
  if (redirectUri !== undefined) {
    const fixed = loopbackRedirectUri(redirectUri);
    if (args.port !== undefined && fixed.port !== 0 && fixed.port !== args.port) {
      throw new ConfigError(`--port ${args.port} disagrees with QLIK_REDIRECT_URI's port ${fixed.port}.`, 'Leave out --port, or change QLIK_REDIRECT_URI.');
    }
  }
  const saved = args.saveFile === undefined ? undefined : readSavedFile(args.saveFile);
  let sandbox: Sandbox | undefined;
  try {
    if (tenantUrl === undefined) sandbox = await startLocalTenant();
    // The sandbox's native client is public: no secret. A configured client has one only when QLIK_CLIENT_SECRET is set.
    const client: ClientCredentials = sandbox === undefined ? { ...settings, clientId: settings.clientId! } : { clientId: SANDBOX_NATIVE_CLIENT_ID };
    const metadata = await discover(tenantUrl ?? sandbox!.url);

    let tokens: TokenSet | undefined;
    if (saved !== undefined) tokens = await refreshFromFile(args.saveFile!, usableTokens(args.saveFile!, saved, metadata, client), metadata, client);
    if (tokens === undefined) tokens = await signInWithBrowser(metadata, client, scope, args, redirectUri);

    const user = await getCurrentUser(metadata, tokens.accessToken);
    if (args.saveFile !== undefined) {
      await saveOrRevoke(args.saveFile, metadata, client, tokens);
      if (tokens.refreshToken === undefined) process.stderr.write(`Saved to ${args.saveFile}, but without a refresh token (ask for offline_access): the next run opens the browser.\n`);
    }
    return user.raw;
  } finally {
    await sandbox?.close();
  }
}

/** RFC 6749 §6: a new access token from the saved refresh token. A refused one falls back to the browser; a tenant that is down does not. */
async function refreshFromFile(file: string, saved: TokenSet | string, metadata: TenantMetadata, client: ClientCredentials): Promise<TokenSet | undefined> {
  if (typeof saved === 'string') {
    process.stderr.write(`Not reusing the saved sign-in: ${saved}. Signing in with the browser.\n`);
    return undefined;
  }
  try {
    const tokens = await refreshTokens(metadata, client, saved);
    process.stderr.write(`Signed in again from the refresh token saved in ${file}.\n`);
    return tokens;
  } catch (error) {
    // RFC 6749 §5.2: the tenant's 400/401/403 refuses the token; a 5xx or no answer is not a refusal.
    if (!(error instanceof QlikOAuthError && [400, 401, 403].includes(error.status ?? 0))) throw error;
    process.stderr.write(`The saved refresh token no longer works (${error.code}). Signing in with the browser.\n`);
    return undefined;
  }
}

async function signInWithBrowser(metadata: TenantMetadata, client: ClientCredentials, scope: string, args: LoginArguments, redirectUri: string | undefined): Promise<TokenSet> {
  const login = await startLoopbackSignIn(metadata, client, {
    scope,
    redirectUri,
    port: args.port,
    timeoutMs: args.timeoutMs,
    // Anything on this machine can send the listener a request: escaped, it cannot drive the terminal.
    onIgnoredRequest: (what) => process.stderr.write(`Ignored a request: ${escapeControl(what)}\n`),
  }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      const why = code === 'EADDRINUSE' ? 'already in use' : 'not allowed for this user';
      throw new Error(`Could not listen for the callback: the port is ${why}. What to do: stop the other program, or choose another port (--port, or QLIK_REDIRECT_URI).`);
    }
    throw error;
  });
  // Ctrl-C: stop listening, and say so, rather than leave the port held.
  const stop = () => login.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(`Open this URL to sign in: ${login.authorizationUrl.href}\n`);
  if (args.open) openBrowser(login.authorizationUrl.href);
  process.stderr.write(`Waiting for the browser at ${login.redirectUri} (up to ${Math.round(args.timeoutMs / 1000)} s)…\n`);
  try {
    return await login.tokens;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

// Run when started as a command; importing the file (tests) only gets its functions.
if (process.argv[1] === fileURLToPath(import.meta.url)) await runCommand(signIn);
