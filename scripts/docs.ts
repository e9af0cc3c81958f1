// Keeps docs/ true to the code.
//
//   npm run docs          rewrites the generated parts of docs/*.md from the source
//   (test/docs.test.ts)   fails when a page differs from what this script would write,
//                         or when a link points at a file or a test name that does not exist
//
// Generated parts sit between HTML comments, so they render as nothing on the code host:
//   <!-- excerpt: src/1-discovery.ts#discover -->   ```ts …the exported declaration… ```   <!-- /excerpt -->
//   <!-- files: 3.1 -->    a table of the files to copy for a step, with their sizes   <!-- /files -->
//   <!-- transcript: 3.1 --> a redacted transcript of a sandbox sign-in (npm run docs only) <!-- /transcript -->
// Links: [text](../path) must exist; [`a test name`](../test/x.test.ts) must name a test in that file.

import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHECKS } from '../src/errors.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = join(ROOT, 'docs');

/** What to copy for each step: the step, and the files it imports (test/copy-paste.test.ts proves it). */
export const STEP_FILES: Record<string, string[]> = {
  '3.1': ['src/1-discovery.ts', 'src/errors.ts', 'src/http.ts'],
  '3.2': ['src/2-authorize.ts', 'src/errors.ts'],
  '3.3': ['src/3-token.ts', 'src/client.ts', 'src/errors.ts', 'src/http.ts'],
  '3.4': ['src/4-api.ts', 'src/errors.ts', 'src/http.ts'],
  lifecycle: ['src/5-lifecycle.ts', 'src/3-token.ts', 'src/4-api.ts', 'src/client.ts', 'src/errors.ts', 'src/http.ts'],
  trace: ['src/trace.ts', 'src/redact.ts', 'src/errors.ts'],
  machine: ['src/6-machine.ts', 'src/5-lifecycle.ts', 'src/3-token.ts', 'src/4-api.ts', 'src/2-authorize.ts', 'src/client.ts', 'src/errors.ts', 'src/http.ts'],
  native: ['src/native-login.ts', 'src/2-authorize.ts', 'src/3-token.ts', 'src/client.ts', 'src/errors.ts', 'src/http.ts'],
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

type Generated = (kind: string, arg: string, current: string) => string;

/** Rewrites every generated block of one page; `transcript` blocks are kept unless a generator is given. */
export function renderPage(text: string, transcript?: (section: string) => string): string {
  const generate: Generated = (kind, arg, current) => {
    if (kind === 'excerpt') {
      const [file, name] = arg.split('#');
      return '```ts\n' + extractDeclaration(file!, name!) + '\n```';
    }
    if (kind === 'files') return filesTable(arg);
    if (kind === 'transcript') return transcript ? '```text\n' + transcript(arg) + '\n```' : current;
    throw new Error(`unknown generated block "${kind}"`);
  };
  return text.replace(
    /<!-- (excerpt|files|transcript): ([^\s]+) -->\n([\s\S]*?)\n?<!-- \/\1 -->/g,
    (_all, kind: string, arg: string, current: string) =>
      `<!-- ${kind}: ${arg} -->\n${generate(kind, arg, current.trim())}\n<!-- /${kind} -->`,
  );
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
    if (rendered !== text) problems.push(`${name}: a generated block differs from the source; run npm run docs`);
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!;
      if (/^[a-z]+:/.test(target) || target.startsWith('#')) continue;
      const path = resolve(dirname(page), target.split('#')[0]!);
      if (!existsSync(path)) problems.push(`${name}: link to ${target}, which does not exist`);
    }
    // A check table row names its code first and its rule second; the rule must be the catalogue's.
    for (const match of text.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \|/gm)) {
      const [, code, ruleCell] = match;
      const info = (CHECKS as Record<string, { rule: string }>)[code!];
      if (info === undefined) {
        if (/RFC \d+|Qlik:|Robustness/.test(ruleCell!)) problems.push(`${name}: a table row names ${code}, which src/errors.ts does not have`);
      } else if (!ruleCell!.includes(info.rule)) problems.push(`${name}: the row of ${code} says "${ruleCell!.trim()}", but its rule is "${info.rule}"`);
    }
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
  const problems = checkDocs();
  for (const problem of problems) console.error(problem);
  process.exitCode = problems.length ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
