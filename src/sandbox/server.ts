// The sandbox's HTTP server: routing, CORS, the REST API's faults, the error safety net, and startSandbox().
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import type { Sandbox, SandboxOptions } from './options.ts';
import { checkRedirectUri, createContext, describeClient, type SandboxContext } from './context.ts';
import { HTTP } from './error-codes.ts';
import { QlikFailure, sendQlikError } from './http.ts';
import { hasFault } from './settings.ts';
import { handleJwks, handleLoginPage, handleMetadata, handleOpenIdConfiguration } from './discovery.ts';
import { handleAuthorize, handleDecision } from './authorize.ts';
import { GRANTS, handleRevoke, handleToken } from './token.ts';
import { handleCreateSpace, handleSpace, handleSpaces, handleUser, handleUsersMe } from './api.ts';
import { listen } from '../local-server.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, query: URLSearchParams) => void | Promise<void>;
type IdHandler = (req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, id: string) => void;

/** Every route, as "METHOD /path". Paths are Qlik's. */
const ROUTES = new Map<string, Handler>([
  ['GET /.well-known/openid-configuration', handleOpenIdConfiguration],
  ['GET /.well-known/oauth-authorization-server', handleMetadata],
  ['GET /.well-known/jwks.json', handleJwks],
  ['GET /login', handleLoginPage],
  ['GET /oauth/authorize', handleAuthorize],
  ['POST /oauth/authorize/decision', handleDecision],
  ['POST /oauth/token', handleToken],
  ['POST /oauth/revoke', handleRevoke],
  ['GET /api/v1/users/me', handleUsersMe],
  ['GET /api/v1/spaces', handleSpaces],
  ['POST /api/v1/spaces', handleCreateSpace],
]);

/** Routes with an id. Qlik's ids are 24 hex digits; anything else of a sane shape is just not found. */
const ID_ROUTES: [RegExp, string[], IdHandler][] = [
  [/^\/api\/v1\/users\/([A-Za-z0-9_-]{1,64})$/, ['GET'], handleUser],
  [/^\/api\/v1\/spaces\/([A-Za-z0-9_-]{1,64})$/, ['GET', 'DELETE'], handleSpace],
];

async function route(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, path: string, query: URLSearchParams): Promise<void> {
  if (handleCors(req, res, ctx, path)) return;
  if (path.startsWith('/api/v1/')) {
    ctx.stats.apiRequests += 1;
    refuseByFault(ctx);
  }

  const handler = ROUTES.get(`${req.method} ${path}`);
  if (handler !== undefined) return handler(req, res, ctx, query);
  let allowed = [...ROUTES.keys()].filter((key) => key.endsWith(` ${path}`)).map((key) => key.split(' ')[0]!);
  for (const [pattern, methods, idHandler] of ID_ROUTES) {
    const id = pattern.exec(path)?.[1];
    if (id !== undefined && methods.includes(req.method ?? '')) return idHandler(req, res, ctx, id);
    if (id !== undefined) allowed = methods;
  }
  if (allowed.length > 0) throw new QlikFailure(405, HTTP.methodNotAllowed, `Use ${allowed.join(' or ')} for ${path}.`, { allow: allowed.join(', ') });
  throw new QlikFailure(404, HTTP.notFound, 'No such endpoint on the sandbox tenant.');
}

/** The REST API's named faults. Qlik's rate limit: 429, `retry-after` in seconds, the wait in the detail. */
function refuseByFault(ctx: SandboxContext): void {
  const rateLimited = (seconds: string, fault: string) =>
    new QlikFailure(429, HTTP.tooManyRequests, `Wait ${seconds} s (retry-after), then try again (SANDBOX_FAULT=${fault}).`, { 'retry-after': seconds });
  if (hasFault(ctx, 'api-429-once')) {
    ctx.faults.named = ctx.faults.named.filter((name) => name !== 'api-429-once');
    throw rateLimited('1', 'api-429-once');
  }
  // Every call, with the wait of Qlik's documented example.
  if (hasFault(ctx, 'api-429')) throw rateLimited('13', 'api-429');
  // Valid tokens refused as if revoked (RFC 6750 §3.1 invalid_token).
  if (hasFault(ctx, 'api-401')) {
    throw new QlikFailure(401, HTTP.unauthorized, 'The access token is not accepted (SANDBOX_FAULT=api-401).', { 'www-authenticate': 'Bearer realm="qlik", error="invalid_token"' });
  }
}

