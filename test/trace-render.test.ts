// The transcript as a reader gets it: checks that could not apply marked n/a with why, the
// authorization request as a decoded table, redaction marks never percent-encoded, the sequence
// page, and the versioned JSON with rule URLs and parsed bodies. Units only: no app, no network.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { Trace, formatTranscript, type CheckEvent, type TraceEvent } from '../src/trace.ts';
import { docsPageOf } from '../src/trace-format.ts';
import { CHECKS } from '../src/checks.ts';
import { transcriptJson, TRANSCRIPT_JSON_VERSION, parameterWhy } from '../src/trace-format.ts';
import { tracePage } from '../src/app/trace-page.ts';
import { DOCS_FILES, docsPage } from '../src/app/docs-page.ts';
import { buildAuthorizationUrl, codeChallengeS256, discover, exchangeCode, processDiscoveryResponse, validateCallback } from '../src/index.ts';
import { CLIENT, METADATA, TENANT, mockTenant, qlikMetadataDocument, result } from './helpers/tenant.ts';

const server = mockTenant();
after(() => server.close());

const STATE = 'state-SECRET-0123456789abcdefghijklmnopqrstuv';
const VERIFIER = 'verifier-SECRET-0123456789abcdefghijklmnopqrstu';
const CODE = 'code-SECRET-0123456789abcdef';
const ACCESS = 'at-SECRET-0123456789abcdefghij';
// A redaction mark, percent-encoded: "…" is %E2%80%A6, "(" %28, " " + or %20.
const ENCODED_MARK = /%E2%80%A6|…%28|%28\d+(?:\+|%20)chars/i;

function checksOf(trace: Trace): CheckEvent[] {
  return trace.events.filter((e): e is CheckEvent => e.type === 'check');
}

function page(events: readonly TraceEvent[], startEvents: readonly TraceEvent[] = [], attacks?: Parameters<typeof tracePage>[0]['attacks']): string {
  return tracePage({ startEvents, events, authorizationEndpoint: METADATA.authorizationEndpoint, callbackUrl: CLIENT.redirectUri, attacks }).text;
}

test('a callback without iss, from a tenant that never promised it: ISS_MISMATCH and ISS_MISSING are n/a, with why', () => {
  const trace = new Trace();
  validateCallback(`${CLIENT.redirectUri}?code=${CODE}&state=${STATE}`, { expectedState: STATE, issuer: TENANT, issRequired: false }, trace.hooks('3.3'));
  const byCode = new Map(checksOf(trace).map((c) => [c.code, c]));
  assert.equal(byCode.get('ISS_MISMATCH')?.applicable, false);
  assert.match(byCode.get('ISS_MISMATCH')!.why!, /no iss came/);
  assert.equal(byCode.get('ISS_MISSING')?.applicable, false);
  assert.match(byCode.get('ISS_MISSING')!.why!, /does not promise iss/);
  assert.equal(byCode.get('STATE_MISMATCH')?.applicable, true, 'a check that looked at something held');
  assert.equal(byCode.get('STATE_MISMATCH')?.why, undefined);
  assert.ok([...byCode.values()].every((c) => c.passed), 'n/a is not a failure');
});

test('a token response without expiry, refresh token or scope: EXPIRY_INVALID and TOKEN_FIELD_INVALID are n/a', async () => {
  server.use(http.post(`${TENANT}/oauth/token`, () => HttpResponse.json({ access_token: ACCESS, token_type: 'bearer' })));
  const bare = new Trace();
  await exchangeCode(METADATA, CLIENT, { code: CODE, codeVerifier: VERIFIER }, bare.hooks('3.3'));
  assert.deepEqual(checksOf(bare).filter((c) => !c.applicable).map((c) => `${c.code}: ${c.why}`), [
    'EXPIRY_INVALID: the response gives neither expires_in nor expires_at',
    'TOKEN_FIELD_INVALID: the response has neither refresh_token nor scope',
  ]);
  server.use(http.post(`${TENANT}/oauth/token`, () => HttpResponse.json({ access_token: ACCESS, token_type: 'bearer', expires_in: 60, scope: 'user_default' })));
  const full = new Trace();
  await exchangeCode(METADATA, CLIENT, { code: CODE, codeVerifier: VERIFIER }, full.hooks('3.3'));
  assert.deepEqual(checksOf(full).filter((c) => !c.applicable), []);
});

