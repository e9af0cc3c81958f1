// The app's pages. Plain HTML without any script (the CSP in reply.ts forbids scripts anyway);
// every value goes through html`…`, which escapes it (html.ts).

import { html, SafeHtml } from './html.ts';
import type { Flash } from './sessions.ts';
import type { SandboxFaultInfo } from '../sandbox/index.ts';
import { inlineText } from './markdown.ts';

// The style sheet is a constant of this file, not data, so it is the one thing marked safe by hand.
// Colours keep WCAG 2.x AA contrast (4.5:1 for text; test/browser/a11y.test.ts runs axe-core on
// every page): white on #00754a is 5.8:1, #666 on white 5.7:1.
const STYLE = new SafeHtml(`
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
  .button, button { display: inline-block; font: inherit; padding: 0.4rem 1.2rem; border: 1px solid #00754a; border-radius: 4px; background: #00754a; color: #fff; text-decoration: none; cursor: pointer; }
  .flash { padding: 0.6rem 1rem; border-radius: 4px; background: #e8f4ff; }
  .flash.warning { background: #fff4d6; }
  dt { font-weight: 600; } dd { margin: 0 0 0.5rem 0; }
  code { background: #f3f3f3; padding: 0 0.2rem; }
  pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
  footer { margin-top: 3rem; color: #666; font-size: 0.85rem; }
  body.wide { max-width: 64rem; }`);

/** The frame of every page; `extraStyle` is a page's own style sheet (a constant of its module). */
export function layout(title: string, content: SafeHtml, flash?: Flash, { wide = false, extraStyle }: { wide?: boolean; extraStyle?: SafeHtml } = {}): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}${extraStyle ?? ''}</style>
</head>
<body${wide ? html` class="wide"` : ''}>
<main>
${flash ? html`<p class="flash ${flash.kind}" role="status">${flash.text}</p>` : ''}
${content}
</main>
<footer>Qlik Cloud OAuth 2.0, by hand — <a href="/">home</a> · <a href="/trace">protocol transcript</a></footer>
</body>
</html>
`;
}

export interface HomePageInput {
  tenantUrl: string;
  /** Undefined when not signed in. */
  user: { name: string; email: string | undefined } | undefined;
  /** A few of the user's spaces (GET /api/v1/spaces), or why they could not be listed. */
  spaces?: { names: string[] } | { error: string } | undefined;
  flash: Flash | undefined;
}

export function homePage({ tenantUrl, user, spaces, flash }: HomePageInput): SafeHtml {
  const content = user
    ? html`<h1>Signed in as ${user.name}</h1>
${user.email ? html`<p>Email: ${user.email}</p>` : ''}
<p>Tenant: <code>${tenantUrl}</code></p>
${spacesList(spaces)}
<p><a href="/api/me">Your user, as the tenant returns it (JSON)</a></p>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
<p><a href="/login?prompt=login">Sign in as someone else</a></p>`
    : html`<h1>Not signed in</h1>
<p>Sign in with your Qlik Cloud account at <code>${tenantUrl}</code>.</p>
<p><a class="button" href="/login">Log in</a></p>`;
  return layout(user ? `Signed in as ${user.name}` : 'Not signed in', content, flash);
}

function spacesList(spaces: HomePageInput['spaces']): SafeHtml | '' {
  if (spaces === undefined) return '';
  if ('error' in spaces) return html`<p class="flash warning">Your spaces could not be listed: ${spaces.error}</p>`;
  if (spaces.names.length === 0) return html`<p>You have no spaces yet.</p>`;
  return html`<h2>Your first spaces</h2>
<ul class="spaces">${spaces.names.map((name) => html`<li>${name}</li>`)}</ul>`;
}

interface ErrorPageInput {
  title: string;
  message: string;
  hint: string;
  code: string | undefined;
  rule: string | undefined;
  traceId?: string | undefined;
  /** Where "Start again" leads: /login for a failed sign-in, / otherwise. */
  startAgain: string;
  /** The sandbox fault (SANDBOX_FAULT) that caused this failure, when one did. */
  fault?: SandboxFaultInfo | undefined;
}

export function errorPage(input: ErrorPageInput): SafeHtml {
  return layout(
    input.title,
    html`<h1>${input.title}</h1>
${input.fault ? html`<p class="flash">This is the fault you switched on: <code>SANDBOX_FAULT=${input.fault.name}</code>. ${inlineText(input.fault.description)}</p>` : ''}
<p>${input.message}</p>
<h2>What to do next</h2>
<p>${input.hint}</p>
${input.code ? html`<dl><dt>Code</dt><dd><code>${input.code}</code></dd><dt>Rule</dt><dd>${input.rule}</dd>${input.traceId ? html`<dt>Qlik traceId (give it to Qlik support)</dt><dd><code>${input.traceId}</code></dd>` : ''}</dl>` : ''}
<p><a class="button" href="${input.startAgain}">Start again</a></p>`,
  );
}

/** A callback whose state this browser already used, or let expire (callback.ts takePendingSignIn). */
export function alreadyUsedPage(): SafeHtml {
  const title = 'This sign-in link was already used or has expired — start again';
  return layout(
    title,
    html`<h1>${title}</h1>
<p>Each sign-in link works once, and for 10 minutes. This one was already used (by this page being
reloaded, or the Back button), or it waited too long.</p>
<p>Check: <code>LOGIN_NOT_PENDING</code> — rule: RFC 9700 §4.7.1, a state answers one sign-in, once, and not forever.</p>
<p><a class="button" href="/login">Start again</a></p>`,
  );
}

export function simplePage(title: string, text: string): SafeHtml {
  return layout(title, html`<h1>${title}</h1><p>${text}</p><p><a href="/">Home</a></p>`);
}
