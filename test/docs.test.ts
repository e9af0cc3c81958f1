// docs/ stays true to the code: every generated block matches the source, every link resolves,
// every test a page names exists, and every check in the catalogue is documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { checkDocs, extractDeclaration, renderPage, testNames } from '../scripts/docs.ts';
import { CHECKS } from '../src/errors.ts';

test('docs: generated excerpts and file tables match src/, links and test names resolve', () => {
  assert.deepEqual(checkDocs(), []);
});

test('docs: every check code in src/errors.ts is explained on some page', () => {
  const docs = readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => readFileSync(`docs/${f}`, 'utf8')).join('\n');
  const missing = Object.keys(CHECKS).filter((code) => !docs.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});

test('docs checker: a changed excerpt is caught', () => {
  const page = '<!-- excerpt: src/2-authorize.ts#codeChallengeS256 -->\n```ts\nexport function codeChallengeS256() {}\n```\n<!-- /excerpt -->';
  const rendered = renderPage(page);
  assert.notEqual(rendered, page);
  assert.match(rendered, /createHash\('sha256'\)/);
  assert.equal(renderPage(rendered), rendered, 'rendering is stable');
});

test('docs checker: excerpts start at the doc comment and end at the closing brace', () => {
  const excerpt = extractDeclaration('src/2-authorize.ts', 'codeChallengeS256');
  assert.match(excerpt, /^\/\*\* RFC 7636 §4\.2/);
  assert.match(excerpt, /\n}$/);
  assert.throws(() => extractDeclaration('src/2-authorize.ts', 'noSuchThing'), /no exported declaration/);
});

test('docs checker: test names are read from test files', () => {
  assert.deepEqual(testNames("test('a b', () => {});\ntest(\"c 'd'\", () => {});\ntest('it\\'s', () => {})"), ['a b', "c 'd'", "it's"]);
});
