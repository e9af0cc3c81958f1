// /trace end to end: after a sign-in against the sandbox tenant, the page and the JSON start with
// discovery at start-up (3.1), show the authorization request decoded and the checks that did not
// apply; on the sandbox, the attack buttons work against the browser's own sign-in and name the
// check that stops each; with a real tenant configured they do not exist. No network but 127.0.0.1.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, findLeaks, signIn, startStack, watchSecrets, type Stack, browserPool } from './helpers/browser.ts';
import { HOSTILE_CLIENT_SECRET, hostileSignIn, startHostileStack, type HostileStack } from './helpers/hostile-tenant.ts';

// A redaction mark, percent-encoded: "…" is %E2%80%A6, "(" %28.
const ENCODED_MARK = /%E2%80%A6|%28\d+(?:\+|%20)chars/i;

interface TranscriptJson {
  version: number;
  events: { type: string; section: string; code?: string; applicable?: boolean; ruleUrl?: string | null; method?: string; url?: string; responseBody?: unknown }[];
}

describe('/trace after a sign-in on the sandbox tenant', () => {
  let stack: Stack;
  const transcripts: string[] = [];
  const watch = watchSecrets();
  const { browsers, newBrowser } = browserPool();

  before(async () => {
    stack = await startStack({ app: { sandbox: true, onTranscript: (text) => transcripts.push(text) } });
  });
  after(async () => {
    watch.stop();
    await stack.close();
    // No verifier, secret or token reached a page, a header or the log, attacks included.
    assert.deepEqual(findLeaks(watch.secrets, browsers.flatMap((b) => b.pages), [...stack.logs, ...transcripts]), []);
  });

  it('starts with 3.1 discovery, decodes the authorization request, marks n/a checks, and the console transcript starts with 3.1 too', async () => {
    const browser = newBrowser();
    const before = await browser.get(`${stack.app.url}/trace`);
    assert.match(before.body, /<h2>3\.1 Discover the tenant <small>— once, when the app started/, 'discovery is shown before any sign-in');
    assert.match(before.body, /No sign-in yet in this browser/);

    const run = await signIn(browser, stack.app, 'ada');
    assert.match(run.final.body, /Signed in as Ada/);
    const page = await browser.get(`${stack.app.url}/trace`);
    assert.equal(page.status, 200);
    const headings = [...page.body.matchAll(/<h2>([^<]+)/g)].map((m) => m[1]!.trim());
    assert.deepEqual(headings.slice(0, 4), ['Try breaking it', '3.1 Discover the tenant', '3.2 Send the user to sign in', '3.3 Take the callback, exchange the code']);
    assert.ok(headings.includes('3.4 Call the Qlik API'));
    assert.match(page.body, /<code>GET \/\.well-known\/oauth-authorization-server<\/code>/);
    assert.match(page.body, /<tr><td><code>code_challenge_method<\/code><\/td><td><code>S256<\/code><\/td>/);
    assert.match(page.body, /<tr><td><code>state<\/code><\/td><td><code>\S{4}…\(43 chars #[0-9a-f]{4}\)<\/code><\/td>/);
    assert.match(page.body, /<tr><td><code>scope<\/code><\/td><td><code>user_default offline_access<\/code><\/td>/);
    assert.match(page.body, /<li class="na"><span class="mark">n\/a<\/span> the callback carries iss when the tenant says it sends it/);
    assert.match(page.body, /<li class="held"><span class="mark">✓<\/span> the callback state equals the one this browser was sent with <a class="code" href="\/docs\/3\.3-token\.md#STATE_MISMATCH">STATE_MISMATCH<\/a>/);
    assert.doesNotMatch(page.body, ENCODED_MARK);

    const docs = await browser.get(`${stack.app.url}/docs/3.3-token.md`);
    assert.equal(docs.status, 200, 'the docs link works offline, served by the app');
    assert.match(docs.body, /<tr id="STATE_MISMATCH"><td><code>STATE_MISMATCH<\/code><\/td>/, 'rendered, the check\'s row named by its code');
    assert.doesNotMatch(docs.body, /<pre class="doc">|^\| `STATE_MISMATCH`/m, 'not the raw Markdown');

    const json = JSON.parse((await browser.get(`${stack.app.url}/trace?format=json`)).body) as TranscriptJson;
    assert.equal(json.version, 2);
    assert.equal(json.events[0]!.section, '3.1');
    const discovery = json.events.find((e) => e.type === 'exchange')!;
    assert.match(discovery.url!, /\/\.well-known\/oauth-authorization-server$/);
    assert.equal(typeof discovery.responseBody, 'object');
    const issMissing = json.events.find((e) => e.code === 'ISS_MISSING')!;
    assert.equal(issMissing.applicable, false);
    assert.equal(issMissing.ruleUrl, 'https://www.rfc-editor.org/rfc/rfc9207#section-2.4');
    assert.doesNotMatch(JSON.stringify(json), ENCODED_MARK);

    const console = transcripts.at(-1)!;
    assert.match(console, /^── 3\.1 Discover the tenant\n {3}✓ the tenant URL is an absolute URL without query or fragment \[TENANT_URL_INVALID\]\n {3}✓ the tenant URL uses https \(loopback excepted\) \[TENANT_URL_NOT_HTTPS\]\n {3}GET http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-authorization-server → 200/);
    assert.match(console, /── 3\.2 Send the user to sign in/);
  });

  it('replay this callback: refused as LOGIN_NOT_PENDING, and the user stays signed in', async () => {
    const browser = newBrowser();
    await signIn(browser, stack.app, 'ada');
    const tokenCalls = stack.sandbox.stats().tokenRequests;
    const answer = await browser.request(`${stack.app.url}/trace/tamper?attack=replay`, { method: 'POST' });
    assert.equal(answer.status, 303);
    assert.equal(answer.location, `${stack.app.url}/trace#attacks`);
    assert.equal(stack.sandbox.stats().tokenRequests, tokenCalls, 'nothing went to the tenant');
    const page = await browser.get(`${stack.app.url}/trace`);
    // A refusal said as one: the check that did not hold, in its positive words.
    assert.match(page.body, /<b>Replay this callback<\/b>: refused by <a class="code" href="\/docs\/3\.3-token\.md#LOGIN_NOT_PENDING">LOGIN_NOT_PENDING<\/a>: “the callback answers a sign-in that is still pending \(state is single-use and expires\)” did not hold\./);
    // The box links down to the attack's part of the transcript.
    const anchor = /<b>Replay this callback<\/b>:[^\n]*<a href="#(attack-\d+)">See this attack in the transcript ↓<\/a><\/p>/.exec(page.body)?.[1];
    assert.ok(anchor, 'the result box links to the attack');
    assert.match(page.body, new RegExp(`<h3 class="attack" id="${anchor}">Attack \\(from the /trace page\\): replay this callback\\.</h3>`));
    assert.match(page.body, /<li class="failed"><span class="mark">✗<\/span> did not hold: the callback answers a sign-in that is still pending/);
    assert.doesNotMatch(page.body, /The sign-in stopped at/, 'the sign-in itself did not fail');
    assert.match((await browser.get(`${stack.app.url}/`)).body, /Signed in as Ada/);
  });

  it('tamper with the state: refused as STATE_MISMATCH before the code goes anywhere', async () => {
    const browser = newBrowser();
    await signIn(browser, stack.app, 'ada');
    const tokenCalls = stack.sandbox.stats().tokenRequests;
    await browser.request(`${stack.app.url}/trace/tamper?attack=tamper-state`, { method: 'POST' });
    assert.equal(stack.sandbox.stats().tokenRequests, tokenCalls);
    const page = await browser.get(`${stack.app.url}/trace`);
    assert.match(page.body, /<b>Tamper with the state<\/b>: refused by <a class="code" href="[^"]+">STATE_MISMATCH<\/a>: “the callback state equals the one this browser was sent with” did not hold\./);
    // The STATE_MISMATCH line shows both marks: the state this browser's sign-in was sent with, and the forged one.
    const marks = /Expected state …\(43 chars #([0-9a-f]{4})\) \(this browser&#39;s sign-in under way\); the callback brought state …\(43 chars #([0-9a-f]{4})\)\./.exec(page.body);
    assert.ok(marks, 'both marks in the STATE_MISMATCH line');
    assert.notEqual(marks[1], marks[2]);
    assert.match(page.body, new RegExp(`<tr><td><code>state</code></td><td><code>\\S{4}…\\(43 chars #${marks[2]}\\)</code></td>`), 'the received mark is the forged callback\'s state');
    assert.match(page.body, /<code>GET \/login\/callback<\/code> \(forged\) with code, state/);
    assert.equal(page.body.match(/302 back to the redirect URI/g)?.length, 1, 'only the real callback came from the tenant');
    assert.match((await browser.get(`${stack.app.url}/`)).body, /Signed in as Ada/);
  });

  it('drop iss, on a tenant that never promised iss: said before the click (no iss check, signed out; the fault that fires it), then the tenant refuses the spent code', async () => {
    const browser = newBrowser();
    await signIn(browser, stack.app, 'ada');
    const before = await browser.get(`${stack.app.url}/trace`);
    assert.match(before.body, /<strong>On this tenant it cannot reach an iss check, and it signs you out\.<\/strong>/);
    assert.match(before.body, /<code>SANDBOX_FAULT=iss-missing npm start<\/code> and sign in: The metadata promises <code>iss<\/code>/);
    await browser.request(`${stack.app.url}/trace/tamper?attack=drop-iss`, { method: 'POST' });
    const page = await browser.get(`${stack.app.url}/trace`);
    assert.match(page.body, /<b>Drop iss<\/b>: refused by <a class="code" href="[^"]+">TOKEN_ERROR_RESPONSE<\/a>: “the token endpoint answers with tokens, not an error” did not hold\./);
    assert.match(page.body, /This tenant never promised iss, so its absence proves nothing/);
  });

  it('refuses an attack posted from another site, and a GET', async () => {
    const browser = newBrowser();
    await signIn(browser, stack.app, 'ada');
    const forged = await browser.request(`${stack.app.url}/trace/tamper?attack=replay`, { method: 'POST', origin: 'http://evil.example' });
    assert.equal(forged.status, 403);
    assert.equal((await browser.get(`${stack.app.url}/trace/tamper?attack=replay`)).status, 405);
    assert.equal((await browser.request(`${stack.app.url}/trace/tamper?attack=nonsense`, { method: 'POST' })).status, 400);
    assert.doesNotMatch((await browser.get(`${stack.app.url}/trace`)).body, /<b>Replay this callback<\/b>/);
  });

  it('/docs serves the pages in docs/ only: no path leaves it, however it is spelt', async () => {
    const { request } = await import('node:http');
    const { port } = new URL(stack.app.url);
    // Raw request targets, as sent: fetch would resolve the dots itself.
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        })
          .on('error', reject)
          .end();
      });
    for (const path of ['/docs/../package.json', '/docs/..%2Fpackage.json', '/docs/%2e%2e/package.json', '/docs/3.3-token.md/../../package.json', '/docs/..%5Cpackage.json', '/docs/.env.example', '/docs/screenshot-trace.png']) {
      const answer = await get(path);
      assert.equal(answer.status, 404, path);
      assert.doesNotMatch(answer.body, /devDependencies|QLIK_CLIENT_SECRET=|PNG/, path);
    }
    assert.equal((await get('/docs/3.3-token.md')).status, 200);
  });

  it('before any sign-in there is nothing to attack', async () => {
    const browser = newBrowser();
    const page = await browser.get(`${stack.app.url}/trace`);
    assert.match(page.body, /Sign in first/);
    assert.doesNotMatch(page.body, /action="\/trace\/tamper/);
    assert.equal((await browser.request(`${stack.app.url}/trace/tamper?attack=replay`, { method: 'POST' })).status, 409);
  });
});

