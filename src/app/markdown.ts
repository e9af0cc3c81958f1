// A small Markdown renderer for the docs pages the app serves (GET /docs/<page>.md), offline. Only
// the subset docs/ is written in, and the few HTML tags the pages use (<details>, <summary>,
// <a id="…"></a>). Everything else is text: each piece goes through html`…`, which escapes it, so
// no markup in a page reaches the browser as markup (and the CSP forbids scripts as well).

import { html, SafeHtml } from './html.ts';

interface Context {
  /** Where a link's target goes from here, or undefined to show the link's text only. */
  hrefOf(target: string): string | undefined;
  /** Ids given so far: a code may head rows on several tables, and only its first row gets the id. */
  ids: Set<string>;
}

/** A Markdown text as HTML, with an id on each heading (GitHub's slug) and on each check-table row. */
export function renderMarkdown(markdown: string, hrefOf: Context['hrefOf']): SafeHtml {
  return blocks(markdown.split('\n'), { hrefOf, ids: new Set() });
}

const FENCE = /^(\s*)```\s*([\w-]*)\s*$/;
const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
const LIST_ITEM = /^(\s*)([-*+]|\d+\.)\s+/;
const TABLE_ROW = /^\s*\|.*\|\s*$/;
const TABLE_RULE = /^\s*\|(\s*:?-+:?\s*\|)+\s*$/;
const QUOTE = /^\s*>\s?/;
const RULE = /^\s*(?:-{3,}|\*{3,})\s*$/;
const COMMENT = /^\s*<!--.*-->\s*$/;
/** The only HTML the pages write, each on a line of its own. */
const DETAILS = /^\s*<(\/?)details>\s*$/;
const SUMMARY = /^\s*<summary>(.*)<\/summary>\s*$/;

/** Lines to blocks: each block starts where its marker is, and takes the lines that belong to it. */
function blocks(lines: readonly string[], ctx: Context): SafeHtml {
  const out: SafeHtml[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || COMMENT.test(line)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const end = findIndex(lines, i + 1, (l) => /^\s*```\s*$/.test(l));
      const code = lines.slice(i + 1, end).map((l) => l.slice(Math.min(fence[1]!.length, l.length - l.trimStart().length)));
      out.push(codeBlock(code.join('\n'), fence[2]!));
      i = end + 1;
      continue;
    }
    const single = lineBlock(line, ctx);
    if (single) {
      out.push(single);
      i++;
      continue;
    }
    if (TABLE_ROW.test(line) && TABLE_RULE.test(lines[i + 1] ?? '')) {
      const end = findIndex(lines, i + 2, (l) => !TABLE_ROW.test(l));
      out.push(table(lines[i]!, lines.slice(i + 2, end), ctx));
      i = end;
      continue;
    }
    if (QUOTE.test(line)) {
      const end = findIndex(lines, i, (l) => !QUOTE.test(l));
      out.push(html`<blockquote>${blocks(lines.slice(i, end).map((l) => l.replace(QUOTE, '')), ctx)}</blockquote>`);
      i = end;
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const [rendered, end] = list(lines, i, ctx);
      out.push(rendered);
      i = end;
      continue;
    }
    // A paragraph: up to a blank line or the start of another block.
    const end = findIndex(lines, i + 1, (l) => l.trim() === '' || startsBlock(l));
    out.push(html`<p>${inline(lines.slice(i, end).map((l) => l.trim()).join('\n'), ctx)}</p>`);
    i = end;
  }
  return html`${out.map((block) => html`${block}\n`)}`;
}

/** The blocks of one line: a heading, a rule, a <details> or <summary> line. */
function lineBlock(line: string, ctx: Context): SafeHtml | undefined {
  const heading = HEADING.exec(line);
  if (heading) {
    const tag = new SafeHtml(`h${heading[1]!.length}`); // h1 to h6: a count of #, never text from the page
    const id = uniqueId(slugOf(heading[2]!), ctx);
    return html`<${tag}${id ? html` id="${id}"` : ''}>${inline(heading[2]!, ctx)}</${tag}>`;
  }
  if (RULE.test(line)) return html`<hr>`;
  // Open: the reader came here for a row inside it (a link from /trace names the row).
  const details = DETAILS.exec(line);
  if (details) return details[1] ? html`</details>` : html`<details open>`;
  const summary = SUMMARY.exec(line);
  return summary ? html`<summary>${inline(summary[1]!, ctx)}</summary>` : undefined;
}

function startsBlock(line: string): boolean {
  return [FENCE, HEADING, LIST_ITEM, QUOTE, DETAILS, SUMMARY, COMMENT, TABLE_ROW].some((pattern) => pattern.test(line)) || RULE.test(line);
}

/** The first index from `from` whose line matches, or the end. */
function findIndex(lines: readonly string[], from: number, matches: (line: string) => boolean): number {
  let i = from;
  while (i < lines.length && !matches(lines[i]!)) i++;
  return i;
}

/**
 * A list from line `start`: each item takes the lines indented past its marker (and blank lines
 * between them), rendered as blocks of their own, so a nested list or a code block in an item works.
 */
