/**
 * Plain functions that write the pages' HTML: every value from outside goes through `escapeHtml`
 * (the `html` tag does it for each interpolation), so no name, token or message can add markup.
 * No script runs on these pages; the stylesheet is a file of this service (PAGE_CSP).
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Markup already escaped (built by `html`), kept as it is when interpolated again. */
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

type Interpolated = string | number | Html | ReadonlyArray<Html> | null | undefined | false;

/** A template tag: strings and numbers are escaped, Html (and lists of it) is kept, null/undefined/false vanish. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new Html(out);
}

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map((item: Html) => item.text).join('');
  return escapeHtml(String(value));
}

/**
 * No script at all, styles only from this service, forms only to it, never framed, no base
 * rewriting, no plugins. Referrer-Policy (set with it) keeps the token in the URL from leaving for other sites.
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const STYLESHEET_PATH = '/pages/style.css';

export function layout(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · tenant-authz</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`.text;
}

/** A form posting back to the page itself, with its CSRF field and a hidden `action`. */
export function form(action: string, csrf: string, fields: Html, submit: string, style: 'primary' | 'secondary' = 'primary'): Html {
  return html`<form method="post">
<input type="hidden" name="_csrf" value="${csrf}">
<input type="hidden" name="action" value="${action}">
${fields}
<button type="submit" class="${style}">${submit}</button>
</form>`;
}

export function field(name: string, label: string, type: 'text' | 'email' | 'password', autocomplete: string, value = ''): Html {
  return html`<label>${label}<input name="${name}" type="${type}" autocomplete="${autocomplete}" value="${value}" required></label>`;
}

/** A message above the forms: what went wrong, or what happened. */
export function notice(kind: 'error' | 'success', lines: string[]): Html | null {
  if (lines.length === 0) return null;
  return html`<div class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${lines.map((line) => html`<p>${line}</p>`)}</div>`;
}

export const STYLESHEET = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6478; --line: #d8dde8; --accent: #2f5bea; --bg: #f4f6fb; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 34rem; margin: 3rem auto; padding: 2rem 2.25rem; background: #fff; border: 1px solid var(--line); border-radius: 12px; box-shadow: 0 2px 12px rgba(29, 35, 48, .06); }
h1 { margin: 0 0 1rem; font-size: 1.5rem; }
h2 { margin: 1.75rem 0 .5rem; font-size: 1.1rem; }
p { margin: .5rem 0; }
.muted { color: var(--muted); font-size: .925rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 1rem 0; }
dt { color: var(--muted); }
dd { margin: 0; font-weight: 600; }
ul.roles { margin: .25rem 0; padding-left: 1.2rem; }
form { margin: .75rem 0 0; padding: 1rem 0 0; border-top: 1px solid var(--line); }
label { display: block; margin: .6rem 0; font-size: .925rem; color: var(--muted); }
input { display: block; width: 100%; margin-top: .25rem; padding: .55rem .7rem; font: inherit; color: var(--ink); border: 1px solid var(--line); border-radius: 8px; }
input:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
button { margin-top: .75rem; padding: .6rem 1.1rem; font: inherit; font-weight: 600; border-radius: 8px; cursor: pointer; }
button.primary { color: #fff; background: var(--accent); border: 1px solid var(--accent); }
button.secondary { color: var(--ink); background: #fff; border: 1px solid var(--line); }
.buttons { display: flex; gap: .75rem; flex-wrap: wrap; }
.notice { margin: 1rem 0; padding: .75rem 1rem; border-radius: 8px; }
.notice.error { background: #fdecec; border: 1px solid #f3b4b4; }
.notice.success { background: #e9f7ef; border: 1px solid #a7dcb9; }
`;
