// Keeps docs/ true to the code.
//
//   npm run docs          rewrites the generated parts of docs/*.md from the source
//   (test/docs.test.ts)   fails when a page differs from what this script would write,
//                         or when a link points at a file or a test name that does not exist
//
// Generated parts sit between HTML comments, so they render as nothing on the code host:
//   <!-- excerpt: src/3.1-discovery.ts#discover -->   ```ts …the exported declaration… ```   <!-- /excerpt -->
//   <!-- files: 3.1 -->    a table of the files to copy for a step, with their sizes   <!-- /files -->
//   <!-- runtimes: 3.1 --> what runs where: how to run those files on each runtime   <!-- /runtimes -->
//   <!-- transcript: 3.1 --> a redacted transcript of a sandbox sign-in (npm run docs only) <!-- /transcript -->
// Links: [text](../path) must exist; [`a test name`](../test/x.test.ts) must name a test in that file.
// Check tables (a table whose header starts `| code | rule |`): the rule cell of each row is
// written from src/checks.ts (CHECKS), with each RFC section as a link, so a changed rule is one
// `npm run docs` away from every page.
// Concepts: a step page links each glossary term (GLOSSARY) to docs/concepts.md at its first use.
// Anchors: a link to page.md#anchor must name a heading or an <a id> of that page; docs/security.md
// has one per check code (#state_mismatch), for links from the transcript.
// Short versions: a block fenced ```ts runnable step-3.1.ts``` is a program the reader can save under
// that name in the project's folder and run; runShortVersions() runs every one against a sandbox
// tenant (npm run docs, test/docs.test.ts). Each step page opens with one.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CHECKS } from '../src/checks.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = join(ROOT, 'docs');

/** What to copy for each step: the step, and the files it imports (test/copy-paste.test.ts proves it). */
export const STEP_FILES: Record<string, string[]> = {
  '3.1': ['src/3.1-discovery.ts', 'src/errors.ts', 'src/http.ts'],
  '3.2': ['src/3.2-authorize.ts', 'src/errors.ts'],
  '3.3': ['src/3.3-token.ts', 'src/client.ts', 'src/errors.ts', 'src/http.ts', 'src/tenant-error.ts'],
  '3.4': ['src/3.4-api.ts', 'src/errors.ts', 'src/http.ts', 'src/tenant-error.ts'],
  lifecycle: ['src/lifecycle.ts', 'src/3.3-token.ts', 'src/3.4-api.ts', 'src/client.ts', 'src/errors.ts', 'src/http.ts', 'src/tenant-error.ts'],
  trace: ['src/trace.ts', 'src/redact.ts', 'src/errors.ts'],
  machine: ['src/machine.ts', 'src/3.3-token.ts', 'src/3.2-authorize.ts', 'src/client.ts', 'src/errors.ts', 'src/http.ts', 'src/tenant-error.ts'],
  native: ['src/native-login.ts', 'src/local-server.ts', 'src/3.2-authorize.ts', 'src/3.3-token.ts', 'src/client.ts', 'src/errors.ts', 'src/http.ts', 'src/tenant-error.ts'],
};

/** The exported declaration `name` in `file`, from its doc comment to its closing line. */
export function extractDeclaration(file: string, name: string): string {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const start = lines.findIndex((line) =>
    new RegExp(`^export (async function\\*?|function\\*?|interface|const|class|type) ${name}\\b`).test(line),
  );
  if (start === -1) throw new Error(`${file} has no exported declaration "${name}"`);
  let first = start;
  while (first > 0 && /^(\/\*\*| \*|\s*\/\/)/.test(lines[first - 1]!)) first--;
  // A one-line declaration ends where it starts; any other ends at the first line that closes at column 0.
  const last = /;\s*$/.test(lines[start]!) ? start : lines.findIndex((line, i) => i > start && /^[}\]]/.test(line));
  if (last === -1) throw new Error(`${file}: could not find the end of "${name}"`);
  return lines.slice(first, last + 1).join('\n');
}

function countLines(file: string): number {
  return readFileSync(join(ROOT, file), 'utf8').trimEnd().split('\n').length;
}

function filesTable(step: string): string {
  const files = STEP_FILES[step];
  if (!files) throw new Error(`no file list for step "${step}"`);
  const rows = files.map((file) => `| [\`${file}\`](../${file}) | ${countLines(file)} |`);
  const total = files.reduce((sum, file) => sum + countLines(file), 0);
  return ['| file | lines |', '| --- | ---: |', ...rows, `| **in all** | **${total}** |`].join('\n');
}

