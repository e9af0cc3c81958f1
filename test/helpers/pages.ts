// What every answer of the app must look like, checked the same way in every test that needs it.

import assert from 'node:assert/strict';
import { CHECKS, type CheckCode } from '../../src/checks.ts';
import type { Page } from './browser.ts';

/** A stack frame ("    at fn (file:line)") or a path into this project's sources: internals that must never reach a page. */
export const INTERNALS = /^\s*at .*:\d+:\d+\)?$|\/(?:src|test|node_modules)\/[\w./-]+\.(?:ts|js|mjs)\b|file:\/\//m;

/**
 * The app's error page for a failed check: the status, the code and its rule from the catalogue, the
 * "what to do next" part and the way to start again — and, when given, text that names the problem.
 */
export function assertErrorPage(page: Page, status: number, code: CheckCode, names?: RegExp): void {
  assert.equal(page.status, status, `expected ${status} ${code}, got ${page.status}: ${page.body.slice(0, 600)}`);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/);
  assert.ok(page.body.includes(`<dt>Code</dt><dd><code>${code}</code></dd>`), `the page names ${code}: ${page.body.slice(0, 600)}`);
  assert.ok(page.body.includes(`<dt>Rule</dt><dd>${CHECKS[code].rule}</dd>`), `the page names the rule ${CHECKS[code].rule}`);
  assert.match(page.body, /<h2>What to do next<\/h2>/);
  assert.match(page.body, /<a class="button" href="\/login">Start again<\/a>/);
  if (names) assert.match(page.body, names);
  assertNoInternals(page);
}

/** No stack trace, no source path, no markup that did not come from the app's own templates. */
export function assertNoInternals(page: Page): void {
  assert.doesNotMatch(page.body, INTERNALS, `internals on ${page.method} ${page.url}`);
  assert.ok(!/<script\b/i.test(page.body), `a script on ${page.method} ${page.url}`);
}
