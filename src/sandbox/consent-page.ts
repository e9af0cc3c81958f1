// The consent page: which app asks, for which scopes, signing in as whom. Plain HTML, no script.
import { escapeHtml } from './respond.ts';

/** Who may sign in to the sandbox: any name of this shape; there are no passwords. */
export const USER_NAME_PATTERN = '[a-z0-9._-]{1,40}';

/**
 * What each well-known Qlik scope lets the app do, for the page's list. A Map, not an object: a
 * scope named `constructor` or `__proto__` must find nothing (it did find Object's, and crashed).
 */
const SCOPE_TEXT = new Map<string, string>([
  ['user_default', 'act as you in Qlik Cloud (read your profile, spaces and apps)'],
  ['offline_access', 'keep access when you are away (a refresh token)'],
  ['admin_classic', 'use the tenant administration APIs'],
]);

export interface ConsentPageInput {
  clientId: string;
  scopes: string[];
  tx: string;
  user: string;
}

export function consentPage({ clientId, scopes, tx, user }: ConsentPageInput): string {
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
  </body>
</html>
`;
}
