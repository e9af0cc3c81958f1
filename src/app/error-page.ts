// Turns a failure into the page (or JSON) the user sees, with the right status.
//
// Every failed step throws a QlikOAuthError subclass that carries a stable code, a message, the
// rule it enforces and a hint ("what to do next"), so the page can say all of that. Anything else
// is a bug in this app: the browser gets a generic 500 and the log gets the name and message.

import {
  ApiError,
  AuthorizationError,
  CallbackError,
  DiscoveryError,
  HttpError,
  QlikOAuthError,
  TokenError,
} from '../errors.ts';
import { errorPage, simplePage } from './pages.ts';
import { jsonReply, pageReply, type Reply } from './reply.ts';

/**
 * 400: the callback itself is wrong (forged, replayed, declined): the browser's request is the problem.
 * 502: the tenant failed us (RFC 9110 §15.6.3 Bad Gateway): refused, broke, or could not be reached.
 * 504: the tenant did not answer in time (RFC 9110 §15.6.5 Gateway Timeout).
 * 500: anything else is a bug here.
 */
export function statusFor(error: unknown): number {
  if (error instanceof CallbackError || error instanceof AuthorizationError) return 400;
  if (error instanceof HttpError && error.code === 'TIMEOUT') return 504;
  if (error instanceof TokenError || error instanceof ApiError || error instanceof DiscoveryError || error instanceof HttpError) {
    return 502;
  }
  return 500;
}

function titleFor(error: QlikOAuthError): string {
  if (error instanceof AuthorizationError) {
    return error.error === 'access_denied' ? 'The sign-in was declined' : 'The tenant refused the sign-in';
  }
  if (error instanceof CallbackError) return 'This sign-in link failed a check';
  if (error instanceof TokenError) return 'The tenant did not give this app a token';
  if (error instanceof ApiError) return 'The tenant did not say who you are';
  if (error instanceof HttpError) {
    if (error.code === 'TIMEOUT') return 'The tenant did not answer in time';
    if (error.code === 'NETWORK_ERROR') return 'The tenant could not be reached';
    return 'The tenant sent an answer this app cannot use';
  }
  return 'The tenant is not set up as this app needs';
}

/** The HTML page for a failure, logged without any token (messages never hold one; see errors.ts). */
export function errorReply(error: unknown, log: (line: string) => void): Reply {
  const status = statusFor(error);
  if (error instanceof QlikOAuthError) {
    log(`${status} ${error.name} ${error.code}: ${error.message}`);
    return pageReply(
      status,
      errorPage({
        title: titleFor(error),
        message: error.message,
        hint: error.hint,
        code: error.code,
        rule: error.rule,
        startAgain: '/login',
      }),
    );
  }
  logUnexpected(error, log);
  return pageReply(500, simplePage('Something went wrong', 'This app hit an unexpected problem. It has been logged; please try again.'));
}

/** The same failure for the JSON route /api/me. */
export function errorJson(error: unknown, log: (line: string) => void): Reply {
  if (error instanceof QlikOAuthError) {
    log(`${statusFor(error)} ${error.name} ${error.code}: ${error.message}`);
    return jsonReply(statusFor(error), { error: error.code, message: error.message, hint: error.hint, rule: error.rule });
  }
  logUnexpected(error, log);
  return jsonReply(500, { error: 'internal_error', message: 'This app hit an unexpected problem.' });
}

/** Name and message only: a stack trace is for the developer's terminal, never for the browser. */
export function logUnexpected(error: unknown, log: (line: string) => void): void {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : `thrown value of type ${typeof error}`;
  log(`500 unexpected ${text}`);
}
