// The sandbox tenant: a local, strict stand-in for a Qlik Cloud tenant's OAuth endpoints and a few
// REST APIs. Start one with startSandbox(); see options.ts for what can be configured, settings.ts for
// the faults and the SANDBOX_* settings. `npm run sandbox` runs one alone.
export {
  DEFAULT_SCOPES, IMPERSONATION_GRANT,
  SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_JWT_CLIENT_ID, SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET,
  SANDBOX_NATIVE_CLIENT_ID, SANDBOX_NATIVE_REDIRECT_URIS, SANDBOX_SPA_CLIENT_ID, SANDBOX_SPA_ORIGINS, SANDBOX_SPA_REDIRECT_URIS,
} from './options.ts';
export type {
  OpenIdConfigurationMode, Sandbox, SandboxClient, SandboxClientType, SandboxFaults, SandboxGrantType, SandboxOptions, SandboxStats,
} from './options.ts';
export type { ErrorStyle } from './http.ts';
export {
  SANDBOX_FAULTS, SANDBOX_SWITCHES, TEST_FAULTS, parseSandboxFault, sandboxOptionsFromEnv,
  type SandboxFaultInfo, type SandboxFaultName,
} from './settings.ts';
export { JWT_BEARER } from './client-auth.ts';
export { ANOTHER_ISSUER } from './authorize.ts';
export { PLAIN_HTTP_TOKEN_ENDPOINT } from './discovery.ts';
export { SPACES } from './fake-data.ts';
export { startSandbox } from './server.ts';
