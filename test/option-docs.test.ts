import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { OPTION_NAMES } from '../lib/options/validation.js';
import { tableRows } from './helpers/docs.js';

/*
 * Every public option has JSDoc (what an editor shows on hover) that says its default, or
 * that it is required, and agrees with the option table of the options reference
 * (docs/options.md, which the README links to).
 */
const root = path.resolve(import.meta.dirname, '..');

/** JSDoc text of every property of the named interfaces in a lib file, by interface and property. */
function jsdocOf(file: string, interfaces: readonly string[]): Map<string, string> {
  const source = ts.createSourceFile(file, readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found = new Map<string, string>();
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || !interfaces.includes(node.name.text)) return;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue;
      const text = ts
        .getJSDocCommentsAndTags(member)
        .map((doc) => (typeof doc.comment === 'string' ? doc.comment : (doc.comment ?? []).map((part) => part.text).join('')))
        .join(' ');
      found.set(`${node.name.text}.${member.name.text}`, text.replace(/\s+/g, ' '));
    }
  });
  return found;
}

const OWNER: Partial<Record<string, string>> = {
  routes: 'RoutesOptions',
  logout: 'LogoutOptions',
  refresh: 'RefreshOptions',
  lifetime: 'LifetimeOptions',
  hooks: 'OidcHooks',
  telemetry: 'TelemetryOptions',
};

function documentedDefaults(): Map<string, string> {
  return new Map(tableRows('docs/options.md', 'option').map(([name, byDefault]) => [(name ?? '').replace(/`/g, ''), byDefault ?? '']));
}

describe('the options are documented where they are declared', () => {
  const docs = new Map([
    ...jsdocOf('lib/options/options.ts', ['OidcAuthOptions', 'RoutesOptions', 'LogoutOptions', 'RefreshOptions', 'LifetimeOptions']),
    ...jsdocOf('lib/public-types.ts', ['OidcHooks']),
    ...jsdocOf('lib/telemetry/telemetry.ts', ['TelemetryOptions']),
  ]);
  const defaults = documentedDefaults();

  for (const option of OPTION_NAMES) {
    test(`${option}: JSDoc with the options reference's default`, () => {
      const dot = option.indexOf('.');
      const owner = dot === -1 ? 'OidcAuthOptions' : (OWNER[option.slice(0, dot)] ?? '?');
      const key = `${owner}.${option.slice(dot + 1)}`;
      const doc = docs.get(key);
      assert.ok(doc !== undefined && doc.length > 0, `${option} (${key}) has no JSDoc`);
      const byDefault = defaults.get(option);
      assert.ok(byDefault !== undefined, `${option} is not in the option table of docs/options.md`);
      if (byDefault === 'required') {
        assert.match(doc, /\bRequired\b/, `docs/options.md says ${option} is required; its JSDoc does not`);
        return;
      }
      assert.match(doc, /\bDefault\b/, `${option}: the JSDoc does not say the default`);
      // The options reference's first literal default (`5000`, `/login`, `['POST']`…) must be the JSDoc's too.
      const literal = /`([^`]+)`/.exec(byDefault)?.[1];
      if (literal !== undefined) assert.ok(doc.includes(`\`${literal}\``), `${option}: docs/options.md's default is \`${literal}\`, the JSDoc says: ${doc}`);
      else if (byDefault === 'none') assert.match(doc, /Default: none/, `${option}: docs/options.md says no default; the JSDoc says: ${doc}`);
    });
  }
});
