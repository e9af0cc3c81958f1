// The protocol transcript: every request a sign-in makes, every response, and every named check,
// grouped by tutorial section — with every secret redacted to a short prefix and its length, so
// a reader can still follow which value went where without being able to use any of them.
//
// Steps do not know about the transcript. They accept `onExchange` and `onCheck` hooks (src/http.ts);
// trace.hooks('3.3') returns hooks that file what they hear under section 3.3.

import { QlikOAuthError, clip, type Check, type CheckObserver, type Step } from './errors.ts';
import type { HttpExchange, HttpOptions } from './http.ts';
import { MAX_SECRETS, MAX_URL_CHARS, SecretMemory, URL_IN_TEXT, escapeControl, redactBody, redactForm, redactHeaders, redactUrl, redactUrlsIn } from './redact.ts';

/** The headers worth showing a reader; the rest is noise. */
const SHOWN_HEADERS: ReadonlySet<string> = new Set(['authorization', 'content-type', 'content-length', 'location', 'www-authenticate', 'retry-after', 'cache-control', 'date', 'cookie', 'set-cookie']);

const MAX_NOTE_CHARS = 1000;
/** A failed check's message: a tenant's words or a callback's parameter name can be long. */
const MAX_MESSAGE_CHARS = 600;
/** A note mentions a URL or two; more are not listed one by one. */
const MAX_LINKS = 4;
// A transcript lives in its browser session: its size is bounded in events and in characters, so
// many API calls, or a flood of callbacks with huge query strings, cannot grow a session without end.
// A session that is not signed in gets a much smaller budget (src/app/sessions.ts).
const MAX_EVENTS = 200;
const MAX_CHARS = 64_000;

/** Secrets remembered: each counts as 100 characters against a quarter of the budget, whatever its length. */
function secretsFor(maxChars: number): number {
  return Math.min(MAX_SECRETS, Math.floor(maxChars / 4 / 100));
}

/** An HttpExchange (src/http.ts), redacted, with where and when it happened. `errorCode`: TIMEOUT, NETWORK_ERROR, … */
export interface ExchangeEvent {
  type: 'exchange';
  section: Step;
  at: string;
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody: string | undefined;
  status: number | undefined;
  responseHeaders: Record<string, string>;
  responseBody: string | undefined;
  durationMs: number;
  errorCode: string | undefined;
  /** A form request body (the token request), decoded, as name/value pairs, secrets redacted. */
  requestForm?: [string, string][] | undefined;
}

export interface CheckEvent {
  type: 'check';
  section: Step;
  at: string;
  code: string;
  rule: string;
  title: string;
  passed: boolean;
  /** False when the check had nothing to look at (ISS_MISSING when no iss was promised): not held, not failed. */
  applicable: boolean;
  why: string | undefined;
  /** For a failed check: the error's message (secrets scrubbed). */
  message: string | undefined;
}

export interface NoteEvent {
  type: 'note';
  section: Step;
  at: string;
  text: string;
  /** Each URL with a query that the note mentions (the authorization request, a callback), decoded and redacted. */
  links?: TraceLink[] | undefined;
}

/** A URL, split for a reader: where it goes, and its query parameters decoded, secrets redacted. */
export interface TraceLink {
  /** Origin and path, without the query. */
  base: string;
  params: [string, string][];
}

export type TraceEvent = ExchangeEvent | CheckEvent | NoteEvent;

/** One sign-in's transcript. Values given to `knownSecrets` are scrubbed from everything. */
export class Trace {
  readonly events: TraceEvent[] = [];
  /** Every secret seen so far (src/redact.ts), scrubbed from everything recorded after it. */
  readonly secrets: SecretMemory;
  maxChars: number;

  constructor(knownSecrets: readonly string[] = [], { maxChars = MAX_CHARS } = {}) {
    this.maxChars = maxChars;
    this.secrets = new SecretMemory(knownSecrets, secretsFor(maxChars));
  }

  /** Hooks for a step's options: what the step does is filed under `section`. */
  hooks(section: Step): Required<Pick<HttpOptions, 'onExchange' | 'onCheck'>> {
    return {
      onExchange: (exchange) => this.push(this.exchangeEvent(section, exchange)),
      onCheck: (check, passed, notApplicable) => this.check(section, check, passed, undefined, notApplicable),
    };
  }

