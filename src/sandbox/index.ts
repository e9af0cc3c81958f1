// The sandbox tenant: a local, strict stand-in for a Qlik Cloud tenant's OAuth endpoints and a few
// REST APIs. Start one with startSandbox(); see options.ts for what can be configured, faults.ts for
// what can be broken on purpose, env.ts for the SANDBOX_* settings. `npm run sandbox` runs one alone.
export {
  DEFAULT_SCOPES,
  IMPERSONATION_GRANT,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  SANDBOX_M2M_CLIENT_ID,
  SANDBOX_M2M_CLIENT_SECRET,
  SANDBOX_NATIVE_CLIENT_ID,
  SANDBOX_NATIVE_REDIRECT_URIS,
  SANDBOX_SPA_CLIENT_ID,
  SANDBOX_SPA_ORIGINS,
  SANDBOX_SPA_REDIRECT_URIS,
  defaultClients,
} from './options.ts';
export type {
  OpenIdConfigurationMode,
  Sandbox,
  SandboxClient,
  SandboxClientType,
  SandboxFaults,
  SandboxGrantType,
  SandboxOptions,
  SandboxStats,
} from './options.ts';
export type { ErrorStyle } from './respond.ts';
export { SANDBOX_FAULTS, isSandboxFaultName, parseSandboxFault, type SandboxFaultInfo, type SandboxFaultName } from './faults.ts';
export { sandboxOptionsFromEnv } from './env.ts';
export { ANOTHER_ISSUER } from './authorize.ts';
export { PLAIN_HTTP_TOKEN_ENDPOINT } from './discovery.ts';
export { startSandbox } from './server.ts';
