// Does a redirect_uri match the client's registration? Exact string equality (Qlik, RFC 9700 §4.1.3),
// with one exception for native clients: the loopback port (RFC 8252 §7.3).
import type { RegisteredClient } from './context.ts';

/** A loopback redirect with a port: http://127.0.0.1:PORT/…, http://localhost:PORT/… or http://[::1]:PORT/… */
const LOOPBACK_WITH_PORT = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})([/?].*)?$/;

export function redirectUriMatches(client: RegisteredClient, uri: string): boolean {
  if (client.redirectUris.includes(uri)) return true;
  // RFC 8252 §7.3: "The authorization server MUST allow any port to be specified at the time of the
  // request for loopback IP redirect URIs, to accommodate clients that obtain an available ephemeral
  // port from the operating system." Only for native clients, and only when registered without a port;
  // everything but the port must still match to the byte.
  if (client.type !== 'native') return false;
  const match = LOOPBACK_WITH_PORT.exec(uri);
  if (match === null) return false;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535 || match[2]!.startsWith('0')) return false;
  return client.redirectUris.includes(`http://${match[1]}${match[3] ?? ''}`);
}