  /** Records a named check. The steps report passes; a failure comes from its thrown error. */
  check(section: Step, { code, rule, title }: Check, passed: boolean, message?: string, notApplicable?: Parameters<CheckObserver>[2]): void {
    // A check made again in the same section (each endpoint's ENDPOINT_* checks, a second refresh) is shown once.
    if (passed && this.events.some((event) => event.type === 'check' && event.section === section && event.code === code && event.passed)) return;
    this.push({
      type: 'check',
      section,
      at: new Date().toISOString(),
      code,
      rule,
      title,
      passed,
      applicable: notApplicable === undefined,
      why: notApplicable === undefined ? undefined : this.secrets.cut(notApplicable.why, MAX_MESSAGE_CHARS),
      message: message === undefined ? undefined : this.secrets.cut(message, MAX_MESSAGE_CHARS),
    });
  }

  /** Records the check that stopped a sign-in, so "why did my login fail" has an answer. */
  failure(section: Step, error: unknown): void {
    if (error instanceof QlikOAuthError) this.check(error.step === 'http' ? section : error.step, error.check, false, error.message);
    else this.note(section, `Unexpected failure: ${error instanceof Error ? error.name : 'unknown error'}`);
  }

  /** A line of explanation, e.g. "browser sent to the authorization endpoint". URLs in it are redacted. */
  note(section: Step, text: string): void {
    const links = this.linksIn(text);
    this.push({
      type: 'note',
      section,
      at: new Date().toISOString(),
      text: this.secrets.cut(redactUrlsIn(text, this.secrets), MAX_NOTE_CHARS),
      ...(links.length ? { links } : {}),
    });
  }

  private linksIn(text: string): TraceLink[] {
    const links: TraceLink[] = [];
    let chars = 0;
    for (const [found] of text.matchAll(URL_IN_TEXT)) {
      // Bounded like the note itself: a flood of long links must not make one event huge.
      if (links.length === MAX_LINKS || chars > 4 * MAX_NOTE_CHARS || found.length > MAX_URL_CHARS || !URL.canParse(found)) continue;
      const url = new URL(found);
      if (url.search === '') continue;
      const params = redactForm(url.search.slice(1), this.secrets).map(([name, value]): [string, string] => [name, this.secrets.cut(value, 300)]);
      const link = { base: this.secrets.cut(url.origin + url.pathname, 300), params };
      chars += JSON.stringify(link).length;
      links.push(link);
    }
    return links;
  }

  /** A new budget (a failed sign-in's transcript kept by an anonymous session): the oldest events and secrets go. */
  limitTo(maxChars: number): void {
    this.maxChars = maxChars;
    this.trim();
    this.secrets.limitTo(secretsFor(maxChars));
  }

  /** How many characters the events take, as counted for the budget. */
  size = 0;
  private readonly sizes: number[] = [];

  private push(event: TraceEvent): void {
    const size = JSON.stringify(event).length;
    this.events.push(event);
    this.sizes.push(size);
    this.size += size;
    this.trim();
  }

  private trim(): void {
    while (this.events.length > 1 && (this.events.length > MAX_EVENTS || this.size > this.maxChars)) {
      this.events.shift();
      this.size -= this.sizes.shift()!;
    }
  }

  private exchangeEvent(section: Step, { request, status, result, error, durationMs }: HttpExchange): ExchangeEvent {
    const { secrets } = this;
    const responseHeaders = Object.fromEntries(result?.headers ?? []);
    // What the client sent first: its secrets are then known, and scrubbed from every part of the
    // answer (an error description or a WWW-Authenticate challenge may repeat them). The body before
    // the URL and headers, the answer's body before its headers: a body is where a secret is first seen.
    const requestBody = redactBody(request.body, request.headers['content-type'], secrets);
    const isForm = (request.headers['content-type'] ?? '').toLowerCase().includes('application/x-www-form-urlencoded');
    const requestForm = isForm && request.body ? redactForm(request.body, secrets) : undefined;
    const url = redactUrl(request.url, secrets);
    const requestHeaders = redactHeaders(request.headers, SHOWN_HEADERS, secrets);
    const responseBody = redactBody(result?.body, responseHeaders['content-type'], secrets);
    return {
      type: 'exchange',
      section,
      at: new Date(Date.now() - durationMs).toISOString(),
      method: request.method,
      url,
      requestHeaders,
      requestBody,
      ...(requestForm ? { requestForm } : {}),
      status,
      responseHeaders: redactHeaders(responseHeaders, SHOWN_HEADERS, secrets),
      responseBody,
      durationMs: Math.round(durationMs * 10) / 10,
      errorCode: error?.code,
    };
  }
}