/**
 * What runs where, for one step's files: each row is what `npm run test:runtimes` (scripts/runtimes/)
 * proves with a sign-in and the machine calls against the sandbox, on that runtime.
 */
function runtimesTable(step: string): string {
  const main = STEP_FILES[step]?.[0];
  if (main === undefined) throw new Error(`no file list for step "${step}"`);
  const built = main.replace(/^src\//, '').replace(/\.ts$/, '.js');
  return [
    '| runtime | what to copy | how to run it |',
    '| --- | --- | --- |',
    '| Node 22.18+, Node 24 | the `.ts` files above, as they are, into an ES module package (`"type": "module"` in its `package.json`) | `node your-program.ts` |',
    '| Bun | the same `.ts` files | `bun your-program.ts` |',
    '| Deno | the same `.ts` files | `deno run --allow-net=<tenant host> your-program.ts` |',
    `| Node 20 (past its end of life: it cannot run \`.ts\`) | plain ESM \`.js\`, built without installing anything: \`npx -p typescript@5.9.3 tsc --noCheck --module nodenext --target es2022 --rewriteRelativeImportExtensions --outDir out ${main}\` writes \`out/${built}\` and the files it imports (TypeScript 5.7 or later) | \`node your-program.mjs\` |`,
    "| Cloudflare Workers (workerd) | one bundle of your Worker and the `.ts` files: `npx esbuild worker.ts --bundle --format=esm --platform=neutral --external:'node:*' --outfile=worker.js` | with `compatibility_flags = [\"nodejs_compat\"]` (the default from the 2026-08-04 compatibility date) |",
    '',
    '`npm run test:runtimes` ([`scripts/runtimes/`](../scripts/runtimes/)) runs a sign-in (3.1 to 3.4, then a refresh and',
    'a revocation) and the machine calls with the library on each runtime above, against the sandbox tenant, and',
    'expects the same error codes everywhere.',
    'For a Worker: the steps do nothing when they are imported (a Worker forbids random values, timers',
    'and I/O in global scope), and they import `Buffer` from `node:buffer`, which compatibility dates before',
    '2024-09-23 need. A Worker reaches a real tenant as it is; to reach a sandbox on your machine, its',
    'network must allow local addresses.',
  ].join('\n');
}

/** "RFC 9700 §2.1, §4.7.1" → each section as a link to rfc-editor.org. Other words stay as they are. */
export function linkRule(rule: string): string {
  let rfc: string | undefined;
  return rule.replace(/(RFC (\d+) )?§(\d+(?:\.\d+)*)/g, (all, prefix: string | undefined, n: string | undefined, section: string) => {
    if (n !== undefined) rfc = n;
    if (rfc === undefined) return all;
    const label = prefix ? `RFC ${rfc} §${section}` : `§${section}`;
    return `[${label}](https://www.rfc-editor.org/rfc/rfc${rfc}#section-${section})`;
  });
}

/** The cells of a markdown table row, trimmed; undefined when the line is not a table row. */
function cells(line: string): string[] | undefined {
  if (!line.startsWith('|')) return undefined;
  return line.replace(/^\|/, '').replace(/\|\s*$/, '').split('|').map((cell) => cell.trim());
}

/** The check code a table's first cell names: `` `STATE_MISMATCH` ``, maybe after an `<a id>` anchor. */
function codeOf(cell: string | undefined): string | undefined {
  return /^(?:<a id="[a-z0-9_]+"><\/a>)?`([A-Z0-9_]+)`$/.exec(cell ?? '')?.[1];
}

/** The anchor docs/security.md gives each check, for links from the transcript: `#state_mismatch`. */
export function checkAnchor(code: string): string {
  return code.toLowerCase();
}

/** The rows of every `| code | rule | …` table, by their code. */
export function checkTableRows(text: string): { code: string; line: string }[] {
  const rows: { code: string; line: string }[] = [];
  let inCheckTable = false;
  for (const line of text.split('\n')) {
    const row = cells(line);
    if (row === undefined) inCheckTable = false;
    else if (row[0] === 'code' && row[1] === 'rule') inCheckTable = true;
    else if (inCheckTable && codeOf(row[0]) !== undefined) rows.push({ code: codeOf(row[0])!, line });
  }
  return rows;
}

/** Rewrites the rule cell of every row of every `| code | rule | …` table from the catalogue. */
export function renderCheckTables(text: string): string {
  let inCheckTable = false;
  return text
    .split('\n')
    .map((line) => {
      const row = cells(line);
      if (row === undefined) {
        inCheckTable = false;
        return line;
      }
      if (row[0] === 'code' && row[1] === 'rule') {
        inCheckTable = true;
        return line;
      }
      const code = codeOf(row[0]);
      const info = code === undefined ? undefined : (CHECKS as Record<string, { rule: string }>)[code];
      if (!inCheckTable || info === undefined) return line;
      const [first, , ...rest] = line.replace(/^\|/, '').split('|');
      return `|${first}| ${linkRule(info.rule)} |${rest.join('|')}`;
    })
    .join('\n');
}

type Generated = (kind: string, arg: string, current: string) => string;

/** Rewrites every generated block of one page; `transcript` blocks are kept unless a generator is given. */
export function renderPage(text: string, transcript?: (section: string) => string): string {
  const generate: Generated = (kind, arg, current) => {
    if (kind === 'excerpt') {
      const [file, name] = arg.split('#');
      return '```ts\n' + extractDeclaration(file!, name!) + '\n```';
    }
    if (kind === 'files') return filesTable(arg);
    if (kind === 'runtimes') return runtimesTable(arg);
    if (kind === 'transcript') return transcript ? '```text\n' + transcript(arg) + '\n```' : current;
    throw new Error(`unknown generated block "${kind}"`);
  };
  const blocks = text.replace(
    /<!-- (excerpt|files|runtimes|transcript): ([^\s]+) -->\n([\s\S]*?)\n?<!-- \/\1 -->/g,
    (_all, kind: string, arg: string, current: string) =>
      `<!-- ${kind}: ${arg} -->\n${generate(kind, arg, current.trim())}\n<!-- /${kind} -->`,
  );
  return renderCheckTables(blocks);
}

/**
 * The glossary of docs/concepts.md: each term a step page must link there at its first use.
 * `pattern` finds a use of the term in prose (inline code included, code blocks and headings not);
 * a parameter name such as `refresh_token` is not the term, `refresh token` is.
 */
export const GLOSSARY: { anchor: string; term: string; pattern: RegExp }[] = [
  { anchor: 'authorization-server', term: 'authorization server', pattern: /\bauthorization servers?\b/i },
  { anchor: 'resource-server', term: 'resource server', pattern: /\bresource servers?\b/i },
  { anchor: 'confidential-client', term: 'confidential client', pattern: /\bconfidential clients?\b/i },
  { anchor: 'public-client', term: 'public client', pattern: /\bpublic clients?\b/i },
  { anchor: 'front-channel', term: 'front channel', pattern: /\bfront[- ]channel\b/i },
  { anchor: 'back-channel', term: 'back channel', pattern: /\bback[- ]channel\b/i },
  { anchor: 'metadata', term: 'metadata', pattern: /\bmetadata\b/i },
  { anchor: 'issuer', term: 'issuer', pattern: /\bissuer\b/i },
  { anchor: 'iss', term: 'iss', pattern: /\biss\b/ },
  { anchor: 'redirect-uri', term: 'redirect URI', pattern: /\bredirect uris?\b/i },
  { anchor: 'authorization-code', term: 'authorization code', pattern: /\bauthorization codes?\b/i },
  { anchor: 'state', term: 'state', pattern: /\bstate\b/i },
  { anchor: 'pkce', term: 'PKCE', pattern: /\bPKCE\b/ },
  { anchor: 'code-verifier', term: 'code verifier', pattern: /\b(?:code )?verifier\b/i },
  { anchor: 'code-challenge', term: 'code challenge', pattern: /\bcode challenge\b/i },
  { anchor: 'scope', term: 'scope', pattern: /\bscopes?\b/i },
  { anchor: 'access-token', term: 'access token', pattern: /\baccess tokens?\b/i },
  { anchor: 'bearer-token', term: 'bearer token', pattern: /\bbearer tokens?\b/i },
  { anchor: 'refresh-token', term: 'refresh token', pattern: /\brefresh tokens?\b/i },
  { anchor: 'client-secret', term: 'client secret', pattern: /\bclient secrets?\b/i },
  { anchor: 'csrf', term: 'CSRF', pattern: /\bCSRF\b/ },
  { anchor: 'mix-up', term: 'mix-up', pattern: /\bmix-up\b/i },
  { anchor: 'code-injection', term: 'code injection', pattern: /\bcode injection\b/i },
  { anchor: 'token-leakage', term: 'token leakage', pattern: /\btoken leakage\b/i },
];

/** The step pages, which must link each glossary term at its first use. */
export const STEP_PAGES = ['3.1-discovery.md', '3.2-authorize.md', '3.3-token.md', '3.4-api.md', 'lifecycle.md'];

const blank = (part: string) => part.replace(/[^\n]/g, ' ');

/** The page with code blocks and generated blocks blanked out (offsets kept). */
function withoutCode(text: string): string {
  return text
    .replace(/<!-- (excerpt|files|runtimes|transcript): [^\s]+ -->[\s\S]*?<!-- \/\1 -->/g, blank)
    .replace(/^```[\s\S]*?^```/gm, blank);
}

/** The page's prose: code blocks, generated blocks and headings blanked out (offsets kept). */
function prose(text: string): string {
  return withoutCode(text).replace(/^#.*$/gm, blank);
}

/** Blanks inline code unless the whole span is the term itself (`state` is a use of "state"; `discover(metadata)` is not). */
function withoutInlineCode(text: string, pattern: RegExp): string {
  const whole = new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace('g', ''));
  return text.replace(/`[^`\n]+`/g, (span) => (whole.test(span.slice(1, -1)) ? span : blank(span)));
}

/** Problems with a step page's glossary links: a term used before (or without) its link to concepts.md. */
export function checkGlossaryLinks(text: string, page = 'the page'): string[] {
  const body = prose(text);
  const links = [...body.matchAll(/\[([^\]]*)\]\(([^)\s]+)\)/g)].map((m) => ({
    start: m.index! + 1,
    end: m.index! + 1 + m[1]!.length,
    target: m[2]!,
  }));
  const problems: string[] = [];
  for (const { anchor, term, pattern } of GLOSSARY) {
    // Link targets are not prose: skip a match that falls inside one.
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
    let first: RegExpExecArray | undefined;
    for (const match of withoutInlineCode(body, pattern).matchAll(global)) {
      const inTarget = links.some((l) => match.index! > l.end && match.index! < l.end + 3 + l.target.length);
      if (!inTarget) {
        first = match as RegExpExecArray;
        break;
      }
    }
    if (first === undefined) continue;
    const at = first.index!;
    const link = links.find((l) => at >= l.start && at < l.end);
    if (link === undefined || !new RegExp(`(^|/)concepts\\.md#${anchor}$`).test(link.target)) {
      const line = text.slice(0, at).split('\n').length;
      problems.push(`${page}:${line}: the first use of "${first[0]}" is not a link to concepts.md#${anchor}`);
    }
  }
  return problems;
}

