// A whole sign-in with the built step modules and nothing else: plain `node`, no node_modules.
// The copy-paste test runs it from an empty folder holding only the built files a step needs.
// Usage: node sign-in.mjs <tenant-url> <client-id> <client-secret> <redirect-uri>
// The "browser" part (consent page, Allow) is scripted against the sandbox tenant.
import { discover } from './3.1-discovery.js';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from './3.2-authorize.js';
import { exchangeCode, validateCallback } from './3.3-token.js';
import { getCurrentUser } from './3.4-api.js';

const [tenantUrl, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const client = { clientId, clientSecret, redirectUri };

// 3.1
const metadata = await discover(tenantUrl);
// 3.2
const codeVerifier = createCodeVerifier();
const state = createState();
const authorizationUrl = buildAuthorizationUrl(metadata, client, {
  scope: 'user_default',
  state,
  codeChallenge: codeChallengeS256(codeVerifier),
});

// The browser: open the consent page, press Allow, read where the tenant sends us back.
const consent = await fetch(authorizationUrl, { redirect: 'manual' }).then((r) => r.text());
const tx = /name="tx" value="([^"]+)"/.exec(consent)?.[1];
const decision = await fetch(new URL('/oauth/authorize/decision', metadata.issuer), {
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ tx, user: 'grace', decision: 'allow' }),
});
const callbackUrl = decision.headers.get('location');

// 3.3
const { code } = validateCallback(callbackUrl, {
  expectedState: state,
  issuer: metadata.issuer,
  issRequired: metadata.issParameterSupported,
});
const tokens = await exchangeCode(metadata, client, { code, codeVerifier });
// 3.4
const user = await getCurrentUser(metadata, tokens.accessToken);
console.log(JSON.stringify({ name: user.name, tenantId: user.tenantId }));