/**
 * CORS (Fetch standard) for browser code on an origin a client lists (Qlik: single-page-app and web
 * clients may), as Qlik's own browser code needs it: credentials, and its qlik-* request headers.
 * Answers a preflight itself (returns true). An origin no client lists gets no CORS headers, so the
 * browser keeps the answer from its page; its preflight is refused outright.
 */
function handleCors(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, path: string): boolean {
  const origin = req.headers.origin;
  // Only paths a browser app calls itself. Authorize is a navigation, not a fetch: no CORS there.
  const corsPath = path === '/oauth/token' || path === '/oauth/revoke' || path.startsWith('/api/v1/');
  if (origin === undefined || !corsPath) return false;
  const allowed = [...ctx.clients.values()].some((client) => client.allowedOrigins.includes(origin));
  res.setHeader('vary', 'Origin');
  if (allowed) {
    // With credentials, the origin is echoed: the CORS protocol forbids `*` there.
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    // The client must read these to handle a 429, a 401 challenge, or users/me's redirect.
    res.setHeader('access-control-expose-headers', 'retry-after, www-authenticate, location');
  }
  if (req.method !== 'OPTIONS') return false;
  if (!allowed) throw new QlikFailure(403, HTTP.forbidden, `The origin ${origin.slice(0, 100)} is not an allowed origin of any OAuth client.`);
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
    'access-control-allow-headers': 'authorization, content-type, qlik-api-version, qlik-csrf-token',
    'access-control-max-age': '600',
    'content-length': '0',
  });
  res.end();
  return true;
}

/** Every request goes through here, so no input can crash the server or leak a stack trace. */
function handleRequest(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext): void {
  // Split the target by hand rather than with new URL(): "//host/path" would be read as another host.
  const target = req.url ?? '/';
  const queryStart = target.indexOf('?');
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  const query = new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1));
  // RFC 9110 §6.6.1: the Date header is the tenant's clock, the one expires_at is reckoned by. Set from
  // the sandbox's clock, so a test that moves `now` gets a tenant whose clock is off, consistently.
  res.setHeader('date', new Date(ctx.now()).toUTCString());

  route(req, res, ctx, path, query).catch((error: unknown) => {
    const failure = error instanceof QlikFailure ? error : new QlikFailure(500, HTTP.internal, 'The sandbox failed to handle this request.');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // /oauth/* answers as a real tenant (terse) unless SANDBOX_ERRORS=detailed; REST has its own shape.
    sendQlikError(res, failure, { oauth: path.startsWith('/oauth/'), style: ctx.errors });
  });
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  // The JWT client's key pair, new at each start: the tenant keeps the public key, the client the private one.
  const keys = generateKeyPairSync('ec', {
    namedCurve: 'P-384',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const ctx = createContext(options, keys.publicKey, GRANTS); // checks the options before a port is opened
  const server = createServer((req, res) => handleRequest(req, res, ctx));
  const port = await listen(server, options.port ?? 0, '127.0.0.1');
  ctx.url = `http://127.0.0.1:${port}`; // the issuer: known only once listening

  let closing: Promise<void> | undefined;
  return {
    url: ctx.url,
    faults: ctx.faults,
    jwtPrivateKeyPem: keys.privateKey,
    addRedirectUri(clientId: string, uri: string): void {
      const client = ctx.clients.get(clientId);
      if (client === undefined) throw new Error(`Sandbox: no client "${clientId}".`);
      checkRedirectUri(uri);
      if (!client.redirectUris.includes(uri)) client.redirectUris.push(uri);
    },
    clients: () => [...ctx.clients.values()].map(describeClient),
    stats: () => ({ ...ctx.stats }),
    close(): Promise<void> {
      closing ??= new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Also drop idle keep-alive sockets and requests left hanging by the token-slow fault.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
