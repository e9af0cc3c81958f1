// CORS for single-page apps: Qlik lets an SPA client list the origins its browser code runs on, so
// that code can call the token endpoint and the REST APIs directly (Fetch standard, CORS protocol).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from './context.ts';
import { HTTP } from './error-codes.ts';
import { QlikFailure } from './respond.ts';

/** Paths a browser app calls itself. Authorize is a navigation, not a fetch: no CORS there. */
function corsPath(path: string): boolean {
  return path === '/oauth/token' || path === '/oauth/revoke' || path.startsWith('/api/v1/');
}

function allowedOrigin(ctx: SandboxContext, origin: string): boolean {
  for (const client of ctx.clients.values()) if (client.allowedOrigins.includes(origin)) return true;
  return false;
}

/**
 * Adds the CORS headers for an allowed Origin, and answers a preflight (OPTIONS) itself.
 * Returns true when the request is answered. An origin no client lists gets no CORS headers, so the
 * browser keeps the answer from its page; its preflight is refused outright.
 */
export function handleCors(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, path: string): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || !corsPath(path)) return false;
  const allowed = allowedOrigin(ctx, origin);
  res.setHeader('vary', 'Origin');
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin);
    // The client must read these to handle a 429 or a 401 challenge.
    res.setHeader('access-control-expose-headers', 'retry-after, www-authenticate, location');
  }
  if (req.method !== 'OPTIONS') return false;
  if (!allowed) throw new QlikFailure(403, HTTP.forbidden, `The origin ${origin.slice(0, 100)} is not an allowed origin of any single-page-app client.`);
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, DELETE',
    'access-control-allow-headers': 'authorization, content-type',
    'access-control-max-age': '600',
    'content-length': '0',
  });
  res.end();
  return true;
}
