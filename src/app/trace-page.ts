// GET /trace: the last sign-in of this browser as a sequence diagram — browser, app and tenant
// lanes, one arrow per request; a click on an arrow opens its headers, parameters and body
// (<details>, no script: the CSP in reply.ts forbids scripts). Each check reads as what held, with
// its code linked to its docs and its rule to the RFC. Everything shown was redacted when it was
// recorded (src/trace.ts); every value goes through html`…`, which escapes it.

import { CHECKS, type CheckCode } from '../checks.ts';
import { SECTION_TITLES, ruleLinks, type CheckEvent, type ExchangeEvent, type NoteEvent, type TraceEvent } from '../trace.ts';
import { docsPageOf, outcomeOf, parameterWhy, transcriptJson } from '../trace-format.ts';
import type { AppContext, AppRequest } from './context.ts';
import { html, SafeHtml } from './html.ts';
import { layout } from './pages.ts';
import { jsonReply, pageReply, type Reply } from './reply.ts';
import { faultBehind } from './error-page.ts';
import type { SandboxFaultInfo } from '../sandbox/index.ts';
import { ATTACKS, attackOutcomes, canAttack, dropIssForecast, explainOutcome, isAttackNote, type AttackName, type AttackOutcome } from './tamper.ts';

/** GET /trace, or (?format=json) the same events, versioned (src/trace-format.ts). */
export async function trace(ctx: AppContext, { session, url }: AppRequest): Promise<Reply> {
  const events = session?.trace.events ?? [];
  if (url.searchParams.get('format') === 'json') return jsonReply(200, transcriptJson([...ctx.startEvents, ...events]));
  return pageReply(
    200,
    tracePage({
      startEvents: ctx.startEvents,
      events,
      authorizationEndpoint: ctx.metadata.authorizationEndpoint,
      callbackUrl: ctx.client.redirectUri,
      attacks: ctx.sandbox
        ? { available: canAttack(ctx, session), outcomes: attackOutcomes(session), issPromised: ctx.metadata.issParameterSupported }
        : undefined,
      faults: ctx.sandboxFaults,
    }),
  );
}

interface TracePageInput {
  /** Discovery at start-up, shared by every sign-in; then this browser's events since its last GET /login. */
  startEvents: readonly TraceEvent[];
  events: readonly TraceEvent[];
  /** To recognise the authorization request and the callback among the notes. */
  authorizationEndpoint: string;
  callbackUrl: string;
  /** Only on the sandbox tenant: the attacks this browser may try, and what became of those it tried. */
  attacks?: { available: boolean; outcomes: readonly AttackOutcome[]; issPromised: boolean } | undefined;
  faults?: readonly SandboxFaultInfo[] | undefined;
}

