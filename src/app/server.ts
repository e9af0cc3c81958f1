// The web app on node:http: discover the tenant once, listen, and route each request to a handler
// in routes.ts. Whatever a handler throws becomes an error page; nothing a request does can stop
// the process.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { DEFAULT_TIMEOUT_MS, isLoopbackHost } from '../http.ts';
import { discover, type TenantMetadata } from '../3.1-discovery.ts';
import { CALLBACK_PATH, DEFAULT_PORT, DEFAULT_SCOPE, type AppOptions } from './config.ts';
import { parseCookies, sessionIdFrom } from './cookies.ts';
import { errorReply, logUnexpected } from './error-page.ts';
import { simplePage } from './pages.ts';
import { pageReply, redirectReply, securityHeaders, writeReply, type Reply } from './reply.ts';
import { DEFAULT_DEADLINE_MS, type AppContext } from './context.ts';
import { ROUTES } from './routes.ts';
import { sealKeyFrom } from './seal.ts';
import { createSessionStore, findSession } from './sessions.ts';
import { Trace, formatTranscript } from '../trace.ts';
import { listen } from '../local-server.ts';

export interface App {
  server: Server;
  /** The app's origin, e.g. http://127.0.0.1:54321: open it in a browser. */
  url: string;
  /** `${url}/login/callback`: register it with the OAuth client. */
  redirectUri: string;
  metadata: TenantMetadata;
  /** Stops accepting connections, lets requests in flight finish, then resolves. */
  close(): Promise<void>;
}

/**
 * Starts the app. Tutorial 3.1 runs here, once: a tenant that cannot be discovered rejects with its
 * QlikOAuthError before the app listens; a busy port with the listen error (EADDRINUSE).
 */
