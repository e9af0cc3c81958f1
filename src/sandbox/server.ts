// The sandbox's HTTP server: routing, the error safety net, and startSandbox().
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sandbox, SandboxOptions } from './options.ts';
import { checkRedirectUri, createContext, describeClient, hasFault, type SandboxContext } from './context.ts';
import { HTTP } from './error-codes.ts';
import { QlikFailure, sendQlikError } from './respond.ts';
import { handleJwks, handleLoginPage, handleMetadata, handleOpenIdConfiguration } from './discovery.ts';
import { handleAuthorize } from './authorize.ts';
import { handleDecision } from './decision.ts';
import { handleToken } from './token.ts';
import { handleRevoke } from './revoke.ts';
import { handleUsersMe } from './api.ts';
import { handleCreateSpace, handleSpace, handleSpaces } from './spaces-api.ts';
import { handleCors } from './cors.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, query: URLSearchParams) => void | Promise<void>;

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

/** /api/v1/spaces/{id}: Qlik's ids are 24 hex digits; anything else of a sane shape is just not found. */
const SPACE_PATH = /^\/api\/v1\/spaces\/([A-Za-z0-9_-]{1,64})$/;

async function route(req: IncomingMessage, res: ServerResponse, ctx: SandboxContext, path: string, query: URLSearchParams): Promise<void> {
  if (handleCors(req, res, ctx, path)) return;
  if (path.startsWith('/api/v1/')) {
    ctx.stats.apiRequests += 1;
    // Qlik rate limits: over the limit, 429 with retry-after in seconds. Here only when a test asks.
    if ((ctx.faults.api429 ?? 0) > 0) {
      ctx.faults.api429 = (ctx.faults.api429 ?? 1) - 1;
      throw new QlikFailure(429, HTTP.tooManyRequests, 'Rate limit reached. Wait retry-after seconds, then try again.', { 'retry-after': '1' });
    }
    // SANDBOX_FAULT=api-429: every call, with the wait of Qlik's documented example.
    if (hasFault(ctx, 'api-429')) {
      throw new QlikFailure(429, HTTP.tooManyRequests, 'Rate limit reached (SANDBOX_FAULT=api-429). Wait retry-after seconds, then try again.', { 'retry-after': '13' });
    }
    // SANDBOX_FAULT=api-401: valid tokens refused as if revoked (RFC 6750 §3.1 invalid_token).
    if (hasFault(ctx, 'api-401')) {
      throw new QlikFailure(401, HTTP.unauthorized, 'The access token is not accepted (SANDBOX_FAULT=api-401).', {
        'www-authenticate': 'Bearer realm="qlik", error="invalid_token"',
      });
    }
  }

  const handler = ROUTES.get(`${req.method} ${path}`);
  if (handler !== undefined) return handler(req, res, ctx, query);
  const spaceId = SPACE_PATH.exec(path)?.[1];
  if (spaceId !== undefined) {
    if (req.method === 'GET' || req.method === 'DELETE') return handleSpace(req, res, ctx, spaceId);
    throw new QlikFailure(405, HTTP.methodNotAllowed, `Use GET or DELETE for ${path.slice(0, 100)}.`, { allow: 'GET, DELETE' });
  }

  const allowed = [...ROUTES.keys()].filter((key) => key.endsWith(` ${path}`)).map((key) => key.split(' ')[0]!);
  if (allowed.length > 0) {
    throw new QlikFailure(405, HTTP.methodNotAllowed, `Use ${allowed.join(' or ')} for ${path}.`, { allow: allowed.join(', ') });
  }
  throw new QlikFailure(404, HTTP.notFound, 'No such endpoint on the sandbox tenant.');
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
    const failure = error instanceof QlikFailure
      ? error
      : new QlikFailure(500, HTTP.internal, 'The sandbox failed to handle this request.');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // /oauth/* answers as a real tenant (terse) unless SANDBOX_ERRORS=detailed; REST has its own shape.
    sendQlikError(res, failure, { oauth: path.startsWith('/oauth/'), style: ctx.errors });
  });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // 127.0.0.1 only: the sandbox hands out tokens for anyone who asks, so it must not be reachable from the network.
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const ctx = createContext('', options); // checks the options before a port is opened
  const server = createServer((req, res) => handleRequest(req, res, ctx));
  const port = await listen(server, options.port ?? 0);
  ctx.url = `http://127.0.0.1:${port}`; // the issuer: known only once listening

  let closing: Promise<void> | undefined;
  return {
    url: ctx.url,
    get faults() {
      return ctx.faults;
    },
    set faults(faults) {
      ctx.faults = faults;
    },
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
        // Also drop idle keep-alive sockets and requests left hanging by faults.tokenEndpoint = 'hang'.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
