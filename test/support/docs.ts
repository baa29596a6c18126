import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The documentation a reader has: README.md (the first hour), BENCHMARKS.md and every page under
 * docs/, by path from the repository's root.
 */
export function documentationPages(): Map<string, string> {
  const pages = new Map(['README.md', 'BENCHMARKS.md'].map((page) => [page, readFileSync(page, 'utf8')]));
  for (const file of readdirSync('docs', { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.md')).sort()) {
    const page = path.join('docs', file);
    pages.set(page, readFileSync(page, 'utf8'));
  }
  return pages;
}

/** All of it as one text, for "the docs say X somewhere". */
export function documentationText(): string {
  return [...documentationPages().values()].join('\n');
}

/** The lines of a Markdown page outside its fenced blocks (where headings and links live). */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker) fence = marker;
    else if (fence !== undefined && marker?.startsWith(fence)) fence = undefined;
    else if (fence === undefined) lines.push(line);
  }
  return lines;
}

/**
 * The anchors a page offers, as GitHub makes them: each heading lower-cased, with punctuation but
 * `-` and `_` dropped and spaces as `-` (a repeated one gets `-1`, `-2`, ...), and every
 * `<a id="…">`.
 */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6} (.*)$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replaceAll(' ', '-');
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const [, id = ''] of line.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(id);
  }
  return anchors;
}

/** The relative links of a page (`[text](target)`, no scheme), as written. */
export function relativeLinksOf(markdown: string): string[] {
  return proseLines(markdown)
    .flatMap((line) => [...line.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target = '']) => target))
    .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target));
}
