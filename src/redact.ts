// Redaction: the one file an auditor reads to check that no secret leaks into the transcript, a
// page or a log. Every secret is shown as a short prefix, its length and a keyed fingerprint
// (`eyJh…(1234 chars #a1b2)`): enough to follow a value from request to response, never enough to
// use it. RFC 6750 §5.3 and RFC 9700 §4.3: tokens and codes must not leak — not even into a
// transcript meant for reading.

import { createHmac, randomBytes } from 'node:crypto';
import { clip } from './errors.ts';

/**
 * Every name whose value is a secret, in any place it can appear: JSON keys, form fields, query
 * parameters. Written once. `code` and `state` are secrets only in forms and URLs: in JSON, `code`
 * is an error code (Qlik's `errors[].code`).
 */
const SECRET_FIELDS = ['client_secret', 'code_verifier', 'access_token', 'refresh_token', 'id_token', 'client_assertion'] as const;
const SECRET_PARAMS = [...SECRET_FIELDS, 'code', 'token', 'state'] as const;
export const SECRET_JSON_KEYS: ReadonlySet<string> = new Set(SECRET_FIELDS);
export const SECRET_NAMES: ReadonlySet<string> = new Set(SECRET_PARAMS);
/** Headers whose values are secrets. */
export const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization']);
/** Long-lived secrets: redacted without a prefix. */
const NO_PREFIX_NAMES: ReadonlySet<string> = new Set(['client_secret', 'authorization-basic']);

/** Bodies are cut to this many characters in the transcript. */
export const MAX_BODY_CHARS = 2000;
/** A URL longer than this is not parsed at all: its query is dropped from what is shown. */
export const MAX_URL_CHARS = 16_384;

// Many tokens share a prefix (every JWT starts "eyJhbGciOi"), so a prefix alone cannot tell two
// tokens apart. A short keyed fingerprint can: equal values get equal marks within this process,
// and the key, made fresh at every start, makes the mark useless for guessing the value.
const FINGERPRINT_KEY = randomBytes(32);

/** How a caller redacts one value: it may also remember it, to scrub it elsewhere (Trace does). */
export type Redactor = (value: string, name: string) => string;

/** `eyJhbGciOi…` → `eyJh…(1234 chars #a1b2)`. Long-lived secrets (`withPrefix` false) show no prefix. */
export function redactValue(value: string, withPrefix = true): string {
  const mark = createHmac('sha256', FINGERPRINT_KEY).update(value).digest('hex').slice(0, 4);
  const prefix = withPrefix && value.length > 8 ? value.slice(0, 4) : '';
  return `${prefix}…(${value.length} chars #${mark})`;
}

/** True when a redacted value may show its first characters: not for long-lived secrets. */
export function showsPrefix(name: string): boolean {
  return !NO_PREFIX_NAMES.has(name);
}

/** The default redactor: a prefix for short-lived values, none for the client secret. */
export const redactByName: Redactor = (value, name) => redactValue(value, showsPrefix(name));

/**
 * Redacts the values of secret query parameters: `?code=abc…&state=…` (RFC 9700 §4.3: URLs end up
 * in logs and history). One pass over the parameters, so a URL with thousands of them costs no
 * more than reading it; a URL too long to be a real link loses its query altogether.
 */
