// The protocol transcript: every request a sign-in makes, every response, and every named check,
// grouped by tutorial section — with every secret redacted to a short prefix and its length, so
// a reader can still follow which value went where without being able to use any of them.
//
// Steps do not know about the transcript. They accept `onExchange` and `onCheck` hooks (src/http.ts);
// trace.hooks('3.3') returns hooks that file what they hear under section 3.3.

import { createHmac, randomBytes } from 'node:crypto';
import { CHECKS, QlikOAuthError, type CheckCode, type Step } from './errors.ts';
import type { HttpExchange, HttpOptions } from './http.ts';

/** JSON keys whose values are secrets (in token responses, mostly). */
const SECRET_JSON_KEYS = new Set(['client_secret', 'code_verifier', 'access_token', 'refresh_token', 'id_token']);

/** Form fields and query parameters whose values are secrets. In JSON, `code` is an error code. */
export const SECRET_NAMES = new Set([
  ...SECRET_JSON_KEYS,
  'code',
  'token', // RFC 7009: the token being revoked
  'state', // not a credential, but it guards the callback: no need to show it whole
]);

/** Headers whose values are secrets. */
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization']);

/** The headers worth showing a reader; the rest is noise. */
const SHOWN_HEADERS = new Set([
  'authorization',
  'content-type',
  'content-length',
  'location',
  'www-authenticate',
  'retry-after',
  'cache-control',
  'cookie',
  'set-cookie',
]);

const MAX_BODY_CHARS = 2000;
const MAX_NOTE_CHARS = 1000;
// A transcript lives in its browser session: its size is bounded in events and in characters, so
// many API calls, or a flood of callbacks with huge query strings, cannot grow a session without end.
const MAX_EVENTS = 200;
const MAX_CHARS = 64_000;
// Secrets remembered for scrubbing; each new event is scrubbed against all of them, so they are few.
const MAX_SECRETS = 64;

// Many tokens share a prefix (every JWT starts "eyJhbGciOi"), so a prefix alone cannot tell two
// tokens apart. A short keyed fingerprint can: equal values get equal marks within this process,
// and the key, made fresh at every start, makes the mark useless for guessing the value.
const FINGERPRINT_KEY = randomBytes(32);

/**
 * `eyJhbGciOi…` → `eyJh…(1234 chars #a1b2)`: enough to follow a value, not enough to use it.
 * Long-lived secrets (the client secret) show no prefix at all: `withPrefix` false.
 * RFC 6750 §5.3: a token must not leak — not even into a transcript meant for reading.
 */
export function redactValue(value: string, withPrefix = true): string {
  const mark = createHmac('sha256', FINGERPRINT_KEY).update(value).digest('hex').slice(0, 4);
  const prefix = withPrefix && value.length > 8 ? value.slice(0, 4) : '';
  return `${prefix}…(${value.length} chars #${mark})`;
}

/** Names whose values are long-lived secrets: redacted without a prefix. */
const NO_PREFIX_NAMES = new Set(['client_secret']);

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
}

export interface CheckEvent {
  type: 'check';
  section: Step;
  at: string;
  code: CheckCode;
  rule: string;
  title: string;
  passed: boolean;
  /** For a failed check: the error's message (secrets scrubbed). */
  message: string | undefined;
}

export interface NoteEvent {
  type: 'note';
  section: Step;
  at: string;
  text: string;
}

export type TraceEvent = ExchangeEvent | CheckEvent | NoteEvent;

/** One sign-in's transcript. Values given to `knownSecrets` are scrubbed from everything. */
export class Trace {
  readonly events: TraceEvent[] = [];
  private readonly secrets = new Set<string>();

  constructor(knownSecrets: readonly string[] = []) {
    for (const secret of knownSecrets) this.rememberSecret(secret);
  }

  /** Hooks for a step's options: what the step does is filed under `section`. */
  hooks(section: Step): Required<Pick<HttpOptions, 'onExchange' | 'onCheck'>> {
    return {
      onExchange: (exchange) => this.push(this.exchangeEvent(section, exchange)),
      onCheck: (code, passed) => this.check(section, code, passed),
    };
  }

  /** Records a named check. The steps report passes; a failure comes from its thrown error. */
  check(section: Step, code: CheckCode, passed: boolean, message?: string): void {
    const { rule, title } = CHECKS[code];
    this.push({
      type: 'check',
      section,
      at: new Date().toISOString(),
      code,
      rule,
      title,
      passed,
      message: message === undefined ? undefined : this.scrub(message),
    });
  }

