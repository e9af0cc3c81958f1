// Reading request parameters: the query string, and POST bodies as form or JSON.
import type { IncomingMessage } from 'node:http';
import { HTTP } from './error-codes.ts';
import { QlikFailure } from './respond.ts';

/** No OAuth request needs more; a cap stops a client from filling the sandbox's memory. */
export const MAX_BODY_BYTES = 64 * 1024;

function tooLarge(): QlikFailure {
  // Connection: close, so Node drops the rest of an oversized upload instead of reading it.
  return new QlikFailure(413, HTTP.tooLarge, `The request body is larger than ${MAX_BODY_BYTES} bytes.`, {
    connection: 'close',
  });
}

/** Reads the whole body as UTF-8 text, refusing more than MAX_BODY_BYTES. */
export function readBody(req: IncomingMessage): Promise<string> {
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        chunks.length = 0; // keep nothing more; the response below closes the connection
        reject(tooLarge());
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A POST body as parameters. RFC 6749 §4.1.3 and RFC 7009 §2.1 use application/x-www-form-urlencoded;
 * Qlik also accepts JSON (what @qlik/api sends), whose nested objects (impersonation's
 * `user_lookup: { field, value }`) become `user_lookup[field]` and `user_lookup[value]`, the names a
 * form body would use for them.
 */
export async function readBodyParams(req: IncomingMessage): Promise<URLSearchParams> {
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded' && mediaType !== 'application/json') {
    throw new QlikFailure(
      400,
      HTTP.badRequest,
      `Send the body as application/x-www-form-urlencoded (or application/json), not "${mediaType.slice(0, 60) || 'nothing'}".`,
    );
  }
  const text = await readBody(req);
  if (mediaType === 'application/x-www-form-urlencoded') return new URLSearchParams(text);
  return jsonToParams(text);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonToParams(text: string): URLSearchParams {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new QlikFailure(400, HTTP.badRequest, 'The body is not valid JSON.');
  }
  if (!isObject(parsed)) {
    throw new QlikFailure(400, HTTP.badRequest, 'The JSON body must be an object.');
  }
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'string') {
      params.append(name, value);
    } else if (isObject(value)) {
      for (const [key, inner] of Object.entries(value)) {
        if (typeof inner !== 'string') throw notString(`${name}.${key}`);
        params.append(`${name}[${key}]`, inner);
      }
    } else {
      throw notString(name);
    }
  }
  return params;
}

function notString(name: string): QlikFailure {
  return new QlikFailure(400, HTTP.badRequest, `The JSON field "${name.slice(0, 60)}" must be a string.`);
}

/** RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted." */
export function param(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  return value === null || value === '' ? undefined : value;
}

/**
 * RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
 * Returns the names from `names` that appear twice or more (unknown parameters are ignored, as §3.1 says).
 */
export function repeatedParams(params: URLSearchParams, names: readonly string[]): string[] {
  return names.filter((name) => params.getAll(name).length > 1);
}
