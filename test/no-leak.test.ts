// No secret value — the client secret, the code, the verifier, the tokens — appears in anything the
// app shows or prints: its pages, /trace and /trace?format=json, its log, and the console transcript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_CLIENT_SECRET } from '../src/sandbox/index.ts';
import { Browser, findLeaks, signIn, startStack, watchSecrets, type Stack } from './helpers/browser.ts';

let stack: Stack;
let watch: ReturnType<typeof watchSecrets>;
const consoleLines: string[] = [];

before(async () => {
  watch = watchSecrets();
  // Access tokens that live 1 s, so the home page's call refreshes: refresh tokens travel too.
  stack = await startStack({ sandbox: { accessTokenLifetimeSeconds: 1 }, app: { onTranscript: (text) => consoleLines.push(text) } });
});
after(async () => {
  watch.stop();
  await stack.close();
});

test('a sign-in, a refresh, a failed sign-in and a sign-out leak no secret to pages, /trace, JSON or console', async () => {
  const browser = new Browser();
  const first = await signIn(browser, stack.app, 'ada');
  // The code travels from the tenant through the browser; the watcher sees the wire at the tenant
  // only, so the code is added here: it must not show up on any page of the app either.
  const code = new URL(first.decision.location!).searchParams.get('code')!;
  watch.secrets.add(code);
  await browser.get(`${stack.app.url}/`); // the token has expired by now or soon: the spaces call refreshes
  await browser.get(`${stack.app.url}/trace`);
  await browser.get(`${stack.app.url}/trace?format=json`);

  // A failing sign-in: the callback is replayed with a tampered state.
  const second = await signIn(new Browser(), stack.app, 'bob');
  const callback = new URL(second.decision.location!);
  callback.searchParams.set('state', 'x'.repeat(43));
  const failed = await browser.get(callback.href);
  assert.equal(failed.status, 400);
  const failedTrace = await browser.get(`${stack.app.url}/trace?format=json`);
  const { events } = JSON.parse(failedTrace.body) as { events: { type: string; code?: string; passed?: boolean }[] };
  assert.ok(events.some((e) => e.type === 'check' && e.code === 'STATE_MISMATCH' && e.passed === false), 'the failing check is in the transcript');

  assert.equal((await browser.request(`${stack.app.url}/logout`, { method: 'POST', origin: stack.app.url })).status, 302);
  await browser.get(`${stack.app.url}/trace`);

  // The watcher saw every kind of secret on the wire, so this test can fail.
  assert.ok(watch.secrets.has(SANDBOX_CLIENT_SECRET));
  assert.match(code, /^sbx_ac_/);
  for (const pattern of [/^sbx_at_/, /^sbx_rt_/]) {
    assert.ok([...watch.secrets].some((s) => pattern.test(s)), `saw a secret like ${pattern}`);
  }
  assert.ok([...watch.secrets].some((s) => /^[A-Za-z0-9_-]{43}$/.test(s)), 'saw a code verifier');
  assert.ok(consoleLines.length >= 2, 'a transcript was printed for each sign-in');
  assert.match(consoleLines.join('\n'), /── 3\.3 Take the callback, exchange the code/);

  const appPages = browser.pages.filter((page) => page.url.startsWith(stack.app.url));
  assert.ok(appPages.some((p) => p.url.endsWith('/trace?format=json')));
  assert.deepEqual(findLeaks(watch.secrets, appPages, [...stack.logs, ...consoleLines]), []);
});
