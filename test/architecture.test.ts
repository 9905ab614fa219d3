import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';

/*
 * The floors of ARCHITECTURE.md, held against lib/'s imports: an import that runs back up a
 * floor, or two folders that import each other, is a circle waiting to happen and a layout
 * a newcomer cannot guess. The table in ARCHITECTURE.md is the one source: move a folder
 * and the table moves with it.
 */
const root = path.resolve(import.meta.dirname, '..');
const lib = path.join(root, 'lib');

/** floor by unit: a folder at the top of lib/ (`ended/`) or a file there (`index.ts`) */
function floors(): Map<string, number> {
  const text = readFileSync(path.join(root, 'ARCHITECTURE.md'), 'utf8');
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const row = /^\| (\d+) \|[^|]*\|([^|]*)\|/.exec(line);
    if (row === null) continue;
    for (const [, unit] of (row[2] ?? '').matchAll(/`([\w.-]+(?:\/|\.ts))`/g)) {
      if (unit === undefined) continue;
      assert.ok(!found.has(unit), `ARCHITECTURE.md names ${unit} on two floors`);
      found.set(unit, Number(row[1]));
    }
  }
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** the unit a file of lib/ belongs to */
function unitOf(file: string): string {
  const [first, ...rest] = path.relative(lib, file).split(path.sep);
  return rest.length > 0 ? `${first ?? ''}/` : (first ?? '');
}

/** every relative import of a file (type-only and re-exports included), as files of lib/ */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => path.resolve(path.dirname(file), name.replace(/\.js$/, '.ts')));
}

describe('ARCHITECTURE.md floors', () => {
  const table = floors();
  const files = sources(lib);
  const units = new Set(
    readdirSync(lib, { withFileTypes: true })
      .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
      .filter((unit) => unit.endsWith('/') || unit.endsWith('.ts')),
  );

  test('names every folder and file at the top of lib/, each on one floor', () => {
    assert.ok(table.size > 0, 'ARCHITECTURE.md has a table of floors');
    for (const unit of units) assert.ok(table.has(unit), `lib/${unit} is on no floor of ARCHITECTURE.md`);
  });

  test('every folder and file it names exists', () => {
    for (const unit of table.keys()) assert.ok(existsSync(path.join(lib, unit)), `ARCHITECTURE.md names lib/${unit}, which does not exist`);
  });

  test('no file of lib/ imports from a higher floor', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = unitOf(file);
      for (const target of importsOf(file)) {
        const to = unitOf(target);
        assert.ok(existsSync(target), `${path.relative(root, file)} imports ${path.relative(root, target)}, which does not exist`);
        if ((table.get(to) ?? 0) > (table.get(from) ?? 0))
          upward.push(
            `${path.relative(root, file)} (floor ${String(table.get(from))}) imports ${path.relative(root, target)} (floor ${String(table.get(to))})`,
          );
      }
    }
    assert.deepEqual(upward, []);
  });

  test('no two folders or files import each other', () => {
    const edges = new Set<string>();
    for (const file of files) {
      for (const target of importsOf(file)) {
        const from = unitOf(file);
        const to = unitOf(target);
        if (from !== to) edges.add(`${from} -> ${to}`);
      }
    }
    const both = [...edges].filter((edge) => {
      const [from, to] = edge.split(' -> ');
      return from !== undefined && to !== undefined && from < to && edges.has(`${to} -> ${from}`);
    });
    assert.deepEqual(both, []);
  });
});
