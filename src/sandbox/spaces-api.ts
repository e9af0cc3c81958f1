// /api/v1/spaces: a paged list (GET), one space (GET, DELETE /{id}), and a write (POST) with Qlik's
// shapes: `{ data, links: { self, next? }, meta: { count } }` and `{ errors: [{ code, title, detail }], traceId }`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from './context.ts';
import { HTTP, SPACES } from './error-codes.ts';
import { QlikFailure, sendJson } from './respond.ts';
import { readBody } from './params.ts';
import { requireAccessToken } from './bearer.ts';
import { API_SCOPE } from './api.ts';
import { SPACE_TYPES, userId, type Space } from './fake-data.ts';
import { addSpace, findSpaceByName, MAX_SPACES, spaceJson } from './spaces-store.ts';

const DEFAULT_LIMIT = 5;
const MAX_LIMIT = 100;

/**
 * GET /api/v1/spaces, the way Qlik pages: `limit`, an opaque `next` cursor, and absolute
 * `links.next.href` that a client follows as given until there is no `next`.
 */
export function handleSpaces(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, query: URLSearchParams): void {
  requireAccessToken(req, ctx, API_SCOPE);

  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new QlikFailure(400, HTTP.badRequest, `limit must be a whole number from 1 to ${MAX_LIMIT}.`);
  }
  const all = [...ctx.spaces.byId.values()];
  const cursor = query.get('next');
  const offset = cursor === null ? 0 : offsetFromCursor(cursor, all.length);

  const links: Record<string, { href: string }> = { self: { href: pageHref(ctx, limit, cursor) } };
  if (offset + limit < all.length) links.next = { href: pageHref(ctx, limit, cursorFor(offset + limit)) };
  const data = all.slice(offset, offset + limit).map((space) => spaceJson(space, ctx.url));
  sendJson(res, 200, { data, links, meta: { count: all.length } });
}

/** POST /api/v1/spaces with JSON `{ name, type?, description? }` → 201 and the new space. */
export async function handleCreateSpace(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): Promise<void> {
  const token = requireAccessToken(req, ctx, API_SCOPE);
  const fields = validateSpace(await readJsonObject(req));
  if (findSpaceByName(ctx.spaces, fields.name) !== undefined) {
    throw new QlikFailure(409, SPACES.conflict, `A space named "${fields.name.slice(0, 100)}" already exists. Choose another name.`);
  }
  if (ctx.spaces.byId.size >= MAX_SPACES) {
    throw new QlikFailure(403, SPACES.tooMany, `The sandbox holds at most ${MAX_SPACES} spaces. Delete some first.`);
  }
  const space = addSpace(ctx.spaces, { ...fields, ownerId: userId(token.user) }, ctx.now());
  sendJson(res, 201, spaceJson(space, ctx.url), { location: `${ctx.url}/api/v1/spaces/${space.id}` });
}

/** GET and DELETE /api/v1/spaces/{id}. */
export function handleSpace(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, id: string): void {
  requireAccessToken(req, ctx, API_SCOPE);
  const space = ctx.spaces.byId.get(id);
  if (space === undefined) throw new QlikFailure(404, SPACES.notFound, `No space with id "${id.slice(0, 60)}".`);
  if (req.method === 'DELETE') {
    ctx.spaces.byId.delete(id);
    res.writeHead(204, { 'cache-control': 'no-store' });
    res.end();
    return;
  }
  sendJson(res, 200, spaceJson(space, ctx.url));
}

async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new QlikFailure(400, SPACES.badRequest, `Send the space as application/json, not "${mediaType.slice(0, 60) || 'nothing'}".`);
  }
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch (error) {
    if (error instanceof QlikFailure) throw error;
    throw new QlikFailure(400, SPACES.badRequest, 'The body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new QlikFailure(400, SPACES.badRequest, 'The body must be a JSON object: {"name": "…", "type": "shared"}.');
  }
  return body as Record<string, unknown>;
}

function validateSpace(body: Record<string, unknown>): { name: string; type: Space['type']; description?: string } {
  const { name, type = 'shared', description } = body;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 256) {
    throw new QlikFailure(400, SPACES.badRequest, 'name is required: a string of 1 to 256 characters.');
  }
  const types: readonly unknown[] = SPACE_TYPES;
  if (!types.includes(type)) {
    throw new QlikFailure(400, SPACES.badRequest, `type must be one of ${SPACE_TYPES.join(', ')}.`);
  }
  if (description !== undefined && (typeof description !== 'string' || description.length > 1024)) {
    throw new QlikFailure(400, SPACES.badRequest, 'description must be a string of at most 1024 characters.');
  }
  return { name, type: type as Space['type'], ...(description === undefined ? {} : { description }) };
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

function offsetFromCursor(cursor: string, count: number): number {
  const match = /^spaces:(\d{1,4})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offset = match ? Number(match[1]) : NaN;
  if (!(offset > 0 && offset < count)) {
    throw new QlikFailure(400, HTTP.badRequest, 'The next cursor is not one this API gave out. Follow links.next.href as given.');
  }
  return offset;
}
