// Turns a failure into the page (or JSON) the user sees, with the right status. A QlikOAuthError
// carries a code, a message, its rule and a hint, and the page says all of that; anything else is a
// bug in this app: the browser gets a generic 500 and the log gets the name and message.

import { ConfigurationError, QlikOAuthError, type Setting } from '../errors.ts';
import { CALLBACK_CHECKS } from '../3.3-token.ts';
import { TenantError } from '../tenant-error.ts';
import { escapeControl } from '../redact.ts';
import type { SandboxFaultInfo } from '../sandbox/index.ts';
import { errorPage, simplePage } from './pages.ts';
import { jsonReply, pageReply, type Reply } from './reply.ts';

/** The app's own names for the settings a failure points at (the steps name none of them). */
const SETTING_VARIABLES: Record<Setting, string> = {
  tenantUrl: 'QLIK_TENANT_URL',
  clientId: 'QLIK_CLIENT_ID',
  clientSecret: 'QLIK_CLIENT_SECRET',
  scope: 'QLIK_SCOPE',
  redirectUri: 'APP_URL (the redirect URI is APP_URL + /login/callback)',
};

/**
 * 400: the callback itself is wrong (forged, replayed, declined): the browser's request is the problem.
 * 401: the sign-in is over (signed out, refresh refused): sign in again.
 * 500: the app is misconfigured (ConfigurationError), or a bug here.
 * 502: the tenant failed us (RFC 9110 §15.6.3 Bad Gateway): refused, broke, or could not be reached.
 * 503 + Retry-After: the tenant rate limits us (RFC 9110 §15.6.4); the wait is passed on.
 * 504: the tenant did not answer in time (RFC 9110 §15.6.5 Gateway Timeout).
 */
export function statusFor(error: unknown): number {
  if (isCallbackError(error)) return 400;
  if (error instanceof ConfigurationError) return 500;
  if (error instanceof QlikOAuthError && (error.code === 'TIMEOUT' || error.code === 'DEADLINE_EXCEEDED')) return 504;
  if (retryAfterOf(error) !== undefined) return 503;
  if (error instanceof QlikOAuthError && error.signInAgain) return 401;
  if (error instanceof QlikOAuthError) return 502;
  return 500;
}

/** Seconds the tenant asked us to wait (a 429), when it did. */
export function retryAfterOf(error: unknown): number | undefined {
  if (!(error instanceof QlikOAuthError)) return undefined;
  return error.status === 429 ? (error.retryAfter ?? 1) : error.retryAfter;
}

/** A callback that failed step 3.3's checks: the browser's request is the problem. */
function isCallbackError(error: unknown): boolean {
  return error instanceof QlikOAuthError && (error.code in CALLBACK_CHECKS || error.code === 'LOGIN_NOT_PENDING' || error.code === 'LOOPBACK_TIMEOUT');
}

function titleFor(error: QlikOAuthError): string {
  if (error instanceof TenantError && error.code === 'AUTHORIZATION_ERROR') {
    return error.tenantError?.code === 'access_denied' ? 'The sign-in was declined' : 'The tenant refused the sign-in';
  }
  if (error instanceof ConfigurationError) return 'This app is misconfigured';
  if (isCallbackError(error)) return 'This sign-in link failed a check';
  if (retryAfterOf(error) !== undefined) return 'Qlik asks us to wait';
  if (error.step === '3.3') return 'The tenant did not give this app a token';
  if (error.step === '3.4') return 'The tenant did not say who you are';
  if (error.step === 'lifecycle') return error.signInAgain ? 'Please sign in again' : 'The tenant call was stopped';
  if (error.step === 'http') {
    if (error.code === 'TIMEOUT') return 'The tenant did not answer in time';
    if (error.code === 'NETWORK_ERROR') return 'The tenant could not be reached';
    return 'The tenant sent an answer this app cannot use';
  }
  return 'The tenant is not set up as this app needs';
}

