/**
 * Escaping for the example's pages. Every page is built with the `html` tag below, which
 * escapes each interpolated value unless it is already `SafeHtml`: escaping is the default,
 * so a forgotten call cannot open an XSS hole (a login name such as `<script>` shows as text).
 */

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for use in HTML element content and in quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}

/** Markup that is already safe: made only by the `html` tag (or `raw` for constants). */
export class SafeHtml {
  readonly #markup: string;

  constructor(markup: string) {
    this.#markup = markup;
  }

  toString(): string {
    return this.#markup;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (typeof value === 'object') return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Template tag: literal parts are kept, every `${value}` is escaped (arrays are joined, nullish and false print nothing). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** A trusted constant (the stylesheet): never pass it anything that came from a request or a token. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