// The page's own style sheet: a constant of this module, not data.
const TRACE_STYLE = new SafeHtml(`
  .seq { position: relative; margin: 1rem 0; background-image: linear-gradient(to right,
      transparent calc(100% / 6 - 1px), #c8c8c8 calc(100% / 6 - 1px), #c8c8c8 calc(100% / 6 + 1px), transparent calc(100% / 6 + 1px),
      transparent calc(50% - 1px), #c8c8c8 calc(50% - 1px), #c8c8c8 calc(50% + 1px), transparent calc(50% + 1px),
      transparent calc(500% / 6 - 1px), #c8c8c8 calc(500% / 6 - 1px), #c8c8c8 calc(500% / 6 + 1px), transparent calc(500% / 6 + 1px)); }
  .lanes, .msg > summary, .row { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); }
  .lanes { position: sticky; top: 0; z-index: 1; background: #fff; padding: 0.2rem 0; }
  .lanes span { grid-column: span 2; text-align: center; font-weight: 600; background: #fff; border: 1px solid #999; border-radius: 4px; margin: 0 0.3rem; padding: 0.2rem; overflow-wrap: anywhere; }
  .seq h2 { background: #fff; margin: 1.2rem 0 0.4rem; font-size: 1.05rem; padding: 0.2rem 0; }
  .seq h2 small { font-weight: normal; color: #666; }
  .msg { margin: 0.2rem 0; }
  .msg > summary { list-style: none; cursor: pointer; }
  .msg > summary::-webkit-details-marker { display: none; }
  .arrow { display: flex; flex-direction: column; padding: 0.15rem 0; min-width: 0; font-size: 0.8rem; text-align: center; }
  .arrow .label, .arrow .ret { overflow-wrap: anywhere; padding: 0 0.6rem; }
  .arrow .label code { background: #fff; }
  .msg > summary:hover .label, .msg > summary:focus .label { text-decoration: underline; }
  .msg > summary .label::after { content: " ▸"; color: #00754a; }
  .msg[open] > summary .label::after { content: " ▾"; }
  .arrow .ret { color: #555; }
  .arrow .ret.bad { color: #a00; }
  .arrow .line { height: 2px; background: #333; position: relative; margin: 0.1rem 0; }
  .arrow.right .line::after, .arrow.left .line::before { content: ""; position: absolute; top: -5px; border-top: 6px solid transparent; border-bottom: 6px solid transparent; }
  .arrow.right .line::after { right: 0; border-left: 9px solid #333; }
  .arrow.left .line::before { left: 0; border-right: 9px solid #333; }
  .arrow.plain .line { background: #888; } .arrow.plain.right .line::after { border-left-color: #888; } .arrow.plain.left .line::before { border-right-color: #888; }
  .ba { grid-column: 2 / 4; } .at { grid-column: 4 / 6; } .bt { grid-column: 2 / 6; }
  .more, .flash, .attack, .more code, .checks, .note { overflow-wrap: anywhere; }
  .more { background: #fafafa; border: 1px solid #ddd; border-radius: 4px; padding: 0.5rem 0.8rem; margin: 0.3rem 0 0.6rem; font-size: 0.85rem; }
  .more h3 { margin: 0.5rem 0 0.2rem; font-size: 0.9rem; }
  .more pre { white-space: pre-wrap; overflow-wrap: anywhere; overflow-x: visible; margin: 0.2rem 0; }
  table.params { width: 100%; table-layout: fixed; border-collapse: collapse; font-size: 0.8rem; margin: 0.3rem 0; }
  table.params th, table.params td { text-align: left; vertical-align: top; border-bottom: 1px solid #e4e4e4; padding: 0.2rem 0.3rem; overflow-wrap: anywhere; }
  table.params th:nth-child(1) { width: 24%; } table.params th:nth-child(2) { width: 38%; }
  .checks { background: #fff; border-left: 3px solid #00754a; margin: 0.3rem 0 0.6rem 30%; padding: 0.2rem 0.6rem; font-size: 0.85rem; }
  .checks.has-failed { border-left-color: #a00; }
  .checks ul { list-style: none; padding: 0; margin: 0; }
  .checks li { margin: 0.15rem 0; }
  .checks .mark { display: inline-block; min-width: 2rem; font-weight: 600; }
  .checks .held .mark { color: #00754a; } .checks .na .mark { color: #666; } .checks .failed { color: #a00; }
  .checks .why { color: #555; }
  .checks a.code { font-family: monospace; font-size: 0.75rem; background: #f3f3f3; padding: 0 0.2rem; color: #333; }
  .rule { font-size: 0.75rem; }
  .note { background: #fff; color: #444; font-size: 0.85rem; margin: 0.3rem 0; padding: 0.1rem 0.4rem; }
  .attack { background: #fff0f0; border: 1px solid #e3a0a0; border-radius: 4px; padding: 0.3rem 0.6rem; font-size: 0.9rem; margin: 1rem 0 0.3rem; scroll-margin-top: 3rem; }
  .attack:target { outline: 3px solid #a00; }
  .tamper { border: 1px solid #e3a0a0; border-radius: 6px; padding: 0.2rem 1rem 0.6rem; margin: 1rem 0; overflow-wrap: anywhere; }
  .tamper form { display: inline; }
  .tamper button.link { background: none; border: none; padding: 0; color: #06c; text-decoration: underline; font-weight: 600; }
  .tamper li { margin: 0.4rem 0; }
  @media (max-width: 40rem) { .checks { margin-left: 0; } .arrow .label, .arrow .ret { padding: 0 0.2rem; } .lanes span { font-size: 0.8rem; } }`);

/** The lanes, left to right. */
type Lane = 'browser' | 'app' | 'tenant';
const LANE_INDEX: Record<Lane, number> = { browser: 0, app: 1, tenant: 2 };