export function redactUrl(url: string, redact: Redactor = redactByName): string {
  if (url.length > MAX_URL_CHARS) {
    const queryAt = url.search(/[?#]/);
    const base = queryAt === -1 ? url : url.slice(0, queryAt);
    return `${clip(base, 200)}${queryAt === -1 ? '' : `?…(${url.length - queryAt} chars of query, not shown)`}`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(unparsable URL)';
  }
  if (parsed.search === '') return parsed.href;
  // Each parameter as it came, but a secret's value replaced by its mark, left readable (not
  // percent-encoded): the result is for reading, not for fetching.
  const shown = parsed.search
    .slice(1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const rawName = equals === -1 ? pair : pair.slice(0, equals);
      const name = decodeParam(rawName);
      return SECRET_NAMES.has(name) ? `${rawName}=${redact(decodeParam(pair.slice(equals + 1)), name)}` : pair;
    });
  return `${parsed.origin}${parsed.pathname}?${shown.join('&')}${parsed.hash}`;
}

/** application/x-www-form-urlencoded decoding of one name or value, never throwing on bad escapes. */
function decodeParam(text: string): string {
  return new URLSearchParams(`v=${text}`).get('v') ?? '';
}

/** How many parameters of one query or form are listed one by one; the rest are counted, not shown. */
export const MAX_LISTED_PARAMS = 40;

/**
 * A query or form body as decoded name/value pairs, each secret replaced by its mark (RFC 9700
 * §4.3), for a reader's table: no percent-encoding, no mark inside an escape. Other values are cut
 * to MAX_BODY_CHARS; past MAX_LISTED_PARAMS pairs, one last pair says how many were left out.
 */
export function redactForm(query: string, redact: Redactor = redactByName): [string, string][] {
  const pairs: [string, string][] = [];
  let count = 0;
  for (const [name, value] of new URLSearchParams(query)) {
    if (++count > MAX_LISTED_PARAMS) continue;
    pairs.push([clip(name, 100), SECRET_NAMES.has(name) ? redact(value, name) : clip(value, MAX_BODY_CHARS)]);
  }
  if (count > MAX_LISTED_PARAMS) pairs.push(['…', `${count - MAX_LISTED_PARAMS} more parameters, not shown`]);
  return pairs;
}

/** Every http(s) URL inside free text, redacted (notes that mention a callback URL, say). */
export function redactUrlsIn(text: string, redact: Redactor = redactByName): string {
  return text.replace(/https?:\/\/[^\s"'<>]+/g, (url) => redactUrl(url, redact));
}

/** Redacts secret headers; the scheme of an Authorization header stays, so the reader sees "Bearer …". */
export function redactHeaders(headers: Record<string, string>, shownNames: ReadonlySet<string>, redact: Redactor = redactByName): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (!shownNames.has(key)) continue;
    if (key === 'authorization') {
      // RFC 6750 §2.1 Bearer, RFC 6749 §2.3.1 Basic (the client's id and secret: no prefix).
      const [scheme, ...rest] = value.split(' ');
      const basic = scheme?.toLowerCase() === 'basic';
      shown[key] = rest.length ? `${scheme} ${redact(rest.join(' '), basic ? 'authorization-basic' : key)}` : redact(value, key);
    } else {
      shown[key] = SECRET_HEADERS.has(key) ? redact(value, key) : value;
    }
  }
  return shown;
}

/** Redacts secret fields of a form or JSON body; other text is shortened and secret-shaped fields in it redacted. */
export function redactBody(body: string | undefined, contentType: string | undefined, redact: Redactor = redactByName): string | undefined {
  if (body === undefined || body === '') return body;
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('application/x-www-form-urlencoded')) {
    return clip(redactForm(body, redact).map(([name, value]) => `${name}=${value}`).join('&'), MAX_BODY_CHARS);
  }
  // Whatever the content type says: a token response sent as text/plain still holds tokens.
  try {
    return clip(JSON.stringify(redactJson(JSON.parse(body), redact), null, 2), MAX_BODY_CHARS);
  } catch {
    // Not JSON (an HTML page, truncated JSON): redact anything shaped like a secret field, then shorten.
  }
  return clip(body, MAX_BODY_CHARS).replace(SECRET_IN_TEXT, (_all, name: string, sep: string, value: string) => `${name}${sep}${redact(value, name)}`);
}

// `"access_token": "…"`, `refresh_token=…` and the like, in text that did not parse.
const SECRET_IN_TEXT = new RegExp(`(${SECRET_FIELDS.join('|')})("?\\s*[:=]\\s*"?)([^"&\\s,}]{6,})`, 'g');

/** Secret keys anywhere in a JSON value, nested ones included, are redacted. */
export function redactJson(value: unknown, redact: Redactor = redactByName): unknown {
  if (Array.isArray(value)) return value.map((item) => redactJson(item, redact));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, SECRET_JSON_KEYS.has(key) && typeof item === 'string' ? redact(item, key) : redactJson(item, redact)]),
  );
}

/**
 * Removes control characters (ESC, OSC, BEL, CR…) from a line meant for a terminal or a log, so
 * that nothing a browser or a tenant sent can clear the screen, retitle it or forge a line; each
 * shows as `\x1b`-style text instead. Tabs stay; newlines only when `keepNewlines`.
 */
export function escapeControl(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g : /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