/** One log line: control characters escaped, so nothing a browser or tenant sent can forge a line. */
function logLine(log: (line: string) => void, status: number, error: QlikOAuthError): void {
  const { traceId } = error;
  log(escapeControl(`${status} ${error.name} ${error.code}: ${error.message}${traceId && !error.message.includes(traceId) ? ` (traceId ${traceId})` : ''}`));
}

/** The sandbox fault switched on whose expected check is this code: the failure the learner asked for. */
export function faultBehind(code: string, faults: readonly SandboxFaultInfo[]): SandboxFaultInfo | undefined {
  return faults.find((fault) => fault.expectedCheck === code);
}

/**
 * What to do next. With a sandbox fault switched on (SANDBOX_FAULT), the settings a real tenant
 * needs (QLIK_TENANT_URL, the client secret…) are not the learner's to fix: the page says which
 * fault did it, or that one is on.
 */
function hintFor(error: QlikOAuthError, faults: readonly SandboxFaultInfo[]): string {
  if (faults.length > 0) {
    const on = faults.map((fault) => fault.name).join(',');
    if (faultBehind(error.code, faults)) {
      return `The app did its job: ${error.code} refused what the fault does. To sign in normally, start the app again without SANDBOX_FAULT=${on} (unset it, or take it out of .env). With a real tenant, the same failure would call for this: ${error.hint}`;
    }
    return `${error.hint} SANDBOX_FAULT=${on} is switched on: it may be behind this too.`;
  }
  const settings = error.settings.map((setting) => SETTING_VARIABLES[setting]).join(', ');
  const hint = [error.hint, settings && `In this app these are set by ${settings} (environment or .env).`].filter(Boolean).join(' ');
  return error instanceof ConfigurationError ? `${hint} (The fault is in the app's settings, not in anything you did.)` : hint;
}

/** The HTML page for a failure, logged without any token (messages never hold one; see errors.ts). */
export function errorReply(error: unknown, log: (line: string) => void, faults: readonly SandboxFaultInfo[] = []): Reply {
  const status = statusFor(error);
  if (error instanceof QlikOAuthError) {
    logLine(log, status, error);
    const retryAfter = retryAfterOf(error);
    return pageReply(
      status,
      errorPage({
        title: titleFor(error),
        message: error.message,
        hint: hintFor(error, faults),
        fault: faultBehind(error.code, faults),
        code: error.code,
        rule: error.rule,
        traceId: error.traceId,
        startAgain: '/login',
      }),
      retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
    );
  }
  logUnexpected(error, log);
  return pageReply(500, simplePage('Something went wrong', 'This app hit an unexpected problem. It has been logged; please try again.'));
}

/**
 * The same failure for the JSON route /api/me. A 429 from the tenant is passed on as a 429 with
 * Retry-After (RFC 6585 §4), at once: no request sleeps for the tenant's rate limit.
 */
export function errorJson(error: unknown, log: (line: string) => void): Reply {
  if (error instanceof QlikOAuthError) {
    const retryAfter = retryAfterOf(error);
    const status = retryAfter !== undefined ? 429 : statusFor(error);
    logLine(log, status, error);
    const reply = jsonReply(status, {
      error: error.code,
      message: error.message,
      hint: error.hint,
      rule: error.rule,
      retryAfterSeconds: retryAfter, // JSON.stringify leaves out what is undefined
      traceId: error.traceId,
    });
    if (retryAfter !== undefined) reply.headers['retry-after'] = String(retryAfter);
    return reply;
  }
  logUnexpected(error, log);
  return jsonReply(500, { error: 'internal_error', message: 'This app hit an unexpected problem.' });
}

/** Name and message only: a stack trace is for the developer's terminal, never for the browser. */
export function logUnexpected(error: unknown, log: (line: string) => void): void {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : `thrown value of type ${typeof error}`;
  log(escapeControl(`500 unexpected ${text}`));
}
