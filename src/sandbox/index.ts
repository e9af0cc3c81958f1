// The sandbox tenant: a local, strict stand-in for a Qlik Cloud tenant's OAuth endpoints.
// Start one with startSandbox(); see options.ts for what can be configured and broken on purpose.
export { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from './options.ts';
export type { Sandbox, SandboxClient, SandboxFaults, SandboxOptions, SandboxStats } from './options.ts';
export { startSandbox } from './server.ts';
