// Pages everyone can read: axe-core's WCAG 2.x A/AA rules (and its best practices, which hold the
// landmark rules) on every page a person sees — home signed out and signed in, /trace before and
// after an attack, the docs pages, the error page, and the sandbox tenant's consent page — in
// Chromium. axe is evaluated into the page through the DevTools protocol, which the page's CSP does
// not govern: no <script> is added, the CSP stays on. Run with `npm run test:browser`.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { startStack, type Stack } from '../helpers/browser.ts';
import { launchChromium } from './chromium.ts';
import { DOCS_FILES } from '../../src/app/docs-page.ts';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** WCAG 2.0, 2.1 and 2.2, levels A and AA, and axe's best practices (region, landmark-one-main…). */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa', 'best-practice'];

interface Violation {
  id: string;
  help: string;
  nodes: { target: string[]; failureSummary: string }[];
}

/** axe's violations on the page as it is now, one line each, for an assertion message. */
async function violations(page: Page): Promise<Violation[]> {
  await page.evaluate(AXE_SOURCE);
  // Run in the page (as a string: this project's types have no DOM).
  const script = `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(TAGS)} }, resultTypes: ['violations'] })
    .then((r) => r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })))`;
  return page.evaluate<Violation[]>(script);
}

function describeAll(found: readonly Violation[]): string {
  return found.map((v) => `${v.id} (${v.help}): ${v.nodes.map((n) => `${n.target.join(' ')} — ${n.failureSummary}`).join('; ')}`).join('\n');
}

describe('axe finds nothing on the pages a person sees', () => {
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

  async function newPage(): Promise<{ page: Page; close(): Promise<void> }> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    return { page: await context.newPage(), close: () => context.close() };
  }

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${stack.app.url}/login`);
    await page.waitForURL((url) => url.origin === stack.sandbox.url);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${stack.app.url}/`);
  }

  /** Each page's violations, named: a test checks every page it visits, then reports them all. */
  async function check(page: Page, what: string, found: string[]): Promise<void> {
    const violated = await violations(page);
    if (violated.length) found.push(`${what}:\n${describeAll(violated)}`);
  }

  it('home, signed out; the error page; a page that is not there', async () => {
    const { page, close } = await newPage();
    const found: string[] = [];
    await page.goto(`${stack.app.url}/`);
    await check(page, 'home, signed out', found);
    // A callback this browser never started: refused at STATE_MISMATCH, the error page.
    const response = await page.goto(`${stack.app.url}/login/callback?code=forged-code-0123&state=forged-state-0123456789`);
    assert.equal(response?.status(), 400);
    await check(page, 'the error page', found);
    await page.goto(`${stack.app.url}/no-such-page`);
    await check(page, 'the 404 page', found);
    await close();
    assert.deepEqual(found, []);
  });

  it('home signed in, /trace, /trace after an attack, a check’s docs page', async () => {
    const { page, close } = await newPage();
    const found: string[] = [];
    await signIn(page);
    await check(page, 'home, signed in', found);
    await page.goto(`${stack.app.url}/trace`);
    await check(page, '/trace', found);
    await page.locator('details.msg > summary', { hasText: 'POST /oauth/token' }).click();
    await check(page, '/trace with an arrow open', found);
    await page.getByRole('button', { name: 'Tamper with the state' }).click();
    await page.waitForURL((url) => url.pathname === '/trace');
    await check(page, '/trace after an attack', found);
    await page.locator('a.code', { hasText: 'STATE_MISMATCH' }).first().click();
    await page.waitForURL((url) => url.pathname.startsWith('/docs/'));
    await check(page, 'a check’s docs page', found);
    await close();
    assert.deepEqual(found, []);
  });

  it('every docs page the app serves', async () => {
    const { page, close } = await newPage();
    const found: string[] = [];
    for (const file of DOCS_FILES) {
      await page.goto(`${stack.app.url}/docs/${file}`);
      await check(page, `docs/${file}`, found);
    }
    await close();
    assert.deepEqual(found, []);
  });

  it('the sandbox consent page: its content is inside a landmark, and nothing else is found', async () => {
    const { page, close } = await newPage();
    await page.goto(`${stack.app.url}/login`);
    await page.waitForURL((url) => url.origin === stack.sandbox.url);
    const found = await violations(page);
    await close();
    assert.deepEqual(found.map((v) => v.id), [], describeAll(found));
  });
});

