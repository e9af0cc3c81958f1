// The app's routes: path → method → handler. Each handler takes the request as data and returns a
// Reply (reply.ts); server.ts does the HTTP plumbing around them.

import { callback } from './callback.ts';
import type { Handler } from './context.ts';
import { DOCS_FILES, docsReply } from './docs-page.ts';
import { apiMe, home, logout } from './home.ts';
import { login } from './login.ts';
import { rememberSpentCallback, tamper } from './tamper.ts';
import { trace } from './trace-page.ts';

/** HEAD is served like GET for the home page (RFC 9110 §9.3.2). */
export const ROUTES: Record<string, Record<string, Handler>> = {
  '/': { GET: home, HEAD: home },
  '/login': { GET: login },
  // On the sandbox, the last good callback is kept for the attacks on /trace (tamper.ts).
  '/login/callback': { GET: rememberSpentCallback(callback) },
  '/api/me': { GET: apiMe },
  '/logout': { POST: logout },
  '/trace': { GET: trace },
  '/trace/tamper': { POST: (ctx, request) => tamper(ctx, request, callback) },
  // The docs, so that each check's link in the transcript works offline.
  ...Object.fromEntries(DOCS_FILES.map((file) => [`/docs/${file}`, { GET: () => docsReply(file) }])),
};
