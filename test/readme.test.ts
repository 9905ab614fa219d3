import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { OidcAuthErrorCode } from '../lib/index.js';
import { OPTION_NAMES } from '../lib/options/validation.js';
import { codeBlocks, docFiles, readDoc, ROOT as root, tableRows } from './helpers/docs.js';

/** Where the option and error tables live: the references the README links to. */
const OPTIONS_DOC = 'docs/options.md';
const ERRORS_DOC = 'docs/errors.md';

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

/** The TypeScript code blocks of the README and the guides, without their fences, each with its file. */
function tsBlocks(): { file: string; block: string }[] {
  return docFiles().flatMap((file) => codeBlocks(readDoc(file), 'ts').map((block) => ({ file, block })));
}

describe('the README and the guides in docs/ say what the code does', () => {
  test('every TypeScript example of the README and docs/*.md is part of a program in docs/examples/, which CI compiles', () => {
    const dir = path.join(root, 'docs', 'examples');
    const programs = readdirSync(dir)
      .filter((name) => name.endsWith('.ts'))
      .map((name) => readFileSync(path.join(dir, name), 'utf8'));
    const blocks = tsBlocks();
    assert.ok(blocks.filter(({ file }) => file === 'README.md').length >= 1, 'the README has its quick start in TypeScript');
    assert.ok(blocks.length >= 15, `the TypeScript examples of the README and the guides (found ${String(blocks.length)})`);
    for (const { file, block } of blocks) {
      assert.ok(
        programs.some((program) => program.includes(block)),
        `this example of ${file} is in no file of docs/examples/, so nothing compiles it:\n${block.slice(0, 300)}`,
      );
    }
  });

  test('every lib/ file the README and the guides name exists (files move; the docs must follow)', () => {
    let count = 0;
    for (const doc of docFiles()) {
      const named = [...new Set([...readDoc(doc).matchAll(/\blib\/[\w/.-]+\.ts\b/g)].map((m) => m[0]))].filter((file) => file !== 'lib/file.ts');
      count += named.length;
      for (const file of named) assert.ok(existsSync(path.join(root, file)), `${doc} names ${file}, which does not exist`);
    }
    assert.ok(count > 10, 'the security guide names the files that validate each input');
  });

  test('the option table lists every option the package accepts, and no other', () => {
    const documented = tableRows(OPTIONS_DOC, 'option').map((row) => unquoted(row[0]));
    assert.deepEqual([...documented].sort(), [...OPTION_NAMES].sort());
  });

  test('the errors reference lists every code the package raises, each with the status it is raised with, and no other', () => {
    const rows = new Map(tableRows(ERRORS_DOC, 'code').map((row) => [unquoted(row[0]), row[1] ?? '']));
    const thrown = thrownInLib();
    const names = new Map(Object.entries(OidcAuthErrorCode));
    for (const { code, status, file } of thrown) {
      const value = names.get(code);
      assert.ok(value !== undefined, `${file} raises OidcAuthErrorCode.${code}, which does not exist`);
      const documented = rows.get(value);
      assert.ok(documented !== undefined, `${file} raises ${value}, missing from the errors reference ${ERRORS_DOC}`);
      // a status computed at the throw (a variable) is described in words in the table
      if (/^\d+$/.test(status))
        assert.match(documented, new RegExp(`\\b${status}\\b`), `${file} raises ${value} with ${status}; ${ERRORS_DOC} says "${documented}"`);
    }
    const raised = new Set<string | undefined>(thrown.map(({ code }) => names.get(code)));
    for (const value of names.values()) assert.ok(raised.has(value), `${value} is exported but never raised by lib/`);
    const exported = new Set<string>(names.values());
    for (const documented of rows.keys()) {
      assert.ok(exported.has(documented), `${ERRORS_DOC} documents ${documented}, which is not an OidcAuthErrorCode`);
      assert.ok(raised.has(documented), `${ERRORS_DOC} documents ${documented}, which lib/ never raises`);
    }
    assert.deepEqual([...rows.keys()].sort(), [...exported].sort(), `${ERRORS_DOC} lists exactly the exported codes`);
  });
});
