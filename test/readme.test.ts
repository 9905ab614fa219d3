import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { OidcAuthErrorCode } from '../lib/index.js';
import { OPTION_NAMES } from '../lib/options/validation.js';

const root = path.resolve(import.meta.dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/** The rows of the README table whose header row starts with `| <first> |`: each row's cells, without the backticks of the first. */
function table(first: string): string[][] {
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  assert.notEqual(start, -1, `the README has a table headed "${first}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}

const unquoted = (cell: string | undefined): string => (cell ?? '').replace(/^`|`$/g, '');

/** Every `new OidcAuthError(OidcAuthErrorCode.X, status` in lib/, with the status as written there. */
function thrownInLib(): { code: string; status: string; file: string }[] {
  const found: { code: string; status: string; file: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        const source = readFileSync(full, 'utf8');
        for (const match of source.matchAll(/new OidcAuthError\(\s*OidcAuthErrorCode\.(\w+),\s*([\w.]+)/g)) {
          found.push({ code: match[1] ?? '', status: match[2] ?? '', file: path.relative(root, full) });
        }
      }
    }
  };
  walk(path.join(root, 'lib'));
  return found;
}

/** The README's TypeScript code blocks, without their fences. */
function tsBlocks(): string[] {
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
}

describe('the README says what the code does', () => {
  test('every TypeScript example is part of a program in docs/examples/, which CI compiles', () => {
    const dir = path.join(root, 'docs', 'examples');
    const programs = readdirSync(dir)
      .filter((name) => name.endsWith('.ts'))
      .map((name) => readFileSync(path.join(dir, name), 'utf8'));
    const blocks = tsBlocks();
    assert.ok(blocks.length >= 4, `the README's TypeScript examples (found ${String(blocks.length)})`);
    for (const block of blocks) {
      assert.ok(
        programs.some((program) => program.includes(block)),
        `this README example is in no file of docs/examples/, so nothing compiles it:\n${block.slice(0, 300)}`,
      );
    }
  });

  test('every lib/ file the README names exists (files move; the README must follow)', () => {
    const named = [...new Set([...readme.matchAll(/\blib\/[\w/.-]+\.ts\b/g)].map((m) => m[0]))].filter((file) => file !== 'lib/file.ts');
    assert.ok(named.length > 10, 'the README names the files that validate each input');
    for (const file of named) assert.ok(existsSync(path.join(root, file)), `the README names ${file}, which does not exist`);
  });

  test('the option table lists every option the package accepts, and no other', () => {
    const documented = table('option').map((row) => unquoted(row[0]));
    assert.deepEqual([...documented].sort(), [...OPTION_NAMES].sort());
  });

  test('the error table lists every code the package raises, each with the status it is raised with', () => {
    const rows = new Map(table('code').map((row) => [unquoted(row[0]), row[1] ?? '']));
    const thrown = thrownInLib();
    const names = new Map(Object.entries(OidcAuthErrorCode));
    for (const { code, status, file } of thrown) {
      const value = names.get(code);
      assert.ok(value !== undefined, `${file} raises OidcAuthErrorCode.${code}, which does not exist`);
      const documented = rows.get(value);
      assert.ok(documented !== undefined, `${file} raises ${value}, missing from the README's error table`);
      // a status computed at the throw (a variable) is described in words in the table
      if (/^\d+$/.test(status)) assert.match(documented, new RegExp(`\\b${status}\\b`), `${file} raises ${value} with ${status}; the README says "${documented}"`);
    }
    const raised = new Set<string | undefined>(thrown.map(({ code }) => names.get(code)));
    for (const value of names.values()) assert.ok(raised.has(value), `${value} is exported but never raised by lib/`);
    for (const documented of rows.keys()) assert.ok(raised.has(documented), `the README documents ${documented}, which lib/ never raises`);
  });
});