export async function createApp(options: AppOptions): Promise<App> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const http = { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, ...(options.fetch ? { fetch: options.fetch } : {}) };
  // Discovery's events go at the head of every sign-in's transcript, on /trace and on the console.
  const startTrace = new Trace(options.clientSecret === undefined ? [] : [options.clientSecret]);
  const metadata = await discover(options.tenantUrl, { ...http, ...startTrace.hooks('3.1') });
  const startEvents = [...startTrace.events];
  const startText = formatTranscript(startEvents);

  const host = options.host ?? 'localhost';
  const server = createServer();
  const port = await listen(server, options.port ?? DEFAULT_PORT, host);
  const appOrigin = new URL(options.appUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).origin;
  const redirectUri = appOrigin + CALLBACK_PATH;

  const ctx: AppContext = {
    metadata,
    client: { clientId: options.clientId, clientSecret: options.clientSecret, assertion: options.clientAssertion, redirectUri },
    scope: options.scope ?? DEFAULT_SCOPE,
    appOrigin,
    secureCookies: appOrigin.startsWith('https:'),
    sealKey: sealKeyFrom(options.sessionSecret),
    sessions: createSessionStore(options.sessionLimits),
    http,
    deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS,
    log,
    onTranscript: options.onTranscript && ((text: string) => options.onTranscript!(`${startText}\n${text}`)),
    startEvents,
    sandbox: options.sandbox ?? false,
    sandboxFaults: options.sandboxFaults ?? [],
  };
  const tenantOrigin = new URL(metadata.authorizationEndpoint).origin;
  // Attached now that the origin is known. No request can have arrived yet: the 'listening' event
  // and this line run before the event loop looks at new connections.
  server.on('request', (req, res) => {
    handle(ctx, req, res, tenantOrigin).catch((error: unknown) => {
      logUnexpected(error, log);
      res.destroy();
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerUnparsable(error, socket, tenantOrigin));

  return {
    server,
    url: appOrigin,
    redirectUri,
    metadata,
    close: () => closeServer(server),
  };
}

async function handle(ctx: AppContext, req: IncomingMessage, res: ServerResponse, tenantOrigin: string): Promise<void> {
  // A browser that goes away mid-request makes these emit errors; without a listener they would be thrown.
  req.on('error', () => {});
  res.on('error', () => {});
  let reply: Reply;
  try {
    reply = await route(ctx, req);
  } catch (error) {
    reply = errorReply(error, ctx.log, ctx.sandboxFaults);
  }
  if (res.destroyed) return; // the browser left; nobody to answer
  writeReply(res, reply, tenantOrigin);
}

async function route(ctx: AppContext, req: IncomingMessage): Promise<Reply> {
  const target = req.url ?? '/';
  // Only origin-form targets ("/path?query"). "//host/x" or "http://host/x" would parse as another host.
  if (!target.startsWith('/') || target.startsWith('//') || !URL.canParse(ctx.appOrigin + target)) {
    return pageReply(400, simplePage('Bad request', 'This address is not one this app understands.'));
  }
  const url = new URL(ctx.appOrigin + target);
  // The session cookie belongs to one host name. Opened at 127.0.0.1 while APP_URL says localhost
  // (or the other way round), the cookie would not come back with the callback from the tenant,
  // and the sign-in would fail as a state mismatch. So when both names are loopback ones, the
  // visitor is sent to the APP_URL host first (a public APP_URL behind a proxy is left alone).
  const host = req.headers.host ?? '';
  const visited = URL.canParse(`http://${host}`) ? new URL(`http://${host}`).hostname : '';
  if (isLoopbackHost(visited) && isLoopbackHost(url.hostname) && visited !== url.hostname && (req.method === 'GET' || req.method === 'HEAD')) {
    return redirectReply(url.href, []);
  }
  const handlers = ROUTES[url.pathname];
  if (handlers === undefined) {
    return pageReply(404, simplePage('Page not found', `There is no page at ${url.pathname}.`));
  }
  const handler = handlers[req.method ?? ''];
  if (handler === undefined) {
    const allowed = Object.keys(handlers).join(', ');
    return pageReply(405, simplePage('Method not allowed', `${url.pathname} answers ${allowed} only.`), { allow: allowed });
  }
  const cookies = parseCookies(req.headers.cookie);
  const sessionId = sessionIdFrom(cookies, ctx.secureCookies);
  const session = findSession(ctx.sessions, sessionId);
  let reply: Reply;
  try {
    reply = await handler(ctx, { method: req.method ?? 'GET', url, headers: req.headers, cookies, sessionId, session });
  } catch (error) {
    reply = errorReply(error, ctx.log, ctx.sandboxFaults);
  }
  // RFC 9700 §4.2.4: the callback URL holds the code and state. Whatever answers it (the redirect
  // home, an error page) must not let the browser pass that URL on in a Referer, not even to us.
  if (url.pathname === CALLBACK_PATH) reply.headers['referrer-policy'] = 'no-referrer';
  return reply;
}

/**
 * A request node:http cannot parse (headers over its 16 KB limit, bytes that are not HTTP) never
 * reaches route(), and Node alone would answer with a bare status line. Here it gets a page and the
 * headers every answer has: 431 when too long (RFC 6585 §5), 408 when too slow, else 400.
 */
function answerUnparsable(error: NodeJS.ErrnoException, socket: Duplex, tenantOrigin: string): void {
  // As Node's own handler does: a browser that is gone, or a connection whose current answer has
  // begun (a pipelined request after it was garbage), gets no page; the connection is dropped.
  const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || current?.headersSent || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, reason, text] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'The address or the headers of this request are too long (over 16 KB). No link from this app or the tenant is that long.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request did not arrive in time.']
        : [400, 'Bad Request', 'This request is not one this app understands.'];
  const body = simplePage(reason, text).text;
  const headers = {
    ...securityHeaders(tenantOrigin),
    // The URL may be a callback's, code and state included (RFC 9700 §4.2.4); this page posts no form.
    'referrer-policy': 'no-referrer',
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${head}\r\n${body}`);
  // The rest of an oversized request may still be arriving; do not wait for it for long.
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/** App.close: idle keep-alive connections close at once, the others as soon as their request is answered. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    // Connections that finish their request later become idle too: close those as they do.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
