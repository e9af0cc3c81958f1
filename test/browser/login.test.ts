// A real browser (Chromium through playwright-core) signs in to the app against the sandbox tenant:
// the cookie, SameSite=Lax on the way back from the tenant, the CSP and the redirects, as browsers
// really apply them. Run with `npm run test:browser`; it needs Chromium at /usr/bin/chromium.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startStack, type Stack } from '../helpers/browser.ts';
import { launchChromium, screenshotPath } from './chromium.ts';

const SCREENSHOT = screenshotPath('screenshot-signed-in.png');

describe('a real browser signs in', () => {
  let stack: Stack;
  let browser: Browser;

  before(async () => {
    stack = await startStack();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('logs in through the consent page, shows Ada, and logs out', async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 600 } });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text()); // e.g. a CSP violation
    });

    await page.goto(`${stack.app.url}/`);
    assert.equal(await page.locator('h1').textContent(), 'Not signed in');
    await page.getByRole('link', { name: 'Log in' }).click();

    await page.waitForURL((url) => url.origin === stack.sandbox.url);
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL(`${stack.app.url}/`);
    assert.equal(await page.locator('h1').textContent(), 'Signed in as Ada');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    const [sid] = (await context.cookies(stack.app.url)).filter((cookie) => cookie.name === 'sid');
    assert.ok(sid, 'the session cookie is set');
    assert.equal(sid.httpOnly, true);
    assert.equal(sid.sameSite, 'Lax');
    assert.equal(sid.path, '/');

    const me = await page.goto(`${stack.app.url}/api/me`);
    assert.equal(me?.status(), 200);
    assert.equal(((await me?.json()) as { name: string }).name, 'Ada');

    await page.goto(`${stack.app.url}/`);
    const revokes = stack.sandbox.stats().revokeRequests;
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${stack.app.url}/`);
    await page.locator('h1', { hasText: 'Not signed in' }).waitFor();
    assert.match((await page.locator('.flash').textContent()) ?? '', /You are signed out, and the tenant revoked/);
    assert.equal(stack.sandbox.stats().revokeRequests - revokes, 2);

    assert.deepEqual(consoleErrors, []);
    await context.close();
  });
});
