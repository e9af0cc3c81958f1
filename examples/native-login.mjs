// A command-line sign-in over a loopback redirect with the built modules and nothing else: plain
// `node`, no node_modules. The copy-paste test runs it from an empty folder holding only the files
// docs/native-login.md lists (plus 3.1-discovery.js and 3.4-api.js).
// Usage: node native-login.mjs <tenant-url> <client-id>
// A real program prints the URL and opens the browser; here the "browser" part (consent page,
// Allow, the redirect back to our listener) is scripted against the sandbox tenant.
import { discover } from './3.1-discovery.js';
import { getCurrentUser } from './3.4-api.js';
import { startLoopbackSignIn } from './native-login.js';

const [tenantUrl, clientId] = process.argv.slice(2);
const metadata = await discover(tenantUrl);
// A native client is public: no secret. PKCE and the one-shot listener protect the code.
const login = await startLoopbackSignIn(metadata, { clientId }, { scope: 'user_default', timeoutMs: 20_000 });
console.error(`Open this URL to sign in: ${login.authorizationUrl}`);

// The browser.
const consent = await fetch(login.authorizationUrl, { redirect: 'manual' }).then((r) => r.text());
const tx = /name="tx" value="([^"]+)"/.exec(consent)?.[1];
const decision = await fetch(new URL('/oauth/authorize/decision', metadata.issuer), {
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ tx, user: 'grace', decision: 'allow' }),
});
await fetch(decision.headers.get('location')); // back to our listener: "You can close this tab"

const tokens = await login.tokens;
const user = await getCurrentUser(metadata, tokens.accessToken);
console.log(JSON.stringify({ name: user.name, redirectUri: login.redirectUri }));
