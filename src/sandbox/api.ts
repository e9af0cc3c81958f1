// Qlik's REST APIs on the sandbox, behind the bearer token check (RFC 6750): /api/v1/users/me (the
// call a sign-in ends with) and the user it redirects to, and /api/v1/spaces: a paged list, one space,
// and a write, in Qlik's shapes: `{ data, links: { self, next?, prev? }, meta: { count } }` and
// `{ errors: [{ code, title, detail, status }], traceId }`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { SandboxContext } from './context.ts';
import { HTTP, SPACES } from './error-codes.ts';
import { mediaTypeOf, parseJsonObject, QlikFailure, readBody, sendHtml, sendJson } from './http.ts';
import type { TokenRecord } from './store.ts';
import { SPACE_TYPES, TENANT_ID, userFor, userId, type Space } from './fake-data.ts';

/** Qlik: the REST APIs need the user_default scope. */
const API_SCOPE = 'user_default';

/** RFC 6750 §2.1: `Authorization: Bearer <b64token>`; the scheme name is case-insensitive (RFC 9110 §11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Returns the access token's record, or throws the 401/403 with the WWW-Authenticate challenge. */
function requireAccessToken(req: IncomingMessage, ctx: SandboxContext): TokenRecord {
  const header = req.headers.authorization;
  // RFC 6750 §3.1: a request with no bearer credentials gets a challenge without an error code.
  if (header === undefined || !/^bearer\b/i.test(header)) throw unauthorized('Send the access token in an Authorization: Bearer header.', undefined);
  const token = BEARER.exec(header)?.[1];
  const record = token === undefined ? undefined : ctx.store.tokens.get(token);
  // A refresh token is not an access token: it is only ever sent to /oauth/token.
  if (record === undefined || record.kind !== 'access') throw unauthorized('The access token is unknown. Sign in again.', 'invalid_token');
  if (record.revoked) throw unauthorized('The access token was revoked. Sign in again.', 'invalid_token');
  if (record.expiresAt <= ctx.now()) throw unauthorized('The access token has expired. Refresh it, or sign in again.', 'invalid_token');
  // RFC 6750 §3.1 insufficient_scope: a valid token without the scope this API needs → 403.
  // [?] Whether Qlik's 403 carries the challenge is unknown: challengeOn403 switches it.
  if (!record.scopes.includes(API_SCOPE)) {
    const challenge = { 'www-authenticate': `Bearer realm="qlik", error="insufficient_scope", scope="${API_SCOPE}"` };
    throw new QlikFailure(403, HTTP.forbidden, `This API needs the ${API_SCOPE} scope; the token has: ${record.scopes.join(' ')}.`, ctx.challengeOn403 ? challenge : {});
  }
  return record;
}

function unauthorized(detail: string, error: 'invalid_token' | undefined): QlikFailure {
  const challenge = error === undefined ? 'Bearer realm="qlik"' : `Bearer realm="qlik", error="${error}"`;
  return new QlikFailure(401, HTTP.unauthorized, detail, { 'www-authenticate': challenge });
}

/**
 * GET /api/v1/users/me. Qlik documents one answer: 301 (text/html) to /api/v1/users/{userId}, which every
 * Qlik SDK follows; relative (RFC 9110 §10.2.2), so same origin. usersMeRedirect: false answers at once.
 */
export function handleUsersMe(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): void {
  const token = requireAccessToken(req, ctx);
  if (!ctx.usersMeRedirect) return sendJson(res, 200, userFor(token.user, ctx.url));
  const location = `/api/v1/users/${userId(token.user)}`;
  sendHtml(res, 301, `<!doctype html><p>Moved Permanently. Redirecting to <a href="${location}">${location}</a></p>\n`, { location });
}

/** GET /api/v1/users/{id}: the token's own user; the sandbox shows no one else. */
export function handleUser(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, id: string): void {
  const token = requireAccessToken(req, ctx);
  if (id !== userId(token.user)) throw new QlikFailure(404, HTTP.notFound, `No user "${id.slice(0, 60)}" for this token: the sandbox shows each token its own user only (GET /api/v1/users/me).`);
  sendJson(res, 200, userFor(token.user, ctx.url));
}

/** A cap, so a client creating spaces in a loop cannot fill the sandbox's memory. */
const MAX_SPACES = 1_000;
const DEFAULT_LIMIT = 5;
const MAX_LIMIT = 100;

