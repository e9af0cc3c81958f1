// The app's pages. Plain HTML without any script (the CSP in reply.ts forbids scripts anyway);
// every value goes through html`…`, which escapes it (html.ts).

import { html, SafeHtml } from './html.ts';
import type { Flash } from './sessions.ts';
import { ruleHref, sectionTitle, type CheckEvent, type TraceEvent } from '../trace.ts';
import type { Step } from '../errors.ts';

// The style sheet is a constant of this file, not data, so it is the one thing marked safe by hand.
const STYLE = new SafeHtml(`
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
  .button, button { display: inline-block; font: inherit; padding: 0.4rem 1.2rem; border: 1px solid #0a6; border-radius: 4px; background: #0a6; color: #fff; text-decoration: none; cursor: pointer; }
  .flash { padding: 0.6rem 1rem; border-radius: 4px; background: #e8f4ff; }
  .flash.warning { background: #fff4d6; }
  dt { font-weight: 600; } dd { margin: 0 0 0.5rem 0; }
  code { background: #f3f3f3; padding: 0 0.2rem; }
  pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
  footer { margin-top: 3rem; color: #666; font-size: 0.85rem; }
  ul.trace { list-style: none; padding-left: 0; } ul.trace li { margin: 0.3rem 0; }
  li.failed { color: #a00; }`);

function layout(title: string, content: SafeHtml, flash?: Flash): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
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

export interface ErrorPageInput {
  title: string;
  message: string;
  hint: string;
  code: string | undefined;
  rule: string | undefined;
  /** Qlik's traceId of the failed call, when the tenant sent one. */
  traceId?: string | undefined;
  /** Where "Start again" leads: /login for a failed sign-in, / otherwise. */
  startAgain: string;
}

export function errorPage(input: ErrorPageInput): SafeHtml {
  return layout(
    input.title,
    html`<h1>${input.title}</h1>
<p>${input.message}</p>
<h2>What to do next</h2>
<p>${input.hint}</p>
${input.code ? html`<dl><dt>Code</dt><dd><code>${input.code}</code></dd><dt>Rule</dt><dd>${input.rule}</dd>${input.traceId ? html`<dt>Qlik traceId (give it to Qlik support)</dt><dd><code>${input.traceId}</code></dd>` : ''}</dl>` : ''}
<p><a class="button" href="${input.startAgain}">Start again</a></p>`,
  );
}

/** A callback whose state this browser already used, or let expire (sessions.ts takePendingLogin). */
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

/**
 * GET /trace: the last sign-in, section by section — each request with what was sent and what came
 * back, each check with its rule linked. Everything shown was redacted by src/trace.ts already.
 */
export function tracePage(events: readonly TraceEvent[]): SafeHtml {
  const sections: { section: Step; events: TraceEvent[] }[] = [];
  for (const event of events) {
    const last = sections.at(-1);
    if (last && last.section === event.section) last.events.push(event);
    else sections.push({ section: event.section, events: [event] });
  }
  const failed = events.find((e): e is CheckEvent => e.type === 'check' && !e.passed);
  return layout(
    'Protocol transcript',
    html`<h1>Protocol transcript</h1>
<p>What this app did with the tenant for this browser's last sign-in, request by request and check
by check. Secrets show only a prefix, their length and a mark (the same value has the same mark).
Also as <a href="/trace?format=json">JSON</a>.</p>
${failed ? html`<p class="flash warning">The sign-in stopped at <code>${failed.code}</code> (${failed.rule}): ${failed.message ?? failed.title}</p>` : ''}
${events.length === 0 ? html`<p>Nothing yet: <a href="/login">log in</a> first.</p>` : ''}
${sections.map(({ section, events: inSection }) => html`<h2>${sectionTitle(section)}</h2>
<ul class="trace">${inSection.map(traceItem)}</ul>`)}`,
  );
}

function traceItem(event: TraceEvent): SafeHtml {
  if (event.type === 'note') return html`<li>${event.text}</li>`;
  if (event.type === 'check') {
    const href = ruleHref(event.rule);
    const rule = href ? html`<a href="${href}">${event.rule}</a>` : event.rule;
    return html`<li class="${event.passed ? 'passed' : 'failed'}">${event.passed ? '✓' : '✗'} ${event.title} — <code>${event.code}</code>, ${rule}${event.passed ? '' : html`<br>${event.message ?? ''}`}</li>`;
  }
  const outcome = event.status === undefined ? `failed: ${event.errorCode ?? ''}` : `→ ${event.status}`;
  const block = (arrow: string, headers: Record<string, string>, body: string | undefined) =>
    [...Object.entries(headers).map(([name, value]) => `${arrow} ${name}: ${value}`), ...(body ? [`${arrow}`, body] : [])].join('\n');
  return html`<li><details><summary><code>${event.method} ${event.url}</code> ${outcome} (${Math.round(event.durationMs)} ms)</summary>
<pre>${block('>', event.requestHeaders, event.requestBody)}</pre>
<pre>${block('<', event.responseHeaders, event.responseBody)}</pre></details></li>`;
}