export function tracePage(input: TracePageInput): SafeHtml {
  const firstAttack = input.events.findIndex(isAttackNote);
  const signIn = firstAttack === -1 ? input.events : input.events.slice(0, firstAttack);
  // Events after an attack note are the attack's: its callbacks were forged by this app, not sent by the tenant.
  const forged = new Set(input.events.slice(signIn.length));
  const failed = [...input.startEvents, ...signIn].find((e): e is CheckEvent => e.type === 'check' && !e.passed);
  return layout(
    'Protocol transcript',
    html`<h1>Protocol transcript</h1>
<p>What this app did with the tenant for this browser's last sign-in, drawn as a sequence: the
browser, this app (your server) and the tenant, one arrow per request. Click an arrow to see its
parameters, headers and body. Each check says what held (✓), what did not apply (n/a) and why, or
what failed (✗); its code links to its docs, its rule to the RFC. Secrets show only a prefix, their
length and a mark (the same value has the same mark). Also as <a href="/trace?format=json">JSON</a>.</p>
${failed ? failedBanner(failed, input.faults ?? []) : ''}
${input.attacks ? attackPanel(input.attacks, input.events) : ''}
${input.events.length === 0 ? html`<p>No sign-in yet in this browser: <a href="/login">log in</a>, then come back. Discovery, which ran once when the app started, is below.</p>` : ''}
${input.startEvents.length + input.events.length === 0 ? '' : sequence(input, forged)}`,
    undefined,
    { wide: true, extraStyle: TRACE_STYLE },
  );
}

/** Where the sign-in stopped, as a refusal: the check that did not hold, and the fault behind it when one is on. */
function failedBanner(failed: CheckEvent, faults: readonly SandboxFaultInfo[]): SafeHtml {
  const fault = faultBehind(failed.code, faults);
  return html`<p class="flash warning">The sign-in stopped at <code>${failed.code}</code> (${failed.rule}): “${failed.title}” did not hold. ${failed.message ?? ''}${
    fault ? html` This is the fault you switched on: <code>SANDBOX_FAULT=${fault.name}</code>.` : ''
  }</p>`;
}

function sequence(input: TracePageInput, forged: ReadonlySet<TraceEvent>): SafeHtml {
  const groups = [
    ...sectionsOf(input.startEvents).map((group) => ({ ...group, atStart: true })),
    ...sectionsOf(input.events).map((group) => ({ ...group, atStart: false })),
  ];
  return html`<div class="seq">
<div class="lanes" aria-hidden="true"><span>Browser</span><span>App (your server)</span><span>Tenant</span></div>
${groups.map(
  ({ section, events, atStart }) => html`<h2>${SECTION_TITLES[section]}${atStart ? html` <small>— once, when the app started; every sign-in uses it</small>` : ''}</h2>
${rowsOf(events, input, forged)}`,
)}
</div>`;
}

/** Consecutive events of one section. */
function sectionsOf(events: readonly TraceEvent[]): { section: TraceEvent['section']; events: TraceEvent[] }[] {
  const groups: ReturnType<typeof sectionsOf> = [];
  for (const event of events) {
    const last = groups.at(-1);
    if (last && last.section === event.section) last.events.push(event);
    else groups.push({ section: event.section, events: [event] });
  }
  return groups;
}

function rowsOf(events: readonly TraceEvent[], input: TracePageInput, forged: ReadonlySet<TraceEvent>): SafeHtml[] {
  const rows: SafeHtml[] = [];
  let checks: CheckEvent[] = [];
  const flush = () => {
    if (checks.length) rows.push(checksBlock(checks));
    checks = [];
  };
  for (const event of events) {
    if (event.type === 'check') {
      checks.push(event);
      continue;
    }
    flush();
    rows.push(event.type === 'exchange' ? exchangeRow(event) : noteRows(event, input, forged.has(event)));
  }
  flush();
  return rows;
}

/** An arrow between two lanes; with `more`, a click opens it. */
function arrow(from: Lane, to: Lane, label: SafeHtml, ret: SafeHtml | string, more?: SafeHtml, bad = false): SafeHtml {
  const [a, b] = [LANE_INDEX[from], LANE_INDEX[to]];
  const span = Math.min(a, b) === 0 ? (Math.max(a, b) === 1 ? 'ba' : 'bt') : 'at';
  const direction = a < b ? 'right' : 'left';
  const body = html`<span class="arrow ${direction} ${span}${more ? '' : ' plain'}"><span class="label">${label}</span><span class="line"></span><span class="ret${bad ? ' bad' : ''}">${ret}</span></span>`;
  if (!more) return html`<div class="row msg">${body}</div>`;
  return html`<details class="msg"><summary>${body}</summary><div class="more">${more}</div></details>`;
}