/** A space as the API shows it: Qlik's fields plus its absolute links. */
function spaceJson(space: Space, baseUrl: string): Record<string, unknown> {
  const self = `${baseUrl}/api/v1/spaces/${space.id}`;
  return { ...space, links: { self: { href: self }, assignments: { href: `${self}/assignments` } } };
}

/** GET /api/v1/spaces, paged as Qlik: `limit`, an opaque `next` cursor, absolute links.next/prev.href to follow. */
export function handleSpaces(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, query: URLSearchParams): void {
  requireAccessToken(req, ctx);
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new QlikFailure(400, HTTP.badRequest, `limit must be a whole number from 1 to ${MAX_LIMIT}.`);
  const all = [...ctx.spaces.values()];
  const cursor = query.get('next');
  const offset = cursor === null ? 0 : offsetFromCursor(cursor, all.length);

  const href = (at: number) => {
    const page = new URLSearchParams({ limit: String(limit) });
    if (at > 0) page.set('next', Buffer.from(`spaces:${at}`).toString('base64url')); // opaque to clients
    return { href: `${ctx.url}/api/v1/spaces?${page}` };
  };
  const links: Record<string, { href: string }> = { self: href(offset) };
  if (offset + limit < all.length) links.next = href(offset + limit);
  if (offset > 0) links.prev = href(Math.max(0, offset - limit));
  const data = all.slice(offset, offset + limit).map((space) => spaceJson(space, ctx.url));
  sendJson(res, 200, { data, links, meta: { count: all.length } });
}

function offsetFromCursor(cursor: string, count: number): number {
  const match = /^spaces:(\d{1,4})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offset = match ? Number(match[1]) : NaN;
  if (!(offset > 0 && offset < count)) throw new QlikFailure(400, HTTP.badRequest, 'The next cursor is not one this API gave out. Follow links.next.href as given.');
  return offset;
}

/** POST /api/v1/spaces with JSON `{ name, type?, description? }` → 201 and the new space. */
export async function handleCreateSpace(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): Promise<void> {
  const token = requireAccessToken(req, ctx);
  const mediaType = mediaTypeOf(req);
  if (mediaType !== 'application/json') throw new QlikFailure(400, SPACES.badRequest, `Send the space as application/json, not "${mediaType.slice(0, 60) || 'nothing'}".`);
  const { name, type = 'shared', description } = parseJsonObject(await readBody(req), SPACES.badRequest);
  if (typeof name !== 'string' || name.trim() === '' || name.length > 256) {
    throw new QlikFailure(400, SPACES.badRequest, 'name is required: a string of 1 to 256 characters. Send {"name": "…", "type": "shared"}.');
  }
  if (!(SPACE_TYPES as readonly unknown[]).includes(type)) throw new QlikFailure(400, SPACES.badRequest, `type must be one of ${SPACE_TYPES.join(', ')}.`);
  if (description !== undefined && (typeof description !== 'string' || description.length > 1024)) {
    throw new QlikFailure(400, SPACES.badRequest, 'description must be a string of at most 1024 characters.');
  }
  const wanted = name.toLowerCase();
  if ([...ctx.spaces.values()].some((space) => space.name.toLowerCase() === wanted)) {
    throw new QlikFailure(409, SPACES.conflict, `A space named "${name.slice(0, 100)}" already exists. Choose another name.`);
  }
  if (ctx.spaces.size >= MAX_SPACES) throw new QlikFailure(403, SPACES.tooMany, `The sandbox holds at most ${MAX_SPACES} spaces. Delete some first.`);
  const space: Space = {
    id: randomBytes(12).toString('hex'), // Qlik's ids are 24 hex digits
    name,
    type: type as Space['type'],
    tenantId: TENANT_ID,
    ownerId: userId(token.user),
    createdAt: new Date(ctx.now()).toISOString(),
    ...(description === undefined ? {} : { description }),
  };
  ctx.spaces.set(space.id, space);
  sendJson(res, 201, spaceJson(space, ctx.url), { location: `${ctx.url}/api/v1/spaces/${space.id}` });
}

/** GET and DELETE /api/v1/spaces/{id}. */
export function handleSpace(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, id: string): void {
  requireAccessToken(req, ctx);
  const space = ctx.spaces.get(id);
  if (space === undefined) throw new QlikFailure(404, SPACES.notFound, `No space with id "${id.slice(0, 60)}".`);
  if (req.method === 'DELETE') {
    ctx.spaces.delete(id);
    res.writeHead(204, { 'cache-control': 'no-store' });
    res.end();
    return;
  }
  sendJson(res, 200, spaceJson(space, ctx.url));
}
