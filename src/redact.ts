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
const SECRET_FIELDS = ['client_secret', 'code_verifier', 'access_token', 'refresh_token', 'id_token', 'client_assertion'];
const SECRET_JSON_KEYS: ReadonlySet<string> = new Set(SECRET_FIELDS);
const SECRET_NAMES: ReadonlySet<string> = new Set([...SECRET_FIELDS, 'code', 'token', 'state']);
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization']);
/** Long-lived secrets: redacted without a prefix. */
const NO_PREFIX_NAMES: ReadonlySet<string> = new Set(['client_secret', 'authorization-basic']);

/** Bodies are cut to this many characters in the transcript. */
const MAX_BODY_CHARS = 2000;
/** A URL longer than this is not parsed at all: its query is dropped from what is shown. */
export const MAX_URL_CHARS = 16_384;

// Many tokens share a prefix (every JWT starts "eyJhbGciOi"), so a prefix alone cannot tell two
// tokens apart. A short keyed fingerprint can: equal values get equal marks within this process,
// and the key, made fresh in every process, makes the mark useless for guessing the value. Made at
// first use, not when this module loads: a Cloudflare Worker refuses random values in global scope.
let fingerprintKey: Buffer | undefined;

function key(): Buffer {
  fingerprintKey ??= randomBytes(32);
  return fingerprintKey;
}

/** `eyJhbGciOi…` → `eyJh…(1234 chars #a1b2)`. Long-lived secrets (`withPrefix` false) show no prefix. */
export function redactValue(value: string, withPrefix = true): string {
  const mark = createHmac('sha256', key()).update(value).digest('hex').slice(0, 4);
  const prefix = withPrefix && value.length > 8 ? value.slice(0, 4) : '';
  return `${prefix}…(${value.length} chars #${mark})`;
}

/** Shorter values (e.g. "1") would scrub innocent text: they are not secrets worth the name. */
const MIN_SECRET_CHARS = 6;
/**
 * A remembered secret's first characters: where a search for it starts. At most 12, so that V8
 * copies them (it keeps a longer slice as a view that holds the whole value in memory).
 */
const HEAD_CHARS = 12;
/** The most secrets one memory keeps: every text is scrubbed against each of them. */
export const MAX_SECRETS = 64;

/** A secret as remembered: enough to find it again, and the same few bytes for a secret of any length. */
interface Remembered {
  head: string;
  length: number;
  hash: string;
  /** True for the form a URL or a form body carries it in: decoded before it is marked. */
  encoded: boolean;
}

/**
 * The secrets seen so far, to scrub from free text (error messages, a tenant's description that
 * repeats what it was sent, bodies that do not parse). Each function below redacts what it finds
 * under a secret name, remembers it, and scrubs the text it returns. Past `limit`, the oldest go.
 */
export class SecretMemory {
  readonly #remembered: Remembered[] = [];
  #limit: number;

  constructor(secrets: Iterable<string> = [], limit = MAX_SECRETS) {
    this.#limit = limit;
    for (const secret of secrets) this.remember(secret);
  }

  /** How many values are remembered (a secret counts once for each form it differs in). */
  get size(): number {
    return this.#remembered.length;
  }

  limitTo(limit: number): void {
    this.#limit = limit;
    this.#remembered.splice(0, Math.max(0, this.#remembered.length - limit));
  }