test('with iss promised and present, both iss checks applied and held', () => {
  const trace = new Trace();
  validateCallback(`${CLIENT.redirectUri}?code=${CODE}&state=${STATE}&iss=${encodeURIComponent(TENANT)}`, { expectedState: STATE, issuer: TENANT, issRequired: true }, trace.hooks('3.3'));
  for (const code of ['ISS_MISMATCH', 'ISS_MISSING']) {
    assert.equal(checksOf(trace).find((c) => c.code === code)?.applicable, true, code);
  }
});

test("discovery: Qlik's empty lists make the three list checks n/a; listed ones apply", () => {
  const qlik = new Trace();
  processDiscoveryResponse(result(200, qlikMetadataDocument()), TENANT, qlik.hooks('3.1'));
  const na = checksOf(qlik).filter((c) => !c.applicable).map((c) => c.code).sort();
  assert.deepEqual(na, ['AUTH_METHOD_NOT_SUPPORTED', 'CODE_FLOW_NOT_SUPPORTED', 'S256_NOT_SUPPORTED']);
  assert.match(checksOf(qlik).find((c) => c.code === 'S256_NOT_SUPPORTED')!.why!, /code_challenge_methods_supported is absent or empty/);

  const listed = new Trace();
  const doc = { ...qlikMetadataDocument(), code_challenge_methods_supported: ['S256'], response_types_supported: ['code'], token_endpoint_auth_methods_supported: ['client_secret_post'] };
  processDiscoveryResponse(result(200, doc), TENANT, listed.hooks('3.1'));
  assert.deepEqual(checksOf(listed).filter((c) => !c.applicable), []);
});

