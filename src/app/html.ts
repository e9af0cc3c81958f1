// HTML that escapes by default. Every page is built with the html`…` tag below: whatever is put
// into a ${…} slot is escaped unless it is itself html`…`. So a user name, an error message from
// the tenant or a value from the callback URL can never become markup (stored or reflected XSS).

import { escapeHtml } from '../local-server.ts';

/** Markup that is already safe: built by html`…`, never from a plain string. */
export class SafeHtml {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

type Slot = SafeHtml | string | number | undefined | null | false | readonly Slot[];

function render(value: Slot): string {
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

/** The template tag: html`<p>${userName}</p>` escapes userName; nested html`…` is kept as is. */
export function html(strings: TemplateStringsArray, ...values: Slot[]): SafeHtml {
  let text = strings[0] ?? '';
  values.forEach((value, i) => {
    text += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(text);
}
