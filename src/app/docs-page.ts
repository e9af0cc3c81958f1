// GET /docs/<page>.md — the project's docs, served by the app so that the transcript's links to
// each check work offline. The Markdown is shown as it is written (preformatted, escaped), with an
// anchor on each heading (GitHub's slug) and on each check-table row (`#STATE_MISMATCH`).

import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { html, SafeHtml } from './html.ts';
import { layout, simplePage } from './pages.ts';
import { pageReply, type Reply } from './reply.ts';

const DOCS_DIR = new URL('../../docs/', import.meta.url);

/**
 * The pages served, by file name: the Markdown files in docs/ when the app starts (none when the
 * app runs without its docs). Only these names are routes, so no request can name another file.
 */
export const DOCS_FILES: readonly string[] = listDocs();

function listDocs(): string[] {
  try {
    return readdirSync(DOCS_DIR).filter((name) => /^[\w.-]+\.md$/.test(name)).sort();
  } catch {
    return [];
  }
}

export async function docsReply(file: string): Promise<Reply> {
  let text: string;
  try {
    if (!DOCS_FILES.includes(file)) throw new Error('not a docs page');
    text = await readFile(new URL(file, DOCS_DIR), 'utf8');
  } catch {
    return pageReply(404, simplePage('Page not found', `docs/${file} is not next to this app; read it in the project's repository.`));
  }
  return pageReply(200, docsPage(file, text));
}

/** One Markdown page, preformatted, with anchors on headings and check rows. */
export function docsPage(file: string, markdown: string): SafeHtml {
  const used = new Set<string>();
  const lines = markdown.split('\n').map((line) => {
    const id = anchorOf(line);
    // A code may head rows on several pages, and twice on one: the first row gets the anchor.
    if (id === undefined || used.has(id)) return html`${withLinks(line)}\n`;
    used.add(id);
    return html`<span id="${id}">${withLinks(line)}</span>\n`;
  });
  return layout(`docs/${file}`, html`<p><a href="/trace">← back to the transcript</a></p><pre class="doc">${lines}</pre>`, undefined, { wide: true, extraStyle: DOC_STYLE });
}

const DOC_STYLE = new SafeHtml(`
  pre.doc { white-space: pre-wrap; overflow-wrap: anywhere; background: #fff; font-size: 0.85rem; }
  pre.doc span:target { background: #fff4d6; }`);

/**
 * Markdown links that lead somewhere a reader can follow from here become links: another docs page
 * (served here), an anchor on this page, an https page. Links into src/ or test/ stay text.
 */
function withLinks(line: string): SafeHtml {
  const parts: (SafeHtml | string)[] = [];
  let at = 0;
  for (const match of line.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
    const href = hrefOf(match[1]!);
    if (href === undefined) continue;
    parts.push(line.slice(at, match.index), html`<a href="${href}">${match[0]}</a>`);
    at = match.index + match[0].length;
  }
  parts.push(line.slice(at));
  return html`${parts}`;
}

function hrefOf(target: string): string | undefined {
  if (/^https:\/\//.test(target)) return target;
  if (target.startsWith('#')) return target;
  const page = /^(?:\.\/)?([\w.-]+\.md)(#[\w.-]*)?$/.exec(target);
  return page && DOCS_FILES.includes(page[1]!) ? `/docs/${page[1]}${page[2] ?? ''}` : undefined;
}

/** `## The checks` → `the-checks` (GitHub's slug); `| \`STATE_MISMATCH\` | …` → `STATE_MISMATCH`. */
export function anchorOf(line: string): string | undefined {
  const check = /^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|/.exec(line);
  if (check) return check[1];
  const heading = /^#{1,6}\s+(.+)$/.exec(line);
  if (heading) {
    return heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .trim()
      .replace(/\s/g, '-');
  }
  return undefined;
}