test('the authorization request is recorded decoded: each parameter by name, the state a raw mark', () => {
  const trace = new Trace();
  const url = buildAuthorizationUrl(METADATA, CLIENT, { scope: 'user_default offline_access', state: STATE, codeChallenge: codeChallengeS256(VERIFIER) });
  trace.note('3.2', `GET /login: the browser goes to ${url.href}`);
  const note = trace.events[0]!;
  assert.equal(note.type, 'note');
  const [link] = note.type === 'note' ? note.links ?? [] : [];
  assert.ok(link);
  assert.equal(link.base, METADATA.authorizationEndpoint);
  const params = new Map(link.params);
  assert.equal(params.get('scope'), 'user_default offline_access', 'decoded, not user_default+offline_access');
  assert.equal(params.get('redirect_uri'), CLIENT.redirectUri);
  assert.equal(params.get('code_challenge'), codeChallengeS256(VERIFIER), 'the challenge is public: shown whole');
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.match(params.get('state')!, /^stat…\(45 chars #[0-9a-f]{4}\)$/);
  assert.ok(!JSON.stringify(trace.events).includes(STATE));
  assert.doesNotMatch(JSON.stringify(trace.events), ENCODED_MARK);
});

test('the page shows the authorization request as a table with why, and no percent-encoded mark anywhere', () => {
  const trace = new Trace();
  const url = buildAuthorizationUrl(METADATA, CLIENT, { scope: 'user_default offline_access', state: STATE, codeChallenge: codeChallengeS256(VERIFIER) });
  trace.note('3.2', `GET /login: the browser goes to ${url.href}`);
  trace.note('3.3', `The browser is back from the tenant: GET ${CLIENT.redirectUri}?code=${CODE}&state=${STATE}&iss=${encodeURIComponent(TENANT)}`);
  const html = page(trace.events);
  assert.match(html, /<tr><td><code>code_challenge<\/code><\/td><td><code>[\w-]{43}<\/code><\/td><td>SHA-256 of the verifier, which only the app can read \(sealed in this browser’s sign-in cookie/);
  assert.match(html, /<tr><td><code>scope<\/code><\/td><td><code>user_default offline_access<\/code><\/td>/);
  assert.match(html, /<tr><td><code>state<\/code><\/td><td><code>stat…\(45 chars #[0-9a-f]{4}\)<\/code><\/td>/);
  // The callback is an arrow from the browser to the app, its parameters decoded too.
  assert.match(html, /<code>GET \/login\/callback<\/code> with code, state, iss/);
  assert.match(html, /<tr><td><code>iss<\/code><\/td><td><code>http:\/\/127\.0\.0\.1:9<\/code><\/td>/);
  assert.doesNotMatch(html, ENCODED_MARK);
  assert.ok(!html.includes(STATE) && !html.includes(CODE));
  assert.equal(parameterWhy('code_challenge'), 'SHA-256 of the verifier, which only the app can read (sealed in this browser’s sign-in cookie; PKCE): a stolen code is useless without it');
  assert.equal(parameterWhy('constructor'), undefined, 'only own entries');
});

test('checks read as what held, n/a with why, the code linked to its docs row and the rule to the RFC', () => {
  const trace = new Trace();
  validateCallback(`${CLIENT.redirectUri}?code=${CODE}&state=${STATE}`, { expectedState: STATE, issuer: TENANT, issRequired: false }, trace.hooks('3.3'));
  trace.check('3.3', CHECKS.TOKEN_ERROR_RESPONSE, false, 'The tenant refused the code: invalid_grant.');
  const html = page(trace.events);
  assert.match(
    html,
    /<li class="held"><span class="mark">✓<\/span> the callback state equals the one this browser was sent with <a class="code" href="\/docs\/3\.3-token\.md#STATE_MISMATCH">STATE_MISMATCH<\/a> <span class="rule"><a href="https:\/\/www\.rfc-editor\.org\/rfc\/rfc6749#section-10\.12">RFC 6749 §10\.12<\/a><\/span><\/li>/,
  );
  assert.match(html, /<li class="na"><span class="mark">n\/a<\/span> the callback carries iss when the tenant says it sends it <a class="code" href="\/docs\/3\.3-token\.md#ISS_MISSING">ISS_MISSING<\/a> <span class="rule">.*?<\/span> <span class="why">— did not apply: the tenant&#39;s metadata does not promise iss/);
  assert.match(html, /<li class="failed"><span class="mark">✗<\/span> did not hold: the token endpoint answers with tokens, not an error <a class="code" [^>]+>TOKEN_ERROR_RESPONSE<\/a> <span class="rule">.*?<\/span><br>The tenant refused the code: invalid_grant\./);
  assert.match(html, /\(6 held, 2 did not apply, 1 failed\)/);
  assert.match(html, /<p class="flash warning">The sign-in stopped at <code>TOKEN_ERROR_RESPONSE<\/code>/);
});

test('each step links to its docs page; machine-to-machine checks to docs/machine.md', () => {
  assert.equal(docsPageOf('STATE_MISMATCH'), '3.3-token.md');
  assert.equal(docsPageOf('TIMEOUT'), 'http.md');
  assert.equal(docsPageOf('MACHINE_TOKEN_REFUSED'), 'machine.md');
  for (const page of ['3.1-discovery.md', '3.3-token.md', 'http.md', 'lifecycle.md', 'machine.md']) assert.ok(DOCS_FILES.includes(page), `${page} is served`);
  assert.ok(DOCS_FILES.every((file) => /^[\w.-]+\.md$/.test(file)));
});

test('a rule of two RFCs links both', () => {
  const trace = new Trace();
  trace.check('3.3', CHECKS.LOGIN_NOT_PENDING, false, 'used');
  const html = page(trace.events);
  assert.match(html, /<a href="https:\/\/www\.rfc-editor\.org\/rfc\/rfc9700#section-2\.1">RFC 9700 §2\.1<\/a>, <a href="https:\/\/www\.rfc-editor\.org\/rfc\/rfc9700#section-4\.7\.1">RFC 9700 §4\.7\.1<\/a>/);
});

test('the page is a sequence: discovery at start first, then one arrow per request; a click opens headers and body', async () => {
  server.use(
    http.get(`${TENANT}/.well-known/oauth-authorization-server`, () => HttpResponse.json(qlikMetadataDocument())),
    http.post(`${TENANT}/oauth/token`, () => HttpResponse.json({ access_token: ACCESS, token_type: 'bearer', expires_in: 300 })),
  );
  const start = new Trace([CLIENT.clientSecret]);
  const metadata = await discover(TENANT, start.hooks('3.1'));
  const trace = new Trace([CLIENT.clientSecret, VERIFIER]);
  await exchangeCode(metadata, CLIENT, { code: CODE, codeVerifier: VERIFIER }, trace.hooks('3.3'));
  const html = page(trace.events, start.events);
  assert.match(html, /<div class="lanes" aria-hidden="true"><span>Browser<\/span><span>App \(your server\)<\/span><span>Tenant<\/span><\/div>/);
  assert.ok(html.indexOf('<h2>3.1 Discover the tenant <small>— once, when the app started') < html.indexOf('<h2>3.3 '), '3.1 comes first');
  // App → tenant, expandable; the token request's form as a table, the client secret without prefix.
  assert.match(html, /<details class="msg"><summary><span class="arrow right at"><span class="label"><code>POST \/oauth\/token<\/code><\/span><span class="line"><\/span><span class="ret">← 200 · \d+ ms<\/span><\/span><\/summary><div class="more">/);
  assert.match(html, /<tr><td><code>client_secret<\/code><\/td><td><code>…\(29 chars #[0-9a-f]{4}\)<\/code><\/td>/);
  assert.match(html, /<tr><td><code>code_verifier<\/code><\/td><td><code>veri…\(47 chars #[0-9a-f]{4}\)<\/code><\/td>/);
  assert.match(html, /&quot;access_token&quot;: &quot;at-S…\(30 chars #[0-9a-f]{4}\)&quot;/);
  for (const secret of [ACCESS, VERIFIER, CODE, CLIENT.clientSecret]) assert.ok(!html.includes(secret), secret);
  assert.doesNotMatch(html, /<script/i);
});

test('JSON: a version, each check with its rule URLs, docs page and applicability, JSON bodies as objects, still redacted', async () => {
  server.use(
    http.get(`${TENANT}/.well-known/oauth-authorization-server`, () => HttpResponse.json(qlikMetadataDocument())),
    http.post(`${TENANT}/oauth/token`, () => HttpResponse.json({ access_token: ACCESS, token_type: 'bearer', expires_in: 300 })),
  );
  const trace = new Trace([CLIENT.clientSecret, VERIFIER]);
  const metadata = await discover(TENANT, trace.hooks('3.1'));
  await exchangeCode(metadata, CLIENT, { code: CODE, codeVerifier: VERIFIER }, trace.hooks('3.3'));
  const json = transcriptJson(trace.events) as { version: number; events: Record<string, unknown>[] };
  assert.equal(json.version, TRANSCRIPT_JSON_VERSION);
  const check = (code: string) => json.events.find((e) => e.type === 'check' && e.code === code)!;
  assert.equal(check('ISSUER_MISMATCH').ruleUrl, 'https://www.rfc-editor.org/rfc/rfc8414#section-3.3');
  assert.equal(check('ISSUER_MISMATCH').docs, 'docs/3.1-discovery.md');
  assert.equal(check('ISSUER_MISMATCH').applicable, true);
  assert.equal(check('ISSUER_MISMATCH').outcome, 'held');
  assert.deepEqual(check('S256_NOT_SUPPORTED').ruleUrls, ['https://www.rfc-editor.org/rfc/rfc8414#section-2', 'https://www.rfc-editor.org/rfc/rfc9700#section-2.1.1']);
  assert.equal(check('S256_NOT_SUPPORTED').applicable, false);
  assert.equal(check('S256_NOT_SUPPORTED').outcome, 'n/a');
  assert.equal(check('TIMEOUT' as string), undefined);
  const token = json.events.find((e) => e.type === 'exchange' && e.method === 'POST')!;
  const body = token.responseBody as Record<string, unknown>;
  assert.equal(typeof body, 'object', 'a JSON body is an object');
  assert.match(body.access_token as string, /^at-S…\(30 chars #[0-9a-f]{4}\)$/);
  assert.equal(typeof token.requestBody, 'string', 'a form body stays a string');
  const text = JSON.stringify(json);
  for (const secret of [ACCESS, VERIFIER, CODE, CLIENT.clientSecret]) assert.ok(!text.includes(secret), secret);
});

test('the console transcript: each check in its positive words, n/a with why, the authorization request one parameter a line', () => {
  const trace = new Trace();
  const url = buildAuthorizationUrl(METADATA, CLIENT, { scope: 'user_default offline_access', state: STATE, codeChallenge: codeChallengeS256(VERIFIER) });
  trace.note('3.2', `the browser goes to ${url.href}`);
  validateCallback(`${CLIENT.redirectUri}?code=${CODE}&state=${STATE}`, { expectedState: STATE, issuer: TENANT, issRequired: false }, trace.hooks('3.3'));
  const text = formatTranscript(trace.events);
  assert.match(text, /^ {3}· the browser goes to http:\/\/127\.0\.0\.1:9\/oauth\/authorize\?…$/m, 'the query is listed below, not repeated encoded');
  assert.match(text, /^ {7}scope +user_default offline_access$/m);
  assert.match(text, /^ {7}state +stat…\(45 chars #[0-9a-f]{4}\)$/m);
  // Each check in its positive words, its code after it: a list of codes alone (STATE_MISMATCH…) read as if those had happened.
  assert.match(text, /^ {3}✓ the callback carries state \[STATE_MISSING\]\n {3}✓ the callback state equals the one this browser was sent with \[STATE_MISMATCH\]$/m);
  assert.doesNotMatch(text, /checks held: [A-Z_]+/);
  assert.match(text, /^ {3}– did not apply: a callback iss equals the tenant issuer \[ISS_MISMATCH\] — no iss came with this callback, so there was no issuer to compare\n {3}– did not apply: the callback carries iss when the tenant says it sends it \[ISS_MISSING\] — the tenant's metadata does not promise iss/m);
  assert.doesNotMatch(text, ENCODED_MARK);
  assert.ok(!text.includes(STATE));
});

test('a decoded parameter cannot put a control character on the console (terminal escapes from a forged callback)', () => {
  const trace = new Trace();
  trace.note('3.3', `The browser is back from the tenant: GET ${CLIENT.redirectUri}?error=x&error_description=%1B%5D0%3Bowned%07%0D%1B%5B2J&state=${STATE}`);
  const text = formatTranscript(trace.events);
  assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f]/);
  assert.match(text, /error_description \\x1b\]0;owned\\x07/);
});

test('tamper buttons appear only when the page is told the app runs on the sandbox', () => {
  const trace = new Trace();
  trace.note('3.4', 'Signed in as Ada; the session id was renewed.');
  assert.doesNotMatch(page(trace.events), /trace\/tamper|Try breaking it/);
  const sandbox = page(trace.events, [], { available: true, outcomes: [], issPromised: false });
  for (const attack of ['replay', 'tamper-state', 'drop-iss']) assert.match(sandbox, new RegExp(`<form method="post" action="/trace/tamper\\?attack=${attack}">`));
  assert.match(page(trace.events, [], { available: false, outcomes: [], issPromised: false }), /Sign in first/);
});

test('a docs page is rendered: headings with GitHub\'s slug, a check row with its code as id (once), everything escaped', () => {
  const html = docsPage('3.3-token.md', '# T\n\n### Why S256, never `plain`\n\n| code | what |\n| --- | --- |\n| `STATE_MISMATCH` | a <b>x</b> \\| y |\n| `STATE_MISMATCH` | again |').text;
  assert.match(html, /<h1 id="t">T<\/h1>/);
  assert.match(html, /<h3 id="why-s256-never-plain">Why S256, never <code>plain<\/code><\/h3>/);
  assert.match(html, /<thead><tr><th scope="col">code<\/th><th scope="col">what<\/th><\/tr><\/thead>/);
  assert.match(html, /<tr id="STATE_MISMATCH"><td><code>STATE_MISMATCH<\/code><\/td><td>a &lt;b&gt;x&lt;\/b&gt; \| y<\/td><\/tr>/);
  assert.equal(html.match(/id="STATE_MISMATCH"/g)?.length, 1, 'one anchor per code');
});

test('a docs page\'s links: other docs pages, anchors and https only; ../test/ and the rest are text', () => {
  const links = docsPage('index.md', 'See [checks](3.3-token.md#the-checks), [RFC](https://www.rfc-editor.org/rfc/rfc6749), [a test](../test/3-token.test.ts), [x](javascript:alert(1)), [gone](no-such-page.md).').text;
  assert.match(links, /<a href="\/docs\/3\.3-token\.md#the-checks">checks<\/a>/);
  assert.match(links, /<a href="https:\/\/www\.rfc-editor\.org\/rfc\/rfc6749">RFC<\/a>/);
  assert.match(links, /, a test, x\), gone\./, 'links nobody can follow from here are their text');
  assert.doesNotMatch(links, /href="[^"]*(?:\.\.\/|javascript|no-such-page)/);
});

test('a docs page\'s blocks: lists (nested), code, a Mermaid diagram as its source, quotes, <details> open; other HTML is text', () => {
  const md = [
    '1. **First** step,',
    '   on two lines:',
    '   - a nested item;',
    '   - another.',
    '2. Second.',
    '',
    '```ts',
    'if (a < b) run("<script>");',
    '```',
    '',
    '```mermaid',
    'sequenceDiagram',
    '    A->>B: GET /x<br/>y',
    '```',
    '',
    '> A quote with *emphasis*.',
    '',
    '<details>',
    '<summary>4 checks</summary>',
    '',
    '</details>',
    '<!-- excerpt: src/x.ts -->',
    '<script>alert(1)</script> <img src=x onerror=alert(1)>',
  ].join('\n');
  const html = docsPage('x.md', md).text;
  assert.match(html, /<ol><li><strong>First<\/strong> step,\non two lines:<ul><li>a nested item;<\/li><li>another\.<\/li><\/ul>\n<\/li><li>Second\.<\/li><\/ol>/);
  assert.match(html, /<pre><code>if \(a &lt; b\) run\(&quot;&lt;script&gt;&quot;\);<\/code><\/pre>/);
  assert.match(html, /<details class="diagram"><summary>A diagram \(its Mermaid source[^<]*<\/summary><pre><code>sequenceDiagram\n {4}A-&gt;&gt;B: GET \/x&lt;br\/&gt;y<\/code><\/pre><\/details>/);
  assert.match(html, /<blockquote><p>A quote with <em>emphasis<\/em>\.<\/p>\n<\/blockquote>/);
  assert.match(html, /<details open>\n<summary>4 checks<\/summary>\n<\/details>/);
  assert.doesNotMatch(html, /excerpt: src/, 'generator markers are dropped');
  assert.match(html, /<p>&lt;script&gt;alert\(1\)&lt;\/script&gt; &lt;img src=x onerror=alert\(1\)&gt;<\/p>/);
  assert.doesNotMatch(html, /<script|<img/);
});

test('every page in docs/ renders with no Markdown left showing, and each check code has its row on its step\'s page', async () => {
  const { readFile } = await import('node:fs/promises');
  for (const file of DOCS_FILES) {
    const page = docsPage(file, await readFile(new URL(`../docs/${file}`, import.meta.url), 'utf8')).text;
    const html = page.slice(page.indexOf('<div class="doc">'), page.indexOf('</main>'));
    const text = html.replace(/<pre>[\s\S]*?<\/pre>/g, ''); // code is shown as written
    assert.doesNotMatch(text, /^\s*(?:\||#{1,6} |```)/m, `${file}: a table row, heading or fence left as Markdown`);
    assert.doesNotMatch(text, /\]\([^)\s]+\)/, `${file}: a [link](target) left as Markdown`);
    assert.doesNotMatch(html, /<script|href="(?!\/docs\/|#|https:\/\/)/, `${file}: a script, or a link that leads nowhere from here`);
    assert.equal(page.match(/<h1[ >]/g)?.length, 1, `${file}: one title`);
  }
  for (const code of Object.keys(CHECKS)) {
    const page = docsPageOf(code);
    if (page === undefined || !DOCS_FILES.includes(page)) continue;
    const html = docsPage(page, await readFile(new URL(`../docs/${page}`, import.meta.url), 'utf8')).text;
    assert.match(html, new RegExp(`<tr id="${code}">`), `${page} has a row for ${code}`);
  }
});