describe('drop iss on a tenant that promises iss', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ sandbox: { advertiseIss: true }, app: { sandbox: true } });
  });
  after(() => stack.close());

  it('is refused as ISS_MISSING before the code goes anywhere', async () => {
    const browser = new Browser();
    await signIn(browser, stack.app, 'ada');
    const tokenCalls = stack.sandbox.stats().tokenRequests;
    await browser.request(`${stack.app.url}/trace/tamper?attack=drop-iss`, { method: 'POST' });
    assert.equal(stack.sandbox.stats().tokenRequests, tokenCalls);
    const page = await browser.get(`${stack.app.url}/trace`);
    assert.match(page.body, /<b>Drop iss<\/b>: refused by <a class="code" href="[^"]+">ISS_MISSING<\/a>/);
    assert.match(page.body, /This tenant promises iss, so ISS_MISSING should refuse it/);
    assert.doesNotMatch(page.body, /signs you out/);
    assert.match((await browser.get(`${stack.app.url}/`)).body, /Signed in as Ada/);
  });
});

describe('with a real tenant configured there is no attack', () => {
  let hostile: HostileStack;
  let plain: Stack;
  before(async () => {
    hostile = await startHostileStack();
    plain = await startStack(); // the sandbox, but not started as the sandbox by main.ts: no flag
  });
  after(async () => {
    await hostile.close();
    await plain.close();
  });

  it('a hostile tenant: /trace has no attack buttons after a sign-in, and the route answers 404', async () => {
    const browser = new Browser();
    const { final } = await hostileSignIn(browser, hostile.app);
    assert.equal(final.status, 200);
    const page = await browser.get(`${hostile.app.url}/trace`);
    assert.match(page.body, /3\.1 Discover the tenant/);
    assert.doesNotMatch(page.body, /Try breaking it|\/trace\/tamper/);
    assert.equal((await browser.request(`${hostile.app.url}/trace/tamper?attack=replay`, { method: 'POST' })).status, 404);
    assert.ok(!page.body.includes(HOSTILE_CLIENT_SECRET));
  });

  it('an app whose options do not say sandbox: no attack either', async () => {
    const browser = new Browser();
    await signIn(browser, plain.app, 'ada');
    assert.doesNotMatch((await browser.get(`${plain.app.url}/trace`)).body, /Try breaking it|\/trace\/tamper/);
    assert.equal((await browser.request(`${plain.app.url}/trace/tamper?attack=replay`, { method: 'POST' })).status, 404);
  });
});
