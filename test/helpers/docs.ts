import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/*
 * The documentation as the tests read it: README.md and the guides in docs/. Tests that
 * check a table or an example against the code name the guide the content lives in, so a
 * table that moves fails loudly ("docs/options.md has no table headed…") instead of
 * silently checking nothing.
 */

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** README.md and every docs/*.md (the guides), as paths relative to the repository root. */
export function docFiles(): string[] {
  const guides = readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...guides];
}

/** The text of a documentation file, by its path relative to the repository root. */
export function readDoc(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8');
}

/**
 * The rows of the table in `file` whose header row starts with `| <first> |`: each row's
 * cells, trimmed. Fails when the file has no such table.
 */
export function tableRows(file: string, first: string): string[][] {
  const lines = readDoc(file).split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  assert.notEqual(start, -1, `${file} has a table headed "${first}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

/** A markdown text with its fenced code blocks blanked out (headings and links inside them are not the document's). */
export function withoutCode(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/**
 * The anchors GitHub gives the headings of a markdown text: the heading's text in lower
 * case, inline markup dropped, punctuation but `-` and `_` removed, spaces made `-`; a
 * repeated one gets `-1`, `-2`….
 */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const match of withoutCode(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const text = (match[1] ?? '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/[`*]/g, '')
      .toLowerCase();
    const base = text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${String(count)}`);
  }
  return anchors;
}

/** The targets of a markdown text's inline links and images, `[text](target)`, outside code. */
export function linkTargets(markdown: string): string[] {
  const text = withoutCode(markdown).replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?: "[^"]*")?\)/g)].map((match) => match[1] ?? '');
}

/** The bodies of a markdown text's code blocks fenced with the given language. */
export function codeBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((match) => match[1] ?? '');
}
