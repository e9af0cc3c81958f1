// Two tabs finishing sign-in at once (issue 12, finding 12). Both callbacks leave the browser with
// the id it had at GET /login; the first renews it at sign-in. The second then found no session
// (400), or, when both were in flight together, renewed the id again, so that whichever cookie
// arrived last could name a dead id. Now the replaced id stays an alias, for callbacks of the same
// sign-in only (src/app/sessions.ts aliases): the second tab joins the first's session.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, consentCallback, startStack, type Stack } from '../helpers/browser.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

/** Both tabs at the tenant: each one's callback URL, and the Cookie header the browser sends with either. */
async function twoTabsAtTheTenant(browser: Browser): Promise<{ first: URL; second: URL; cookie: string }> {
  const first = await consentCallback(browser, stack.app, 'ada');
  const second = await consentCallback(browser, stack.app, 'ada');
  const names = ['sid', ...[first, second].map((url) => `signin-${url.searchParams.get('state')!.slice(0, 8)}`)];
  const cookie = names.map((name) => `${name}=${browser.cookie(stack.app.url, name)}`).join('; ');
  return { first, second, cookie };
}

const sidOf = (answer: Response) => /^sid=([^;]+)/.exec(answer.headers.getSetCookie().find((line) => line.startsWith('sid=')) ?? '')?.[1];

async function homeAs(sid: string | undefined): Promise<string> {
  assert.ok(sid, 'a session cookie');
  return (await fetch(`${stack.app.url}/`, { headers: { cookie: `sid=${sid}` } })).text();
}

describe('two tabs of one browser finishing sign-in', () => {
  it('the second, sent before the first answer arrived, lands signed in, and so does the first', async () => {
    const { first, second, cookie } = await twoTabsAtTheTenant(new Browser());
    const a = await fetch(first, { headers: { cookie }, redirect: 'manual' });
    assert.equal(a.status, 302);
    const b = await fetch(second, { headers: { cookie }, redirect: 'manual' }); // the old id: sent before a's cookie came
    assert.equal(b.status, 302, await b.text());
    // Whichever Set-Cookie the browser keeps, it names a signed-in session.
    assert.match(await homeAs(sidOf(a)), /Signed in as Ada/);
    assert.match(await homeAs(sidOf(b)), /Signed in as Ada/);
    assert.equal(sidOf(a), sidOf(b), 'one session');
  });

  it('both in flight together: whichever answer comes last, the browser is signed in', async () => {
    const { first, second, cookie } = await twoTabsAtTheTenant(new Browser());
    const [a, b] = await Promise.all([first, second].map((url) => fetch(url, { headers: { cookie }, redirect: 'manual' })));
    assert.deepEqual([a!.status, b!.status], [302, 302]);
    assert.match(await homeAs(sidOf(a!)), /Signed in as Ada/);
    assert.match(await homeAs(sidOf(b!)), /Signed in as Ada/);
  });

  it('the second, sent with the first tab\'s new cookie, lands signed in too', async () => {
    const browser = new Browser();
    const { first, second } = await twoTabsAtTheTenant(browser);
    assert.equal((await browser.follow(first.href)).at(-1)!.status, 200);
    const hops = await browser.follow(second.href);
    assert.equal(hops[0]!.status, 302, hops[0]!.body.slice(0, 300));
    assert.match(hops.at(-1)!.body, /Signed in as Ada/);
  });

  it('never lets a sign-in as someone else join: it gets a session of its own', async () => {
    const browser = new Browser();
    const first = await consentCallback(browser, stack.app, 'ada');
    const second = await consentCallback(browser, stack.app, 'grace');
    const names = ['sid', ...[first, second].map((url) => `signin-${url.searchParams.get('state')!.slice(0, 8)}`)];
    const cookie = names.map((name) => `${name}=${browser.cookie(stack.app.url, name)}`).join('; ');
    const a = await fetch(first, { headers: { cookie }, redirect: 'manual' });
    const b = await fetch(second, { headers: { cookie }, redirect: 'manual' });
    assert.deepEqual([a.status, b.status], [302, 302]);
    assert.notEqual(sidOf(a), sidOf(b));
    assert.match(await homeAs(sidOf(a)), /Signed in as Ada/, 'Ada is not replaced by Grace');
    assert.match(await homeAs(sidOf(b)), /Signed in as Grace/);
  });
});
