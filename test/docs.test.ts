// docs/ stays true to the code: every generated block matches the source, every link resolves,
// every test a page names exists, and every check in the catalogue is documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { GLOSSARY, checkAnchor, checkDocs, checkGlossaryLinks, exerciseFaults, extractDeclaration, headingAnchor, linkRule, pageAnchors, renderCheckTables, renderPage, testNames } from '../scripts/docs.ts';
import { CHECKS } from '../src/checks.ts';

test('docs: generated excerpts and file tables match src/, links and test names resolve', () => {
  assert.deepEqual(checkDocs(), []);
});

test('docs: every check code in src/errors.ts is explained on some page', () => {
  const docs = readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => readFileSync(`docs/${f}`, 'utf8')).join('\n');
  const missing = Object.keys(CHECKS).filter((code) => !docs.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});

test('docs checker: a changed excerpt is caught', () => {
  const page = '<!-- excerpt: src/3.2-authorize.ts#codeChallengeS256 -->\n```ts\nexport function codeChallengeS256() {}\n```\n<!-- /excerpt -->';
  const rendered = renderPage(page);
  assert.notEqual(rendered, page);
  assert.match(rendered, /createHash\('sha256'\)\.update\(codeVerifier\)\.digest\('base64url'\)/);
  assert.equal(renderPage(rendered), rendered, 'rendering is stable');
});

test('docs checker: excerpts start at the doc comment and end at the closing brace', () => {
  const excerpt = extractDeclaration('src/3.2-authorize.ts', 'codeChallengeS256');
  assert.match(excerpt, /^\/\*\* RFC 7636 §4\.2/);
  assert.match(excerpt, /\n}$/);
  assert.throws(() => extractDeclaration('src/3.2-authorize.ts', 'noSuchThing'), /no exported declaration/);
});

test('docs checker: test names are read from test files', () => {
  assert.deepEqual(testNames("test('a b', () => {});\ntest(\"c 'd'\", () => {});\ntest('it\\'s', () => {})"), ['a b', "c 'd'", "it's"]);
});

test('docs: a step page links each glossary term to concepts.md at its first use', () => {
  const page = [
    '# A step',
    'Uses [PKCE](concepts.md#pkce), then PKCE again, then `state` unlinked.',
    '```ts',
    'const state = 1; // code is not prose',
    '```',
    'A [state](concepts.md#pkce) linked to the wrong anchor.',
  ].join('\n');
  assert.deepEqual(checkGlossaryLinks(page, 'p'), ['p:2: the first use of "state" is not a link to concepts.md#state']);
  assert.deepEqual(checkGlossaryLinks('Only [`state`](concepts.md#state) and `discover(metadata)`.'), []);
  assert.deepEqual(checkGlossaryLinks('## Why state\nA heading is not a use; [state](concepts.md#state) is.'), []);
});

test('docs: every concepts.md anchor a page links to exists, glossary terms included', () => {
  const anchors = pageAnchors(readFileSync('docs/concepts.md', 'utf8'));
  const missing = GLOSSARY.map((g) => g.anchor).filter((anchor) => !anchors.has(anchor));
  assert.deepEqual(missing, []);
  for (const required of ['state', 'pkce', 'issuer', 'mix-up', 'confidential-client', 'public-client', 'bearer-token', 'refresh-token', 'scope', 'front-channel', 'back-channel']) {
    assert.ok(anchors.has(required), `concepts.md has #${required}`);
  }
  assert.ok(headingAnchor('`client_secret_post`, not HTTP Basic') === 'client_secret_post-not-http-basic');
});

test('docs checker: check-table rules are written from the catalogue, with links', () => {
  assert.equal(
    linkRule('RFC 9700 §2.1, §4.7.1'),
    '[RFC 9700 §2.1](https://www.rfc-editor.org/rfc/rfc9700#section-2.1), [§4.7.1](https://www.rfc-editor.org/rfc/rfc9700#section-4.7.1)',
  );
  assert.equal(linkRule('Qlik: users API'), 'Qlik: users API');
  const stale = '| code | rule | what |\n| --- | --- | --- |\n| `STATE_MISMATCH` | RFC 1 §1 | CSRF |';
  assert.match(renderCheckTables(stale), /\| `STATE_MISMATCH` \| \[RFC 6749 §10\.12\]\(https:\/\/www\.rfc-editor\.org\/rfc\/rfc6749#section-10\.12\) \| CSRF \|/);
  const other = '| fault | check |\n| --- | --- |\n| `STATE_MISMATCH` | kept as it is |';
  assert.equal(renderCheckTables(other), other, 'only `| code | rule |` tables are rewritten');
});

test('docs: exercises.md predicts a check that exists for every fault', () => {
  const faults = exerciseFaults(readFileSync('docs/exercises.md', 'utf8'));
  assert.ok(faults.length >= 10, 'the exercises table lists the faults');
  assert.deepEqual(faults.filter((f) => !(f.expectedCheck in CHECKS)), []);
});

test('docs: exercises.md lists exactly the sandbox faults, each with its step and the check it fires', async () => {
  const { SANDBOX_FAULTS } = await import('../src/sandbox/index.ts');
  const documented = exerciseFaults(readFileSync('docs/exercises.md', 'utf8'));
  const sorted = (list: readonly { name: string; step: string; expectedCheck: string }[]) =>
    list.map(({ name, step, expectedCheck }) => ({ name, step, expectedCheck })).sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(sorted(documented), sorted(SANDBOX_FAULTS));
});

test('docs: security.md has an anchor for every check code, for links from the transcript', () => {
  const anchors = pageAnchors(readFileSync('docs/security.md', 'utf8'));
  assert.deepEqual(Object.keys(CHECKS).filter((code) => !anchors.has(checkAnchor(code))), []);
});