/** A request the app made to the tenant: the arrow, and on a click everything that went over the wire. */
function exchangeRow(event: ExchangeEvent): SafeHtml {
  const { path, query } = splitUrl(event.url);
  const outcome = event.status === undefined ? `failed: ${event.errorCode ?? 'no answer'}` : `← ${event.status}`;
  const bad = event.status === undefined || event.status >= 400;
  const more = html`<p><code>${event.method} ${event.url}</code></p>
<h3>Request</h3>
${headerBlock(event.requestHeaders)}
${event.requestForm ? paramTable(event.requestForm) : event.requestBody ? html`<pre>${event.requestBody}</pre>` : ''}
<h3>Response${event.status === undefined ? html` — none: ${event.errorCode ?? ''}` : html` ${event.status}`}</h3>
${headerBlock(event.responseHeaders)}
${event.responseBody ? html`<pre>${event.responseBody}</pre>` : ''}`;
  return arrow('app', 'tenant', html`<code>${event.method} ${path}</code>${query ? ' ?…' : ''}`, `${outcome} · ${Math.round(event.durationMs)} ms`, more, bad);
}

function headerBlock(headers: Record<string, string>): SafeHtml | '' {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return lines.length ? html`<pre>${lines.join('\n')}</pre>` : '';
}

/** A note: the authorization request and the callback become arrows; an attack a banner; the rest a line. */
function noteRows(event: NoteEvent, input: TracePageInput, forged: boolean): SafeHtml {
  if (isAttackNote(event)) return html`<h3 class="attack" id="${attackAnchor(input.events.indexOf(event))}">${event.text}</h3>`;
  const link = event.links?.[0];
  if (link && link.base === input.authorizationEndpoint) {
    const path = splitUrl(link.base).path;
    return html`${arrow('browser', 'app', html`<code>GET /login</code>`, '← 302 to the tenant’s authorization endpoint', html`<p>${event.text}</p>`)}
${arrow(
  'browser',
  'tenant',
  html`<code>GET ${path}</code> with ${link.params.length} parameters`,
  'the tenant’s sign-in and consent pages (this app does not see them)',
  html`<p>The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3), decoded. It goes through the
browser, so nothing in it may be a secret that outlives the sign-in.</p>
<p><code>${link.base}</code></p>
${paramTable(link.params)}`,
)}`;
  }
  if (link && link.base === input.callbackUrl) {
    const names = link.params.map(([name]) => name).join(', ');
    return html`${forged ? '' : arrow('tenant', 'browser', html`302 back to the redirect URI`, '', undefined)}
${arrow(
  'browser',
  'app',
  html`<code>GET ${splitUrl(link.base).path}</code>${forged ? ' (forged)' : ''} with ${names}`,
  'the app checks it, then uses the back channel',
  html`<p>The callback (RFC 6749 §4.1.2, RFC 9207 §2), decoded. ${event.text}</p>${paramTable(link.params)}`,
)}`;
  }
  return html`<p class="note">· ${event.text}</p>${event.links?.length ? event.links.map((l) => html`<div class="more"><code>${l.base}</code>${paramTable(l.params)}</div>`) : ''}`;
}

/** A query or form, decoded: name, value (redacted marks as they are), why it is sent. */
function paramTable(params: readonly [string, string][]): SafeHtml {
  return html`<table class="params"><thead><tr><th>parameter</th><th>value</th><th>why</th></tr></thead>
<tbody>${params.map(([name, value]) => html`<tr><td><code>${name}</code></td><td><code>${value}</code></td><td>${parameterWhy(name) ?? ''}</td></tr>`)}</tbody></table>`;
}

