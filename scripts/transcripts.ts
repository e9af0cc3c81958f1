// Runs a real sign-in (then a refresh and a sign-out) against the sandbox tenant and returns its
// redacted transcript per tutorial section, for the docs pages (npm run docs).
import { startSandbox, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from '../src/sandbox/index.ts';
import { CHECKS, Trace, buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState, discover, exchangeCode, formatTranscript, getCurrentUser, qlikFetch, revokeToken, validateCallback, type TraceEvent } from '../src/index.ts';

export async function sandboxTranscripts(): Promise<Record<string, string>> {
  const sandbox = await startSandbox();
  try {
    const client = { clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, redirectUri: 'http://localhost:3000/login/callback' };
    sandbox.addRedirectUri(client.clientId, client.redirectUri);
    const trace = new Trace([client.clientSecret]);

    const metadata = await discover(sandbox.url, trace.hooks('3.1'));

    const codeVerifier = createCodeVerifier();
    trace.secrets.remember(codeVerifier);
    const state = createState();
    const url = buildAuthorizationUrl(metadata, client, { scope: 'user_default offline_access', state, codeChallenge: codeChallengeS256(codeVerifier) });
    trace.note('3.2', `state and verifier made (43 chars each; the app seals both in a cookie for this browser); challenge = BASE64URL(SHA256(verifier))`);
    trace.note('3.2', `browser sent to ${url.href}`);

    // The browser: consent page, Allow, back to the redirect URI.
    const consent = await fetch(url, { redirect: 'manual' }).then((r) => r.text());
    const tx = /name="tx" value="([^"]+)"/.exec(consent)?.[1] ?? '';
    const decision = await fetch(new URL('/oauth/authorize/decision', metadata.issuer), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ tx, user: 'ada', decision: 'allow' }),
    });
    const callbackUrl = decision.headers.get('location') ?? '';
    trace.note('3.3', `browser came back to ${callbackUrl}`);

    const { code } = validateCallback(callbackUrl, { expectedState: state, issuer: metadata.issuer, issRequired: metadata.issParameterSupported }, trace.hooks('3.3'));
    const tokens = await exchangeCode(metadata, client, { code, codeVerifier }, trace.hooks('3.3'));
    await getCurrentUser(metadata, tokens.accessToken, trace.hooks('3.4'));

    // Beyond the tutorial: an expired token is refreshed before the next call; then sign-out revokes.
    const session = { metadata, client, tokens: { ...tokens, expiresAt: Date.now() }, options: trace.hooks('lifecycle') };
    await qlikFetch(session, '/api/v1/users/me');
    await revokeToken(metadata, client, { token: session.tokens.refreshToken!, hint: 'refresh_token' }, trace.hooks('lifecycle'));
    await revokeToken(metadata, client, { token: session.tokens.accessToken, hint: 'access_token' }, trace.hooks('lifecycle'));

    const bySection = (section: string) =>
      pin(checkTitles(formatTranscript(trace.events.filter((e: TraceEvent) => e.section === section), { detail: true })));
    // Ports and times change every run; pin them so regenerated docs differ only when the protocol does.
    const pin = (text: string) =>
      text
        .replaceAll(sandbox.url, 'http://127.0.0.1:PORT')
        .replaceAll(encodeURIComponent(sandbox.url), encodeURIComponent('http://127.0.0.1:PORT'))
        .replace(/\(\d+ ms\)/g, '(… ms)')
        .replace(/("?(?:expires_at|auth_time|createdAt|lastUpdatedAt)"?: ")[^"]+"/g, '$1…"')
        .replace(/^(\s*< date: ).+$/gm, '$1…');
    // The README shows the compact form `npm start` prints to the console for each sign-in.
    const signIn = trace.events.filter((e: TraceEvent) => e.section !== 'lifecycle');
    const consoleForm = pin(checkTitles(formatTranscript(signIn)));
    return { '3.1': bySection('3.1'), '3.2': bySection('3.2'), '3.3': bySection('3.3'), '3.4': bySection('3.4'), lifecycle: bySection('lifecycle'), console: consoleForm };
  } finally {
    await sandbox.close();
  }
}

/**
 * The pages say each check that held as what it checks (its title, as /trace does), one a line: a
 * list of codes such as ISSUER_MISMATCH reads as if those errors had happened. Lines in another
 * form are kept as they are.
 */
export function checkTitles(transcript: string): string {
  const title = (code: string) => (CHECKS as Record<string, { title: string } | undefined>)[code]?.title ?? code;
  return transcript
    .replace(/^( *)✓ \d+ checks? held: (.*)$/gm, (_line, indent: string, codes: string) => codes.split(', ').map((code) => `${indent}✓ ${title(code)}`).join('\n'))
    .replace(/^( *)– n\/a ([A-Z0-9_]+): (.*)$/gm, (_line, indent: string, code: string, why: string) => `${indent}– n/a: ${title(code)} — ${why}`);
}

if (process.argv[1]?.endsWith('transcripts.ts')) {
  const transcripts = await sandboxTranscripts();
  for (const [section, text] of Object.entries(transcripts)) console.log(`#### ${section}\n${text}\n`);
}
