// GET /docs/<page>.md — the project's docs, served so that the transcript's links to each check work
// offline: rendered to HTML (markdown.ts), with an anchor on each heading and check-table row.

import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { html, SafeHtml } from './html.ts';
import { layout, simplePage } from './pages.ts';
import { pageReply, type Reply } from './reply.ts';
import { renderMarkdown } from './markdown.ts';

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

/** One Markdown page, rendered (markdown.ts): ids on headings and check rows; links only where a reader can follow them. */
export function docsPage(file: string, markdown: string): SafeHtml {
  const body = renderMarkdown(markdown, hrefOf);
  // A page without a title of its own gets its file name as one.
  const title = /^#\s+(.+)$/m.exec(markdown)?.[1] ?? `docs/${file}`;
  const heading = /^#\s/m.test(markdown) ? '' : html`<h1>docs/${file}</h1>`;
  return layout(title.replaceAll('`', ''), html`<p><a href="/trace">← back to the transcript</a></p>${heading}<div class="doc">${body}</div>`, undefined, { wide: true, extraStyle: DOC_STYLE });
}

const DOC_STYLE = new SafeHtml(`
  .doc { overflow-wrap: anywhere; }
  .doc .table { overflow-x: auto; }
  .doc table { border-collapse: collapse; font-size: 0.9rem; margin: 0.8rem 0; overflow-wrap: break-word; }
  .doc td:first-child > code { white-space: nowrap; } /* a check's code, whole */
  .doc th, .doc td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
  .doc tr:target, .doc :target { background: #fff4d6; }
  .doc pre { white-space: pre-wrap; overflow-wrap: anywhere; } /* wrapped, not scrolled: a scroll box needs the keyboard too */
  .doc pre code { background: none; padding: 0; }
  .doc blockquote { margin: 0.8rem 0; padding: 0 1rem; border-left: 4px solid #ccc; }
  .doc summary { cursor: pointer; font-weight: 600; }`);

/**
 * Where a Markdown link leads from here: another docs page (served here), an anchor on this page,
 * an https page. Links into src/ or test/ (../test/…) are not served: they stay text.
 */
function hrefOf(target: string): string | undefined {
  if (/^https:\/\//.test(target)) return target;
  if (/^#[\w.-]*$/.test(target)) return target;
  const page = /^(?:\.\/)?([\w.-]+\.md)(#[\w.-]*)?$/.exec(target);
  return page && DOCS_FILES.includes(page[1]!) ? `/docs/${page[1]}${page[2] ?? ''}` : undefined;
}
