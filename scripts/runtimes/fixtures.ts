// What the runtimes are run against, all on 127.0.0.1: the sandbox tenant, a server whose body
// stalls half-way, and a port nobody listens on. The config is what scripts/runtimes/flow.mjs takes.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  SANDBOX_M2M_CLIENT_ID,
  SANDBOX_M2M_CLIENT_SECRET,
  startSandbox,
} from '../../src/sandbox/index.ts';

/** Any redirect URI will do: the consent's Location is read, never followed. */
const REDIRECT_URI = 'http://localhost:3000/login/callback';

export interface FlowConfig {
  tenantUrl: string;
  webClient: { clientId: string; clientSecret: string; redirectUri: string };
  m2mClient: { clientId: string; clientSecret: string };
  stalledBodyUrl: string;
  closedPortUrl: string;
}

export async function startFixtures(): Promise<{ config: FlowConfig; close: () => Promise<void> }> {
  const sandbox = await startSandbox();
  sandbox.addRedirectUri(SANDBOX_CLIENT_ID, REDIRECT_URI);
  const stalled = await listen(createServer((_request, response) => stallBody(response)));
  const config: FlowConfig = {
    tenantUrl: sandbox.url,
    webClient: { clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, redirectUri: REDIRECT_URI },
    m2mClient: { clientId: SANDBOX_M2M_CLIENT_ID, clientSecret: SANDBOX_M2M_CLIENT_SECRET },
    stalledBodyUrl: `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`,
    closedPortUrl: `http://127.0.0.1:${await freePort()}`,
  };
  const close = async () => {
    stalled.closeAllConnections();
    stalled.close();
    await sandbox.close();
  };
  return { config, close };
}

/** The tenant whose body never ends: headers and half a JSON document, then nothing. */
function stallBody(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
  response.write('{"issuer":');
}

function listen(server: Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** A port nobody listens on: taken from the system, then let go. */
export async function freePort(): Promise<number> {
  const server = await listen(createServer());
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