function list(lines: readonly string[], start: number, ctx: Context): [SafeHtml, number] {
  const first = LIST_ITEM.exec(lines[start]!)!;
  const indent = first[1]!.length;
  const ordered = /\d/.test(first[2]!);
  const items: SafeHtml[] = [];
  let i = start;
  while (i < lines.length) {
    const marker = LIST_ITEM.exec(lines[i]!);
    if (!marker || marker[1]!.length !== indent || /\d/.test(marker[2]!) !== ordered) break;
    const contentIndent = marker[0].length;
    const body = [lines[i]!.slice(contentIndent)];
    i++;
    while (i < lines.length) {
      const next = lines[i]!;
      const nextIndent = next.length - next.trimStart().length;
      if (next.trim() === '') {
        // A blank line stays in the item only when the item goes on after it.
        const after = lines[i + 1] ?? '';
        if (after.trim() === '' || after.length - after.trimStart().length <= indent) break;
      } else if (nextIndent <= indent) {
        break;
      }
      body.push(next.slice(Math.min(contentIndent, nextIndent)));
      i++;
    }
    items.push(html`<li>${itemBody(body, ctx)}</li>`);
    if (lines[i]?.trim() === '' && LIST_ITEM.exec(lines[i + 1] ?? '')?.[1]!.length === indent) i++;
  }
  return [ordered ? html`<ol>${items}</ol>` : html`<ul>${items}</ul>`, i];
}

/** An item of one paragraph is shown without <p>, as GitHub does for a tight list. */
function itemBody(body: string[], ctx: Context): SafeHtml {
  if (body.every((line) => line.trim() !== '' && !startsBlock(line))) return inline(body.map((l) => l.trim()).join('\n'), ctx);
  const end = findIndex(body, 1, (l) => l.trim() === '' || startsBlock(l));
  return html`${inline(body.slice(0, end).map((l) => l.trim()).join('\n'), ctx)}${blocks(body.slice(end), ctx)}`;
}

/** Fenced code, escaped. A Mermaid diagram is its source (GitHub draws it; this page runs no script). */
function codeBlock(code: string, language: string): SafeHtml {
  const pre = html`<pre><code>${code}</code></pre>`;
  if (language !== 'mermaid') return pre;
  return html`<details class="diagram"><summary>A diagram (its Mermaid source: GitHub draws it, this page runs no script)</summary>${pre}</details>`;
}

/**
 * A table; a row whose first cell is a check code (`STATE_MISMATCH`) gets it as its id, for links
 * from /trace. A header of empty cells (a table of names and values) is left out: empty column
 * headers name nothing.
 */
function table(header: string, rows: readonly string[], ctx: Context): SafeHtml {
  const names = cellsOf(header);
  const head = names.every((name) => name === '') ? '' : html`<thead><tr>${names.map((name) => html`<th scope="col">${inline(name, ctx)}</th>`)}</tr></thead>`;
  const body = rows.map((row) => {
    const cells = cellsOf(row);
    const code = /^`([A-Z][A-Z0-9_]+)`$/.exec(cells[0] ?? '')?.[1];
    const id = code === undefined ? undefined : uniqueId(code, ctx);
    return html`<tr${id ? html` id="${id}"` : ''}>${cells.map((cell) => html`<td>${inline(cell, ctx)}</td>`)}</tr>`;
  });
  return html`<div class="table"><table>${head}<tbody>${body}</tbody></table></div>`;
}

/** `| a | b \| c |` → ['a', 'b | c']. */
function cellsOf(row: string): string[] {
  const inner = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim().replaceAll('\\|', '|'));
}

/** `## Why S256, never `plain`` → `why-s256-never-plain`: GitHub's slug of a heading. */
function slugOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

function uniqueId(id: string, ctx: Context): string | undefined {
  if (id === '' || ctx.ids.has(id)) return undefined;
  ctx.ids.add(id);
  return id;
}

/**
 * Inline Markdown: `code`, [text](target), **bold**, *emphasis*, <https://…>, and <a id="…"></a>.
 * Text between them is escaped; a link whose target hrefOf does not allow is its text only.
 */
const INLINE = /(`+)([\s\S]*?)\1(?!`)|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([\s\S]+?)\*\*|\*([^*\s][^*]*?)\*|<(https:\/\/[^>\s]+)>|<a id="([\w-]+)"><\/a>/g;

function inline(text: string, ctx: Context): SafeHtml {
  const parts: (SafeHtml | string)[] = [];
  let at = 0;
  for (const match of text.matchAll(INLINE)) {
    parts.push(text.slice(at, match.index));
    at = match.index + match[0].length;
    const [, ticks, code, linkText, target, bold, emphasis, autolink, anchor] = match;
    if (ticks !== undefined) parts.push(html`<code>${code!.trim()}</code>`);
    else if (linkText !== undefined) parts.push(link(target!, inline(linkText, ctx), ctx));
    else if (bold !== undefined) parts.push(html`<strong>${inline(bold, ctx)}</strong>`);
    else if (emphasis !== undefined) parts.push(html`<em>${inline(emphasis, ctx)}</em>`);
    else if (autolink !== undefined) parts.push(link(autolink, autolink, ctx));
    else if (anchor !== undefined && uniqueId(anchor, ctx)) parts.push(html`<span id="${anchor}"></span>`); // once per page
  }
  parts.push(text.slice(at));
  return html`${parts}`;
}

/** A link where hrefOf allows one; its text alone otherwise. */
function link(target: string, text: SafeHtml | string, ctx: Context): SafeHtml {
  const href = ctx.hrefOf(target);
  return href === undefined ? html`${text}` : html`<a href="${href}">${text}</a>`;
}

/** Inline Markdown without links: a sentence of this project's own (a sandbox fault's description) on a page. */
export function inlineText(text: string): SafeHtml {
  return inline(text, { hrefOf: () => undefined, ids: new Set() });
}
