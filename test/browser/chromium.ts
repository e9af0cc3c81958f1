// What both real-browser tests need: Debian's Chromium, launched headless through playwright-core
// (which downloads no browser), and the place a screenshot goes.

import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** Chromium, headless; a clear error when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}. Install it (Debian: apt-get install -y chromium), then run npm run test:browser again.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Where a screenshot goes: docs/<name> only on request (SCREENSHOT=1 npm run test:browser), so that
 * a test run leaves the work tree as it was; otherwise a temporary folder. Its folder exists.
 */
export function screenshotPath(name: string): string {
  const url = process.env.SCREENSHOT === '1' ? new URL(`../../docs/${name}`, import.meta.url) : pathToFileURL(join(mkdtempSync(join(tmpdir(), 'qlik-shot-')), name));
  mkdirSync(new URL('.', url), { recursive: true });
  return url.pathname;
}
