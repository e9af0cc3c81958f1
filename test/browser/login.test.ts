// A real browser (Chromium through playwright-core) signs in to the app against the sandbox tenant:
// the cookie, SameSite=Lax on the way back from the tenant, the CSP and the redirects, as browsers
// really apply them. Run with `npm run test:browser`; it needs Chromium at /usr/bin/chromium.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { startStack, type Stack } from '../helpers/browser.ts';

const CHROMIUM = '/usr/bin/chromium';
// The README's screenshot is refreshed only on request (SCREENSHOT=1 npm run test:browser), so a
// test run leaves the work tree as it was; otherwise the picture goes to a temporary folder.
const SCREENSHOT = process.env.SCREENSHOT === '1'
  ? new URL('../../docs/screenshot-signed-in.png', import.meta.url)
  : pathToFileURL(join(mkdtempSync(join(tmpdir(), 'qlik-shot-')), 'signed-in.png'));

describe('a real browser signs in', () => {
  let stack: Stack;
  let browser: Browser;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`No Chromium at ${CHROMIUM}. Install it (Debian: apt-get install -y chromium), then run npm run test:browser again.`);
    }
    stack = await startStack();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
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
    mkdirSync(new URL('.', SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });

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