  /** Records the check that stopped a sign-in, so "why did my login fail" has an answer. */
  failure(section: Step, error: unknown): void {
    if (error instanceof QlikOAuthError) this.check(CHECKS[error.code].step === 'http' ? section : CHECKS[error.code].step, error.code, false, error.message);
    else this.note(section, `Unexpected failure: ${error instanceof Error ? error.name : 'unknown error'}`);
  }

  /** A line of explanation, e.g. "browser sent to the authorization endpoint". URLs in it are redacted. */
  note(section: Step, text: string): void {
    const clipped = text.length > MAX_NOTE_CHARS ? `${text.slice(0, MAX_NOTE_CHARS)}…(${text.length} chars in all)` : text;
    this.push({ type: 'note', section, at: new Date().toISOString(), text: this.scrub(redactUrlsIn(clipped, (v, name) => this.redact(v, name))) });
  }

  /** Redacts a secret and remembers it, so it is scrubbed wherever else it shows up. */
  redact(value: string, name = ''): string {
    this.rememberSecret(value);
    return redactValue(value, !NO_PREFIX_NAMES.has(name));
  }

  private rememberSecret(value: string): void {
    // Very short values (e.g. "1") would scrub innocent text; they are not secrets worth the name.
    if (value.length < 6 || this.secrets.has(value)) return;
    this.secrets.add(value);
    // The oldest go first: a Set iterates in insertion order.
    for (const oldest of this.secrets) {
      if (this.secrets.size <= MAX_SECRETS) break;
      this.secrets.delete(oldest);
    }
  }

  /** Replaces every known secret in free text (bodies we could not parse, error messages). */
  scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      // A secret found in free text is out of place: show none of it.
      if (out.includes(secret)) out = out.split(secret).join(redactValue(secret, false));
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join(redactValue(secret, false));
    }
    return out;
  }

  private readonly sizes: number[] = [];
  private chars = 0;

  private push(event: TraceEvent): void {
    const size = JSON.stringify(event).length;
    this.events.push(event);
    this.sizes.push(size);
    this.chars += size;
    while (this.events.length > 1 && (this.events.length > MAX_EVENTS || this.chars > MAX_CHARS)) {
      this.events.shift();
      this.chars -= this.sizes.shift()!;
    }
  }

  private exchangeEvent(section: Step, exchange: HttpExchange): ExchangeEvent {
    const redact = (v: string, name?: string) => this.redact(v, name);
    // Bodies first: that is where secrets are first seen (a token arrives in a response body
    // before it is used in a header), so the scrub of everything else knows them.
    const requestBody = redactBody(exchange.requestBody, exchange.requestHeaders['content-type'], redact);
    const responseBody = redactBody(exchange.responseBody, exchange.responseHeaders['content-type'], redact);
    return {
      type: 'exchange',
      section,
      at: new Date(Date.now() - exchange.durationMs).toISOString(),
      method: exchange.method,
      url: this.scrub(redactUrl(exchange.url, redact)),
      requestHeaders: redactHeaders(exchange.requestHeaders, redact),
      requestBody: requestBody === undefined ? undefined : this.scrub(requestBody),
      status: exchange.status,
      responseHeaders: redactHeaders(exchange.responseHeaders, redact),
      responseBody: responseBody === undefined ? undefined : this.scrub(responseBody),
      durationMs: Math.round(exchange.durationMs * 10) / 10,
      errorCode: exchange.errorCode,
    };
  }
}

/** Redacts the values of secret query parameters: `?code=abc…&state=…` (RFC 9700 §4.3: URLs end up in logs and history). */
export function redactUrl(url: string, redact: (value: string, name: string) => string = (v, name) => redactValue(v, !NO_PREFIX_NAMES.has(name))): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(unparsable URL)';
  }
  for (const [name, value] of [...parsed.searchParams]) {
    if (SECRET_NAMES.has(name)) parsed.searchParams.set(name, redact(value, name));
  }
  return parsed.href;
}