  remember(value: string): void {
    if (value.length < MIN_SECRET_CHARS) return;
    // As sent, and as a URL or a form body carries it: a tenant may echo any of them.
    for (const form of new Set([value, encodeURIComponent(value), formEncoded(value)])) {
      const hash = shortHash(form);
      if (this.#remembered.some((known) => known.hash === hash)) continue;
      this.#remembered.push({ head: form.slice(0, HEAD_CHARS), length: form.length, hash, encoded: form !== value });
    }
    this.limitTo(this.#limit);
  }

  /** The mark of a value found under a secret name: a prefix for short-lived values, none for the client secret. */
  secret(value: string, name: string): string {
    this.remember(value);
    return redactValue(value, !NO_PREFIX_NAMES.has(name));
  }

  /**
   * Shortens text for showing: scrubs it first, then cuts. Cut first, a secret across the cut would
   * keep its first characters, which no scrub of whole values recognises any more.
   */
  cut(text: string, max: number): string {
    return clip(this.scrub(text), max);
  }

  /** Replaces each remembered secret in the text by its mark, without a prefix: out of place, it shows none of itself. */
  scrub(text: string): string {
    let out = text;
    for (const { head, length, hash, encoded } of this.#remembered) {
      let at = out.indexOf(head);
      while (at !== -1) {
        const found = out.slice(at, at + length);
        if (found.length === length && shortHash(found) === hash) {
          const mark = redactValue(encoded ? decodeParam(found) : found, false);
          out = out.slice(0, at) + mark + out.slice(at + length);
          at += mark.length;
        } else {
          at += 1;
        }
        at = out.indexOf(head, at);
      }
    }
    return out;
  }
}

/** 72 bits of the keyed hash, in 12 characters (copied, like HEAD_CHARS). */
function shortHash(value: string): string {
  return createHmac('sha256', key()).update(value).digest('base64url').slice(0, 12);
}

/**
 * Redacts the values of secret query parameters: `?code=abc…&state=…` (RFC 9700 §4.3: URLs end up
 * in logs and history), then scrubs the known secrets. One pass over the parameters, so a URL with
 * thousands of them costs no more than reading it; a URL too long to be a real link loses its
 * query altogether.
 */
export function redactUrl(url: string, secrets = new SecretMemory()): string {
  if (url.length > MAX_URL_CHARS) {
    const queryAt = url.search(/[?#]/);
    const base = queryAt === -1 ? url : url.slice(0, queryAt);
    return `${secrets.cut(base, 200)}${queryAt === -1 ? '' : `?…(${url.length - queryAt} chars of query, not shown)`}`;
  }
  if (!URL.canParse(url)) return '(unparsable URL)';
  const parsed = new URL(url);
  if (parsed.search === '') return secrets.scrub(parsed.href);
  // Each parameter as it came, but a secret's value replaced by its mark, left readable (not
  // percent-encoded): the result is for reading, not for fetching.
  const shown = parsed.search
    .slice(1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const rawName = equals === -1 ? pair : pair.slice(0, equals);
      const name = decodeParam(rawName);
      return SECRET_NAMES.has(name) ? `${rawName}=${secrets.secret(decodeParam(pair.slice(equals + 1)), name)}` : pair;
    });
  return secrets.scrub(`${parsed.origin}${parsed.pathname}?${shown.join('&')}${parsed.hash}`);
}

/** application/x-www-form-urlencoded decoding of one name or value, never throwing on bad escapes. */
function decodeParam(text: string): string {
  return new URLSearchParams(`v=${text}`).get('v') ?? '';
}

/** A value as an application/x-www-form-urlencoded body carries it (spaces as "+"). */
function formEncoded(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** How many parameters of one query or form are listed one by one; the rest are counted, not shown. */
const MAX_LISTED_PARAMS = 40;

/**
 * A query or form body as decoded name/value pairs for a reader's table, each secret replaced by its
 * mark (RFC 9700 §4.3), the others scrubbed and cut; past MAX_LISTED_PARAMS, one pair counts the rest.
 */
export function redactForm(query: string, secrets = new SecretMemory()): [string, string][] {
  const pairs: [string, string][] = [];
  let count = 0;
  for (const [name, value] of new URLSearchParams(query)) {
    if (++count > MAX_LISTED_PARAMS) continue;
    pairs.push([secrets.cut(name, 100), SECRET_NAMES.has(name) ? secrets.secret(value, name) : secrets.cut(value, MAX_BODY_CHARS)]);
  }
  if (count > MAX_LISTED_PARAMS) pairs.push(['…', `${count - MAX_LISTED_PARAMS} more parameters, not shown`]);
  return pairs;
}

export const URL_IN_TEXT = /https?:\/\/[^\s"'<>]+/g;

/** Every http(s) URL inside free text, redacted (notes that mention a callback URL, say). */
export function redactUrlsIn(text: string, secrets = new SecretMemory()): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url, secrets));
}

/**
 * Redacts secret headers, and scrubs the others (a WWW-Authenticate challenge may repeat the token);
 * the scheme of an Authorization header stays, so the reader sees "Bearer …".
 */
export function redactHeaders(headers: Record<string, string>, shownNames: ReadonlySet<string>, secrets = new SecretMemory()): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (!shownNames.has(key)) continue;
    if (key === 'authorization') {
      // RFC 6750 §2.1 Bearer, RFC 6749 §2.3.1 Basic (the client's id and secret: no prefix).
      const [scheme, ...rest] = value.split(' ');
      const basic = scheme?.toLowerCase() === 'basic';
      shown[key] = rest.length ? `${scheme} ${secrets.secret(rest.join(' '), basic ? 'authorization-basic' : key)}` : secrets.secret(value, key);
    } else {
      shown[key] = SECRET_HEADERS.has(key) ? secrets.secret(value, key) : secrets.scrub(value);
    }
  }
  return shown;
}

/**
 * Redacts the secret fields of a form or JSON body, and of text that does not parse (anything
 * shaped like a secret field); then scrubs the known secrets, then cuts to MAX_BODY_CHARS.
 */
export function redactBody(body: string | undefined, contentType: string | undefined, secrets = new SecretMemory()): string | undefined {
  if (body === undefined || body === '') return body;
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('application/x-www-form-urlencoded')) {
    return secrets.cut(redactForm(body, secrets).map(([name, value]) => `${name}=${value}`).join('&'), MAX_BODY_CHARS);
  }
  // Whatever the content type says: a token response sent as text/plain still holds tokens.
  try {
    return secrets.cut(JSON.stringify(redactJson(JSON.parse(body), secrets), null, 2), MAX_BODY_CHARS);
  } catch {
    // Not JSON (an HTML page, truncated JSON).
  }
  const redacted = body.replace(SECRET_IN_TEXT, (_all, name: string, sep: string, value: string) => `${name}${sep}${secrets.secret(value, name)}`);
  return secrets.cut(redacted, MAX_BODY_CHARS);
}

// `"access_token": "…"`, `refresh_token=…` and the like, in text that did not parse.
const SECRET_IN_TEXT = new RegExp(`(${SECRET_FIELDS.join('|')})("?\\s*[:=]\\s*"?)([^"&\\s,}]{6,})`, 'g');

/** Secret keys anywhere in a JSON value, nested ones included, are redacted. */
function redactJson(value: unknown, secrets = new SecretMemory()): unknown {
  if (Array.isArray(value)) return value.map((item) => redactJson(item, secrets));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, SECRET_JSON_KEYS.has(key) && typeof item === 'string' ? secrets.secret(item, key) : redactJson(item, secrets)]),
  );
}

/**
 * Removes control characters (ESC, OSC, BEL, CR…) from a line meant for a terminal or a log, so
 * that nothing a browser or a tenant sent can clear the screen, retitle it or forge a line; each
 * shows as `\x1b`-style text instead. Tabs stay; newlines only when `keepNewlines`.
 */
export function escapeControl(text: string, keepNewlines = false): string {
  const control = keepNewlines ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g : /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;
  return text.replace(control, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
