// The two Qlik REST routes the sandbox serves: GET /api/v1/users/me and GET /api/v1/spaces.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from './context.ts';
import { HTTP } from './error-codes.ts';
import { QlikFailure, sendJson } from './respond.ts';
import { requireAccessToken } from './bearer.ts';
import { SPACES, userFor } from './fake-data.ts';

/** Qlik: the REST APIs need the user_default scope. */
const API_SCOPE = 'user_default';

/** Qlik's "userinfo": the signed-in user, found from the token alone. */
export function handleUsersMe(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): void {
  const token = requireAccessToken(req, ctx, API_SCOPE);
  sendJson(res, 200, userFor(token.user, ctx.url));
}

const DEFAULT_LIMIT = 5;
const MAX_LIMIT = 100;

/**
 * A paged list, the way Qlik pages: `limit`, an opaque `next` cursor, and absolute `links.next.href`
 * that a client follows as given until there is no `next`.
 */
export function handleSpaces(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, query: URLSearchParams): void {
  requireAccessToken(req, ctx, API_SCOPE);

  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new QlikFailure(400, HTTP.badRequest, `limit must be a whole number from 1 to ${MAX_LIMIT}.`);
  }
  const cursor = query.get('next');
  const offset = cursor === null ? 0 : offsetFromCursor(cursor);

  const links: Record<string, { href: string }> = { self: { href: pageHref(ctx, limit, cursor) } };
  if (offset + limit < SPACES.length) links.next = { href: pageHref(ctx, limit, cursorFor(offset + limit)) };
  const data = SPACES.slice(offset, offset + limit);
  sendJson(res, 200, { data, links });
}

function pageHref(ctx: SandboxContext, limit: number, cursor: string | null): string {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor !== null) query.set('next', cursor);
  return `${ctx.url}/api/v1/spaces?${query}`;
}

/** Cursors are opaque to clients; here one is just the base64url of the next position. */
function cursorFor(offset: number): string {
  return Buffer.from(`spaces:${offset}`).toString('base64url');
}

function offsetFromCursor(cursor: string): number {
  const match = /^spaces:(\d{1,4})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offset = match ? Number(match[1]) : NaN;
  if (!(offset > 0 && offset < SPACES.length)) {
    throw new QlikFailure(400, HTTP.badRequest, 'The next cursor is not one this API gave out. Follow links.next.href as given.');
  }
  return offset;
}
