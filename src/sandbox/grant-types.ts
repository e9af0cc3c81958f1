// Which client may use which grant: Qlik ties flows to client types (web, native, single-page app)
// and, for machine-to-machine, to a setting of the web client.
import type { RegisteredClient } from './context.ts';
import type { SandboxGrantType } from './options.ts';
import { TOKEN } from './error-codes.ts';
import { QlikFailure } from './respond.ts';

/** RFC 6749 §5.2 unauthorized_client: "not authorized to use this authorization grant type". */
export function requireGrantType(client: RegisteredClient, grant: SandboxGrantType): void {
  if (client.grantTypes.has(grant)) return;
  const hint = grant === 'client_credentials' || grant === 'urn:qlik:oauth:user-impersonation'
    ? client.type === 'web'
      ? ' Allow machine-to-machine (and impersonation) in the OAuth client\'s settings, or use an M2M client.'
      : ` A ${client.type} client is public: machine-to-machine needs a web client with a secret.`
    : '';
  throw new QlikFailure(400, TOKEN.grantNotAllowed, `Client "${client.clientId}" may not use grant_type=${grant}.${hint}`);
}
