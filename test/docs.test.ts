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

test('docs: each step page opens with its short version, and every runnable block runs against the sandbox', async () => {
  const { SHORT_VERSIONS, allRunnableBlocks, runShortVersions } = await import('../scripts/docs.ts');
  const files = allRunnableBlocks().map((block) => block.file);
  for (const file of Object.values(SHORT_VERSIONS)) assert.ok(files.includes(file), `a page has ${file}`);
  assert.deepEqual(await runShortVersions(), []);
});

test('docs checker: a short version that fails, or prints the client secret, is reported', async () => {
  const { runShortVersions } = await import('../scripts/docs.ts');
  const { SANDBOX_CLIENT_SECRET } = await import('../src/sandbox/index.ts');
  const problems = await runShortVersions([
    { file: 'fails.ts', code: "import { discover } from './src/index.ts';\nawait discover('http://example.com');\n", line: 1, page: 'p.md' },
    { file: 'leaks.ts', code: `console.log(${JSON.stringify(SANDBOX_CLIENT_SECRET)});\n`, line: 2, page: 'p.md' },
    { file: 'fine.ts', code: "import { discover } from './src/index.ts';\nconsole.log((await discover(process.env.QLIK_TENANT_URL!)).issuer);\n", line: 3, page: 'p.md' },
  ]);
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0]!, /^p\.md:1 \(fails\.ts\): exited with 1:\n/);
  assert.equal(problems[1], 'p.md:2 (leaks.ts): printed the client secret');
});

test('docs checker: a step page needs one short version, in its first section, of at most a screenful', async () => {
  const { checkShortVersion, MAX_SHORT_VERSION_LINES } = await import('../scripts/docs.ts');
  const block = (lines: number) => '```ts runnable step-9.ts\n' + 'console.log(1);\n'.repeat(lines) + '```\n';
  assert.deepEqual(checkShortVersion(`# T\n\n## Short\n\n${block(3)}\n## Next\n`, 'p.md', 'step-9.ts'), []);
  assert.match(checkShortVersion('# T\n\n## Short\n\nnone\n', 'p.md', 'step-9.ts')[0]!, /expected one ```ts runnable step-9\.ts block, found none/);
  assert.match(checkShortVersion(`# T\n\n## Short\n\n${block(MAX_SHORT_VERSION_LINES + 1)}`, 'p.md', 'step-9.ts')[0]!, /at most 20/);
  assert.match(checkShortVersion(`# T\n\n## Short\n\ntext\n\n## Later\n\n${block(3)}`, 'p.md', 'step-9.ts')[0]!, /first section/);
});

test('transcripts on the pages say each check that held as what it checks, not by its code', async () => {
  const { checkTitles } = await import('../scripts/transcripts.ts');
  const text = '── 3.1 Discover the tenant\n   ✓ 2 checks held: ISSUER_MISMATCH, ENDPOINT_NOT_HTTPS\n   – n/a ISS_MISSING: nothing promised\n   GET x → 200';
  assert.equal(
    checkTitles(text),
    [
      '── 3.1 Discover the tenant',
      `   ✓ ${CHECKS.ISSUER_MISMATCH.title}`,
      `   ✓ ${CHECKS.ENDPOINT_NOT_HTTPS.title}`,
      `   – n/a: ${CHECKS.ISS_MISSING.title} — nothing promised`,
      '   GET x → 200',
    ].join('\n'),
  );
  const pages = [...readdirSync('docs').map((f) => `docs/${f}`), 'README.md'].filter((f) => f.endsWith('.md'));
  const withCodes = pages.filter((page) => /checks? held: [A-Z_]/.test(readFileSync(page, 'utf8')));
  assert.deepEqual(withCodes, []);
});