/** The faults docs/exercises.md lists: its `| fault | step | … | the check that fires |` table. */
export function exerciseFaults(text: string): { name: string; step: string; expectedCheck: string }[] {
  const faults: { name: string; step: string; expectedCheck: string }[] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    const row = cells(line);
    if (row === undefined) inTable = false;
    else if (row[0] === 'fault') inTable = true;
    else if (inTable && /^`[a-z0-9-]+`$/.test(row[0] ?? '')) {
      faults.push({
        name: row[0]!.slice(1, -1),
        step: /^\[([^\]]+)\]/.exec(row[1] ?? '')?.[1] ?? '',
        expectedCheck: /`([A-Z0-9_]+)`/.exec(row.at(-1) ?? '')?.[1] ?? '',
      });
    }
  }
  return faults;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor of a page: explicit `<a id="…">` and each heading's. */
export function pageAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of text.matchAll(/<a id="([^"]+)"/g)) anchors.add(m[1]!);
  const seen = new Map<string, number>();
  for (const m of withoutCode(text).matchAll(/^#+ (.*)$/gm)) {
    const anchor = headingAnchor(m[1]!);
    const count = seen.get(anchor) ?? 0;
    seen.set(anchor, count + 1);
    anchors.add(count === 0 ? anchor : `${anchor}-${count}`);
  }
  return anchors;
}