/** `RFC 8414 §3.3` → the RFC Editor's link to that section; Qlik facts have no link. */
export function ruleHref(rule: string): string | undefined {
  const match = /^RFC (\d+) §([\d.]+)$/.exec(rule);
  return match ? `https://www.rfc-editor.org/rfc/rfc${match[1]}#section-${match[2]}` : undefined;
}

/** A rule as its parts, each with its link when it has one: `RFC 8414 §2, RFC 9700 §2.1.1` is two. */
export function ruleLinks(rule: string): { text: string; href: string | undefined }[] {
  return rule.split(', ').map((text) => ({ text, href: ruleHref(text) }));
}

/** The heading of a tutorial section in the transcript (display only: no protocol rule). */
export const SECTION_TITLES: Record<Step, string> = {
  http: 'Network',
  '3.1': '3.1 Discover the tenant',
  '3.2': '3.2 Send the user to sign in',
  '3.3': '3.3 Take the callback, exchange the code',
  '3.4': '3.4 Call the Qlik API',
  lifecycle: 'Beyond the tutorial: refresh, revoke, paging',
  machine: 'Beyond the tutorial: machine-to-machine and impersonation',
};

/**
 * A text transcript for the console: one line per request, one per check by its title (a code names
 * what a failure would be called, so codes alone read as if those had happened), a URL's query
 * decoded one parameter a line; with `detail`, headers and bodies too. Each line is escaped: a value
 * from a request or the tenant cannot move the cursor, retitle the terminal or start a line of its own.
 */
export function formatTranscript(events: readonly TraceEvent[], { detail = false } = {}): string {
  const lines: string[] = [];
  let section: Step | undefined;
  for (const event of events) {
    if (event.section !== section) {
      section = event.section;
      lines.push(`── ${SECTION_TITLES[section]}`);
    }
    if (event.type === 'exchange') {
      const outcome = event.status === undefined ? `failed ${event.errorCode}` : `→ ${event.status}`;
      lines.push(`   ${event.method} ${event.url} ${outcome} (${Math.round(event.durationMs)} ms)`);
      if (detail) {
        lines.push(...indented('>', event.requestHeaders, event.requestBody));
        lines.push(...indented('<', event.responseHeaders, event.responseBody));
      } else {
        if (event.requestBody) lines.push(`     sent: ${oneLine(event.requestBody)}`);
        if (event.responseBody && event.status !== undefined && event.status >= 400) {
          lines.push(`     got:  ${oneLine(event.responseBody)}`);
        }
      }
    } else if (event.type === 'check') {
      lines.push(checkLine(event));
      if (!event.passed && event.message) lines.push(`     ${event.message}`);
    } else {
      // A URL whose parameters are listed below is shown without its query.
      lines.push(`   · ${event.links?.length ? event.text.replace(/(https?:\/\/[^\s?#]+)\?(?:…\(\d+ chars #[0-9a-f]{4}\)|\S)*/g, '$1?…') : event.text}`);
      for (const link of event.links ?? []) {
        const width = Math.min(24, Math.max(...link.params.map(([name]) => name.length)));
        lines.push(...link.params.map(([name, value]) => `       ${name.padEnd(width)} ${oneLine(value)}`));
      }
    }
  }
  return lines.map((line) => escapeControl(line)).join('\n');
}

/** `✓ the callback carries state [STATE_MISSING]`: what held, did not apply, or did not hold. */
function checkLine(check: CheckEvent): string {
  if (!check.passed) return `   ✗ did not hold: ${check.title} [${check.code}, ${check.rule}]`;
  if (!check.applicable) return `   – did not apply: ${check.title} [${check.code}] — ${check.why ?? 'nothing to check'}`;
  return `   ✓ ${check.title} [${check.code}]`;
}

function indented(arrow: string, headers: Record<string, string>, body: string | undefined): string[] {
  const lines = Object.entries(headers).map(([name, value]) => `     ${arrow} ${name}: ${value}`);
  if (body) lines.push(...body.split('\n').map((line) => `     ${arrow}   ${line}`));
  return lines;
}

function oneLine(text: string): string {
  return clip(text.replace(/\s+/g, ' '), 320);
}
