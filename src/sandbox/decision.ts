// POST /oauth/authorize/decision: the user's Allow or Deny from the consent page.
// Allow → an authorization code to the client's redirect URI; Deny → error=access_denied.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from './context.ts';
import { AUTHORIZE, CONSENT } from './error-codes.ts';
import { param, readBodyParams } from './params.ts';
import { QlikFailure, sendRedirect, withQuery } from './respond.ts';
import { codeKeepUntil, randomToken } from './store.ts';
import { callbackIss, callbackState, errorRedirectUrl } from './authorize.ts';
import { USER_NAME_PATTERN } from './consent-page.ts';

const USER_NAME = new RegExp(`^${USER_NAME_PATTERN}$`);

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
  if (decision !== 'allow' && decision !== 'deny') {
    throw new QlikFailure(400, CONSENT.badDecision, 'decision must be allow or deny.');
  }

  if (decision === 'deny') {
    ctx.store.pending.delete(tx);
    // RFC 6749 §4.1.2.1: the resource owner denied the request → access_denied, state echoed.
    const denied = { code: AUTHORIZE.denied, detail: 'The user denied the request.' };
    sendRedirect(res, errorRedirectUrl(ctx, pending.redirectUri, pending.state, denied));
    return;
  }

  const user = param(form, 'user') ?? '';
  // The sandbox's users have no password, only a name of a safe shape. The tx is kept, so Back works.
  if (!USER_NAME.test(user)) {
    throw new QlikFailure(400, CONSENT.badUser, `The user name must match ${USER_NAME_PATTERN}. Go back and fix it.`);
  }

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
    keepUntil: codeKeepUntil(issuedAt),
  });
  // RFC 6749 §4.1.2: code and state; RFC 9207 §2: iss, so the client can tell which server answered.
  // The faults iss-mismatch, iss-missing and state-tampered change these two (see authorize.ts).
  sendRedirect(res, withQuery(pending.redirectUri, { code, state: callbackState(ctx, pending.state), iss: callbackIss(ctx) }));
}

/** Who signed in, so impersonation can find them; bounded, oldest forgotten first. */
const MAX_REMEMBERED_USERS = 10_000;

function rememberUser(ctx: SandboxContext, user: string): void {
  ctx.signedInUsers.delete(user);
  ctx.signedInUsers.add(user);
  if (ctx.signedInUsers.size > MAX_REMEMBERED_USERS) ctx.signedInUsers.delete(ctx.signedInUsers.values().next().value!);
}