/** Every problem with the docs: stale generated blocks, dead links, unknown test names. */
export function checkDocs(): string[] {
  const problems: string[] = [];
  for (const page of docPages()) {
    const text = readFileSync(page, 'utf8');
    const name = relative(ROOT, page);
    let rendered: string;
    try {
      rendered = renderPage(text);
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
      continue;
    }
    if (rendered !== text) {
      problems.push(`${name}: a generated block or a check table's rule differs from the source; run npm run docs`);
    }
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      const [file, anchor] = target.split('#');
      const path = file ? resolve(dirname(page), file) : page;
      if (!existsSync(path)) {
        problems.push(`${name}: link to ${target}, which does not exist`);
      } else if (anchor !== undefined && path.endsWith('.md') && !pageAnchors(readFileSync(path, 'utf8')).has(anchor)) {
        problems.push(`${name}: link to ${target}, but ${relative(ROOT, path)} has no anchor "${anchor}"`);
      }
    }
    // In a check table the code comes first, and it must be one the catalogue has.
    for (const row of checkTableRows(text)) {
      if (!(row.code in CHECKS)) problems.push(`${name}: a check table names ${row.code}, which src/checks.ts does not have`);
    }
    if (STEP_PAGES.includes(relative(DOCS, page))) problems.push(...checkGlossaryLinks(text, name));
    const shortVersion = SHORT_VERSIONS[relative(DOCS, page)];
    if (shortVersion !== undefined) problems.push(...checkShortVersion(text, name, shortVersion));
    for (const match of text.matchAll(/\[`([^`]+)`\]\(([^)\s]*test\/[^)\s]+\.test\.ts)\)/g)) {
      const [, testName, target] = match;
      const path = resolve(dirname(page), target!);
      if (!existsSync(path) || testName!.endsWith('.test.ts')) continue; // a link to the file itself
      const source = readFileSync(path, 'utf8');
      if (!testNames(source).includes(testName!)) {
        problems.push(`${name}: no test named "${testName}" in ${target}`);
      }
    }
  }
  return problems;
}

/** The names given to test() and it() in a test file, with \' unescaped. */
export function testNames(source: string): string[] {
  return [...source.matchAll(/\b(?:test|it)\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g)].map((m) => m[2]!.replace(/\\(.)/g, '$1'));
}

function docPages(): string[] {
  const pages = readdirSync(DOCS)
    .filter((file) => file.endsWith('.md'))
    .map((file) => join(DOCS, file));
  return [...pages, join(ROOT, 'README.md')];
}

/** The pages that open with their step's short version, and the name each is saved under. */
export const SHORT_VERSIONS: Record<string, string> = {
  '3.1-discovery.md': 'step-3.1.ts',
  '3.2-authorize.md': 'step-3.2.ts',
  '3.3-token.md': 'step-3.3.ts',
  '3.4-api.md': 'step-3.4.ts',
};
/** A short version is a screenful: the step's main line, its checks named, not spelled out. */
export const MAX_SHORT_VERSION_LINES = 20;

/** The ```ts runnable <file>``` blocks of a page: the file name the reader saves each as, and its code. */
export function runnableBlocks(text: string): { file: string; code: string; line: number }[] {
  return [...text.matchAll(/^```ts runnable ([\w.-]+\.ts)\n([\s\S]*?)^```$/gm)].map((m) => ({
    file: m[1]!,
    code: m[2]!,
    line: text.slice(0, m.index).split('\n').length,
  }));
}

/** Problems with a step page's short version: missing, misnamed, too long, or not where the page opens. */
export function checkShortVersion(text: string, page: string, file: string): string[] {
  const blocks = runnableBlocks(text);
  if (blocks.length !== 1 || blocks[0]!.file !== file) return [`${page}: expected one \`\`\`ts runnable ${file} block, found ${blocks.map((b) => b.file).join(', ') || 'none'}`];
  const problems: string[] = [];
  const lines = blocks[0]!.code.trimEnd().split('\n').length;
  if (lines > MAX_SHORT_VERSION_LINES) problems.push(`${page}: the short version is ${lines} lines; at most ${MAX_SHORT_VERSION_LINES}`);
  const firstSection = text.search(/^## /m);
  const secondSection = text.slice(firstSection + 3).search(/^## /m) + firstSection + 3;
  const at = text.indexOf('```ts runnable');
  if (firstSection === -1 || at < firstSection || at > secondSection) problems.push(`${page}: the short version belongs in the page's first section`);
  return problems;
}

/**
 * Runs every ```ts runnable``` block of docs/ against a sandbox tenant, each as its own program: all
 * blocks are saved under their names in one folder (so step-3.4.ts can import step-3.3.ts), with
 * `./src/` meaning this project's src/, and started with tsx. A program that prints `Open <url>`
 * gets a browser: the consent page is answered with Allow, and the address the tenant sends the
 * browser back to is typed on its stdin. Returns the problems: a failed run, or a secret in its output.
 */
export async function runShortVersions(blocks: { file: string; code: string; line: number; page: string }[] = allRunnableBlocks()): Promise<string[]> {
  const { startSandbox, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } = await import('../src/sandbox/index.ts');
  const names = blocks.map((block) => block.file);
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  if (twice.length > 0) return [`two runnable blocks are saved as ${twice.join(', ')}: each needs a name of its own`];
  const dir = mkdtempSync(join(tmpdir(), 'qlik-docs-'));
  const sandbox = await startSandbox();
  try {
    // The redirect URI the short versions register at the tenant: the app's, with its defaults.
    sandbox.addRedirectUri(SANDBOX_CLIENT_ID, 'http://localhost:3000/login/callback');
    // The project's folder is an ES module package, so its .ts files may use top-level await: so is this one.
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    for (const { file, code } of blocks) writeFileSync(join(dir, file), code.replaceAll(`from './src/`, `from '${join(ROOT, 'src')}/`));
    const runs = blocks.map(async ({ file, page, line }) => {
      const run = await runProgram(join(dir, file), { PATH: process.env.PATH ?? '', QLIK_TENANT_URL: sandbox.url });
      const where = `${page}:${line} (${file})`;
      if (run.output.includes(SANDBOX_CLIENT_SECRET)) return [`${where}: printed the client secret`];
      return run.code === 0 ? [] : [`${where}: exited with ${run.code}:\n${run.output.trim().split('\n').slice(-8).join('\n')}`];
    });
    return (await Promise.all(runs)).flat();
  } finally {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every ```ts runnable``` block of docs/ and the README, with the page it is on. */
export function allRunnableBlocks(): { file: string; code: string; line: number; page: string }[] {
  return docPages().flatMap((page) => runnableBlocks(readFileSync(page, 'utf8')).map((block) => ({ ...block, page: relative(ROOT, page) })));
}

/** Runs one short version with tsx, playing the browser for it; its exit code and everything it printed. */
function runProgram(file: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), file], { cwd: dirname(file), env, stdio: 'pipe' });
    let output = '';
    const timer = setTimeout(() => child.kill(), 30_000);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += `${line}\n`;
      const url = /^Open (\S+)/.exec(line)?.[1];
      if (url !== undefined) {
        void signInAsBrowser(url).then(
          (callback) => child.stdin.end(`${callback}\n`),
          (error: unknown) => child.stdin.end(`(the browser failed: ${String(error)})\n`),
        );
      }
    });
    child.stdin.on('error', () => {}); // a program that never reads its stdin may have exited
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

