// /trace in a real browser (Chromium through playwright-core): the sequence diagram opens an arrow
// on a click with no script at all (the CSP forbids scripts), and nothing on the page is wider than
// the window, on a laptop and on a phone, with every arrow open. Run with `npm run test:browser`;
// it needs Chromium at /usr/bin/chromium. SCREENSHOT=1 refreshes docs/screenshot-trace.png.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startStack, type Stack } from '../helpers/browser.ts';
import { launchChromium, screenshotPath } from './chromium.ts';

const SCREENSHOT = screenshotPath('screenshot-trace.png');

describe('/trace in a real browser', () => {
  let stack: Stack;
  let browser: Browser;

  before(async () => {
    stack = await startStack({ app: { sandbox: true } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** A new browser window of this width, signed in as Ada, on /trace. */
  async function signedInTrace(width: number, height = 800): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text()); // e.g. a CSP violation
    });
    await page.goto(`${stack.app.url}/login`);
    await page.waitForURL((url) => url.origin === stack.sandbox.url);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${stack.app.url}/`);
    await page.goto(`${stack.app.url}/trace`);
    return { page, errors, close: () => context.close() };
  }

  // Run in the page (as a string: this project's types have no DOM).
  const overflow = (page: Page) =>
    page.evaluate<{ scrollWidth: number; clientWidth: number }>('({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth })');

  it('a click opens one arrow (no script), and nothing overflows the page width', async () => {
    const { page, errors, close } = await signedInTrace(900);
    const token = page.locator('details.msg', { has: page.locator('summary', { hasText: 'POST /oauth/token' }) });
    assert.equal(await token.getAttribute('open'), null, 'closed until clicked');
    assert.equal(await token.locator('.more').isVisible(), false);
    await token.locator('summary').click();
    assert.equal(await token.getAttribute('open'), '', 'open after the click');
    assert.equal(await token.locator('td', { hasText: 'code_verifier' }).isVisible(), true, 'the request form, decoded, is shown');
    const { scrollWidth, clientWidth } = await overflow(page);
    assert.ok(scrollWidth <= clientWidth, `the page is ${scrollWidth}px wide in a ${clientWidth}px window`);
    assert.equal(await page.evaluate<number>('document.scripts.length'), 0);
    assert.deepEqual(errors, []);
    await close();
  });

  it('on a phone-sized window, with every arrow open, nothing overflows either', async () => {
    const { page, errors, close } = await signedInTrace(360);
    const summaries = page.locator('details.msg > summary');
    const count = await summaries.count();
    assert.ok(count >= 5, `arrows: ${count}`);
    for (let i = 0; i < count; i++) await summaries.nth(i).click();
    assert.equal(await page.locator('details.msg:not([open])').count(), 0);
    const { scrollWidth, clientWidth } = await overflow(page);
    assert.ok(scrollWidth <= clientWidth, `the page is ${scrollWidth}px wide in a ${clientWidth}px window`);
    // The authorization request's table is there, decoded.
    assert.equal(await page.locator('td', { hasText: /^code_challenge_method$/ }).isVisible(), true);
    assert.deepEqual(errors, []);
    await close();
  });

  it('the attack buttons work in a browser: replay → LOGIN_NOT_PENDING', async () => {
    const { page, errors, close } = await signedInTrace(1000, 1300);
    // The picture for the README: the sequence, with the authorization request open.
    await page.locator('details.msg > summary', { hasText: 'GET /oauth/authorize' }).click();
    await page.evaluate('document.querySelector(".seq").scrollIntoView()');
    await page.screenshot({ path: SCREENSHOT });

    await page.getByRole('button', { name: 'Replay this callback' }).click();
    await page.waitForURL(`${stack.app.url}/trace#attacks`);
    assert.match((await page.locator('#attacks').textContent()) ?? '', /Replay this callback: refused by LOGIN_NOT_PENDING: “the callback answers a sign-in that is still pending/);
    // The result box links down to the attack's part of the transcript, and the link lands there.
    await page.getByRole('link', { name: 'See this attack in the transcript ↓' }).click();
    const target = page.locator('h3.attack:target');
    assert.equal(await target.textContent(), 'Attack (from the /trace page): replay this callback.');
    assert.equal(await target.isVisible(), true);
    // Run in the page (as a string: this project's types have no DOM).
    const inView = page.evaluate<boolean>("(() => { const r = document.querySelector('h3.attack:target').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()");
    assert.equal(await inView, true, 'scrolled into view');
    assert.deepEqual(errors, []);
    await close();
  });
});
