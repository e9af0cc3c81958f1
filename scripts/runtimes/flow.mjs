// What every runtime runs, with the library's public API only (the names of src/index.ts): one
// sign-in and the machine-to-machine calls against the sandbox tenant, then the two failures every
// runtime must name the same way. Plain JavaScript and fetch, no `node:` import, so the same file
// runs on Node 20 (next to the built dist/), Node 24, Bun, Deno and inside a workerd Worker.
// `lib` is the library's module namespace; `config` comes from scripts/runtimes/run.ts.

/**
 * @param {Record<string, any>} lib
 * @param {{ tenantUrl: string, webClient: { clientId: string, clientSecret: string, redirectUri: string },
 *   m2mClient: { clientId: string, clientSecret: string }, stalledBodyUrl: string, closedPortUrl: string }} config
 * @returns {Promise<{ name: string, ok: boolean, detail: string }[]>}
 */
export async function runChecks(lib, config) {
  return [
    await check('sign-in', () => signIn(lib, config)),
    await check('machine', () => machine(lib, config)),
    await check('stalled-body', () => stalledBody(lib, config)),
    await check('closed-port', () => closedPort(lib, config)),
  ];
}

async function check(name, run) {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    const code = error?.code ? `${error.code}: ` : '';
    return { name, ok: false, detail: `${code}${error?.message ?? String(error)}` };
  }
}

/** 3.1 to 3.4, then refresh and revoke: the walk of examples/sign-in.mjs, one step further. */
async function signIn(lib, { tenantUrl, webClient }) {
  const metadata = await lib.discover(tenantUrl);
  const codeVerifier = lib.createCodeVerifier();
  const state = lib.createState();
  const authorizationUrl = lib.buildAuthorizationUrl(metadata, webClient, {
    scope: 'user_default offline_access',
    state,
    codeChallenge: lib.codeChallengeS256(codeVerifier),
  });
  const callbackUrl = await consent(authorizationUrl, metadata.issuer);
  const { code } = lib.validateCallback(callbackUrl, {
    expectedState: state,
    issuer: metadata.issuer,
    issRequired: metadata.issParameterSupported,
  });
  const tokens = await lib.exchangeCode(metadata, webClient, { code, codeVerifier });
  const user = await lib.getCurrentUser(metadata, tokens.accessToken);
  expect(user.email === 'grace@sandbox.example', `users/me is ${JSON.stringify(user.email)}, not the user who signed in (grace)`);
  const refreshed = await lib.refreshTokens(metadata, webClient, tokens);
  expect(refreshed.accessToken !== tokens.accessToken, 'the refresh gave back the same access token');
  await lib.revokeToken(metadata, webClient, { token: refreshed.refreshToken, hint: 'refresh_token' });
  // RFC 7009 §2.2: once revoked, the refresh token no longer works.
  const afterRevoke = await lib.refreshTokens(metadata, webClient, refreshed).then(
    () => 'accepted',
    (error) => error.code,
  );
  expect(afterRevoke === 'TOKEN_ERROR_RESPONSE', `refreshing with the revoked token gave ${afterRevoke}, not TOKEN_ERROR_RESPONSE`);
  return `signed in as ${user.email}, refreshed, revoked`;
}

/** The browser's part, scripted against the sandbox: open the consent page, press Allow, read the Location. */
async function consent(authorizationUrl, issuer) {
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  const tx = /name="tx" value="([^"]+)"/.exec(await page.text())?.[1];
  expect(tx !== undefined, `the consent page (HTTP ${page.status}) has no tx field`);
  const decision = await fetch(new URL('/oauth/authorize/decision', issuer), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ tx, user: 'grace', decision: 'allow' }),
  });
  await decision.body?.cancel();
  const location = decision.headers.get('location');
  expect(location !== null, `the consent decision answered HTTP ${decision.status} without a Location`);
  return location;
}

/** A client credentials token by hand, then a machine session that fetches its own. */
async function machine(lib, { tenantUrl, m2mClient }) {
  const metadata = await lib.discover(tenantUrl);
  const tokens = await lib.clientCredentialsToken(metadata, m2mClient, { scope: 'user_default' });
  expect(tokens.refreshToken === undefined, 'a client credentials grant kept a refresh token');
  const session = lib.machineSession(metadata, m2mClient, { scope: 'user_default' });
  const me = await lib.qlikFetch(session, '/api/v1/users/me');
  expect(typeof me.id === 'string', 'users/me for the machine has no id');
  return `client credentials token, then users/me as ${me.name}`;
}

/** Headers come, the body stops half-way: the request's one timer must end it as TIMEOUT. */
async function stalledBody(lib, { stalledBodyUrl }) {
  const started = Date.now();
  const code = await lib.discover(stalledBodyUrl, { timeoutMs: 500 }).then(
    () => 'no error',
    (error) => (error instanceof lib.QlikOAuthError ? error.code : `${error?.name}: ${error?.message}`),
  );
  const ms = Date.now() - started;
  expect(code === 'TIMEOUT', `a stalled body gave ${code}, not TIMEOUT`);
  expect(ms < 3000, `the 500 ms timeout took ${ms} ms`);
  return `TIMEOUT after ${ms} ms`;
}

/** Nothing listens: NETWORK_ERROR, and the message says why, whichever runtime's fetch failed. */
async function closedPort(lib, { closedPortUrl }) {
  const failure = await lib.discover(closedPortUrl, { timeoutMs: 5000 }).then(
    () => undefined,
    (error) => error,
  );
  expect(failure instanceof lib.QlikOAuthError, `a closed port gave ${failure === undefined ? 'no error' : String(failure)}, not a QlikOAuthError`);
  expect(failure.code === 'NETWORK_ERROR', `a closed port gave ${failure.code}, not NETWORK_ERROR`);
  // "GET … failed." alone leaves the user guessing; the runtime's reason must follow.
  expect(!/ failed\.$/.test(failure.message), `the message gives no reason: ${JSON.stringify(failure.message)}`);
  return `NETWORK_ERROR: ${failure.message}`;
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}