/** The browser's part at the sandbox: open the consent page, press Allow; returns where the tenant sends it back. */
async function signInAsBrowser(authorizationUrl: string): Promise<string> {
  const consent = await fetch(authorizationUrl, { redirect: 'manual' }).then((response) => response.text());
  const tx = /name="tx" value="([^"]+)"/.exec(consent)?.[1] ?? '';
  const decision = await fetch(new URL('/oauth/authorize/decision', authorizationUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ tx, user: 'ada', decision: 'allow' }),
  });
  return decision.headers.get('location') ?? '(no redirect from the consent page)';
}

/** npm run docs: rewrites excerpts and file tables, and the transcripts from a fresh sandbox sign-in. */
async function main(): Promise<void> {
  const { sandboxTranscripts } = await import('./transcripts.ts');
  const transcripts = await sandboxTranscripts();
  for (const page of docPages()) {
    const text = readFileSync(page, 'utf8');
    const rendered = renderPage(text, (section) => {
      const found = transcripts[section];
      if (found === undefined) throw new Error(`${relative(ROOT, page)}: no transcript for "${section}"`);
      return found;
    });
    if (rendered !== text) {
      writeFileSync(page, rendered);
      console.log(`updated ${relative(ROOT, page)}`);
    }
  }
  const problems = [...checkDocs(), ...(await runShortVersions())];
  for (const problem of problems) console.error(problem);
  process.exitCode = problems.length ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