/** The checks of one step, each as what held (or did not apply, or failed), with its code and rule linked. */
function checksBlock(checks: readonly CheckEvent[]): SafeHtml {
  const counts = { held: 0, 'n/a': 0, failed: 0 };
  for (const check of checks) counts[outcomeOf(check)]++;
  const summary = [`${counts.held} held`, counts['n/a'] ? `${counts['n/a']} did not apply` : '', counts.failed ? `${counts.failed} failed` : ''].filter(Boolean).join(', ');
  return html`<div class="checks${counts.failed ? ' has-failed' : ''}"><p><b>The app's checks</b> (${summary})</p><ul>${checks.map(checkItem)}</ul></div>`;
}

function checkItem(check: CheckEvent): SafeHtml {
  const outcome = outcomeOf(check);
  const mark = outcome === 'held' ? '✓' : outcome === 'n/a' ? 'n/a' : '✗';
  const detail =
    outcome === 'n/a' ? html` <span class="why">— did not apply: ${check.why ?? ''}</span>` : outcome === 'failed' ? html`<br>${check.message ?? ''}` : '';
  const said = outcome === 'failed' ? html`did not hold: ${check.title}` : check.title;
  return html`<li class="${outcome === 'n/a' ? 'na' : outcome}"><span class="mark">${mark}</span> ${said} ${codeLink(check.code)} <span class="rule">${ruleLinks(check.rule).map(
    ({ text, href }, i) => html`${i ? ', ' : ''}${href ? html`<a href="${href}">${text}</a>` : text}`,
  )}</span>${detail}</li>`;
}

/** A check's code, linked to its row in the docs page of its step (served by the app: works offline). */
function codeLink(code: string): SafeHtml {
  const page = docsPageOf(code);
  return page ? html`<a class="code" href="/docs/${page}#${code}">${code}</a>` : html`<code>${code}</code>`;
}

function attackPanel(attacks: NonNullable<TracePageInput['attacks']>, events: readonly TraceEvent[]): SafeHtml {
  const names = Object.keys(ATTACKS) as AttackName[];
  const latestFirst = [...attacks.outcomes].reverse();
  return html`<section class="tamper" id="attacks"><h2>Try breaking it</h2>
<p>This app runs on the local sandbox tenant, so it lets you attack your own last sign-in. Each
button sends a forged callback to this app, for this browser only; the transcript below then shows
the check that refused it.</p>
${attacks.available
  ? html`<ul>${names.map(
      (name) => html`<li><form method="post" action="/trace/tamper?attack=${name}"><button class="link" type="submit">${ATTACKS[name].label}</button></form> — ${ATTACKS[name].what}${
        name === 'drop-iss' ? html` ${dropIssForecast(attacks.issPromised)}` : ''
      }</li>`,
    )}</ul>`
  : html`<p>Sign in first (<a href="/login">log in</a>): the attacks use the callback of your last sign-in.</p>`}
${latestFirst.map((outcome) => outcomeBox(outcome, attacks.issPromised, events))}
</section>`;
}

/**
 * What became of one attack: a refusal said as one — the check that did not hold, in its positive
 * words — why, and a link down to the attack's events in the transcript (while they are still in it).
 */
function outcomeBox(outcome: AttackOutcome, issPromised: boolean, events: readonly TraceEvent[]): SafeHtml {
  const { label } = ATTACKS[outcome.attack];
  const verdict = outcome.stoppedBy
    ? html`refused by ${codeLink(outcome.stoppedBy)}: “${CHECKS[outcome.stoppedBy].title}” did not hold.`
    : 'not refused.';
  const at = outcome.note === undefined ? -1 : events.indexOf(outcome.note);
  const link = at === -1 ? '' : html` <a href="#${attackAnchor(at)}">See this attack in the transcript ↓</a>`;
  return html`<p class="flash${outcome.stoppedBy ? '' : ' warning'}"><b>${label}</b>: ${verdict} ${explainOutcome(outcome, issPromised)}${link}</p>`;
}

/** The id of an attack's first event on the page, by its place in this browser's events. */
function attackAnchor(index: number): string {
  return `attack-${index}`;
}

/** A redacted URL's path, and whether it had a query (redacted URLs are for reading, so no URL parser). */
function splitUrl(url: string): { path: string; query: boolean } {
  const queryAt = url.indexOf('?');
  const base = queryAt === -1 ? url : url.slice(0, queryAt);
  const path = URL.canParse(base) ? new URL(base).pathname : base;
  return { path, query: queryAt !== -1 };
}

