// GET /api/v1/users/me: Qlik's "who am I", the REST call a sign-in ends with.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from './context.ts';
import { sendJson } from './respond.ts';
import { requireAccessToken } from './bearer.ts';
import { userFor } from './fake-data.ts';

/** Qlik: the REST APIs need the user_default scope. */
export const API_SCOPE = 'user_default';

/** The signed-in user, found from the token alone: a person, an impersonated user, or an M2M client's bot. */
export function handleUsersMe(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): void {
  const token = requireAccessToken(req, ctx, API_SCOPE);
  sendJson(res, 200, userFor(token.user, ctx.url));
}