function redactUrlsIn(text: string, redact: (value: string, name: string) => string): string {
  return text.replace(/https?:\/\/[^\s"'<>]+/g, (url) => redactUrl(url, redact));
}

function redactHeaders(headers: Record<string, string>, redact: (value: string, name?: string) => string): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (!SHOWN_HEADERS.has(key)) continue;
    if (key === 'authorization') {
      // Keep the scheme, so the reader sees "Bearer …": RFC 6750 §2.1.
      const [scheme, ...rest] = value.split(' ');
      shown[key] = rest.length ? `${scheme} ${redact(rest.join(' '))}` : redact(value);
    } else {
      shown[key] = SECRET_HEADERS.has(key) ? redact(value) : value;
    }
  }
  return shown;
}

/** Redacts secret fields of a form or JSON body; other text is shortened and left to scrub(). */
function redactBody(
  body: string | undefined,
  contentType: string | undefined,
  redact: (value: string, name: string) => string,
): string | undefined {
  if (body === undefined || body === '') return body;
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(body);
    const shown = [...form].map(([name, value]) => `${name}=${SECRET_NAMES.has(name) ? redact(value, name) : value}`);
    return shown.join('&');
  }
  // Whatever the content type says: a token response sent as text/plain still holds tokens.
  try {
    return JSON.stringify(redactJson(JSON.parse(body), redact), null, 2).slice(0, MAX_BODY_CHARS);
  } catch {
    // Not JSON (an HTML page, truncated JSON): redact anything shaped like a secret field, then shorten.
  }
  const text = body.length > MAX_BODY_CHARS ? `${body.slice(0, MAX_BODY_CHARS)}…(${body.length} chars in all)` : body;
  return text.replace(SECRET_IN_TEXT, (_all, name: string, sep: string, value: string) => `${name}${sep}${redact(value, name)}`);
}

// `"access_token": "…"`, `refresh_token=…` and the like, in text that did not parse.
const SECRET_IN_TEXT = /((?:access|refresh|id)_token|client_secret|code_verifier)("?\s*[:=]\s*"?)([^"&\s,}]{6,})/g;

function redactJson(value: unknown, redact: (value: string, name: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => redactJson(item, redact));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      SECRET_JSON_KEYS.has(key) && typeof item === 'string' ? redact(item, key) : redactJson(item, redact),
    ]),
  );
}

/** `RFC 8414 §3.3` → the RFC Editor's link to that section; Qlik facts have no link. */
export function ruleHref(rule: string): string | undefined {
  const match = /^RFC (\d+) §([\d.]+)$/.exec(rule);
  return match ? `https://www.rfc-editor.org/rfc/rfc${match[1]}#section-${match[2]}` : undefined;
}

const SECTION_TITLES: Record<Step, string> = {
  config: 'Configuration',
  http: 'Network',
  '3.1': '3.1 Discover the tenant',
  '3.2': '3.2 Send the user to sign in',
  '3.3': '3.3 Take the callback, exchange the code',
  '3.4': '3.4 Call the Qlik API',
  lifecycle: 'Beyond the tutorial: refresh, revoke, paging',
};

/** The heading of a tutorial section in the transcript (display only: no protocol rule). */
export function sectionTitle(section: Step): string {
  return SECTION_TITLES[section];
}

/**
 * A text transcript for the console: one line per request and per failed check, passed checks
 * gathered on one line. With `detail`, each request's headers and bodies are shown too (docs/).
 */
export function formatTranscript(events: readonly TraceEvent[], { detail = false } = {}): string {
  const lines: string[] = [];
  let section: Step | undefined;
  let held: string[] = [];
  const flushHeld = () => {
    if (held.length) lines.push(`   ✓ ${held.length} checks held: ${held.join(', ')}`);
    held = [];
  };
  for (const event of events) {
    if (event.type !== 'check' || !event.passed || event.section !== section) flushHeld();
    if (event.section !== section) {
      section = event.section;
      lines.push(`── ${sectionTitle(section)}`);
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
      if (event.passed) held.push(event.code);
      else lines.push(`   ✗ ${event.code} [${event.rule}] ${event.message ?? event.title}`);
    } else {
      lines.push(`   · ${event.text}`);
    }
  }
  flushHeld();
  return lines.join('\n');
}

function indented(arrow: string, headers: Record<string, string>, body: string | undefined): string[] {
  const lines = Object.entries(headers).map(([name, value]) => `     ${arrow} ${name}: ${value}`);
  if (body) lines.push(...body.split('\n').map((line) => `     ${arrow}   ${line}`));
  return lines;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 320 ? `${flat.slice(0, 320)}…` : flat;
}
