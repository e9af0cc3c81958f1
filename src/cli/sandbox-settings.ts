// The SANDBOX_* settings only change the built-in sandbox tenant. With a real tenant configured they
// would do nothing, silently — so `npm start` and `npm run check` refuse them instead.

type Env = Record<string, string | undefined>;

/** The names of the SANDBOX_* variables that are set (non-empty), sorted. */
export function sandboxSettingsIn(env: Env): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('SANDBOX_') && (env[name] ?? '').trim() !== '')
    .sort();
}

/**
 * The configuration error for SANDBOX_* settings next to a real tenant, or undefined when there is
 * none: `message` says what is wrong, `fix` what to do.
 */
export function sandboxSettingsProblem(env: Env): { message: string; fix: string } | undefined {
  const tenant = (env.QLIK_TENANT_URL ?? '').trim();
  const names = sandboxSettingsIn(env);
  if (tenant === '' || names.length === 0) return undefined;
  return {
    message: `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} set, but QLIK_TENANT_URL is too: these only apply to the sandbox.`,
    fix: `Remove ${names.join(', ')} to use your tenant, or remove QLIK_TENANT_URL (and QLIK_CLIENT_ID, QLIK_CLIENT_SECRET) to use the sandbox.`,
  };
}
