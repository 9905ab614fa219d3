import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { OPTION_NAMES } from '../lib/options/validation.js';
import { docFiles, readDoc, ROOT, withoutCode } from './helpers/docs.js';

/*
 * The migration guides' feature tables against the package itself. A guide once marked
 * authRequired, the claim checks, res.oidc.login() and attemptSilentLogin "not yet" long
 * after they shipped: a reader then builds by hand what the package already does. So:
 * nothing in the docs is "not yet"; every name the express-oidc-auth column gives exists
 * (an export, an option, a member of req.oidc or res.oidc); and a row that says the package
 * has no counterpart does not name something the package has.
 */

const parse = (file: string): ts.SourceFile => ts.createSourceFile(file, readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);

/** Every name lib/index.ts exports, values and types. */
function exportedNames(): Set<string> {
  const names = new Set<string>();
  parse('lib/index.ts').forEachChild((node) => {
    if (ts.isExportDeclaration(node) && node.exportClause !== undefined && ts.isNamedExports(node.exportClause)) {
      for (const element of node.exportClause.elements) names.add(element.name.text);
    }
  });
  return names;
}

/** The members of an interface declared in a lib file. */
function membersOf(file: string, name: string): Set<string> {
  const members = new Set<string>();
  parse(file).forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== name) return;
    for (const member of node.members) if (member.name !== undefined && ts.isIdentifier(member.name)) members.add(member.name.text);
  });
  assert.ok(members.size > 0, `${file} declares ${name}`);
  return members;
}

const EXPORTS = exportedNames();
const OPTIONS = new Set<string>(OPTION_NAMES);
/** Options whose value is an object the package hands on or reads by its own keys: `session.secret`, `authorizationParams.prompt`. */
const OPEN_OPTIONS = new Set(['session', 'authorizationParams', 'clientPrivateKey']);
/** `hooks.postLogin` is also spoken of as "a `postLogin` hook". */
const OPTION_LEAVES = new Set(OPTION_NAMES.filter((name) => name.includes('.')).map((name) => name.slice(name.lastIndexOf('.') + 1)));
const REQUEST_MEMBERS = membersOf('lib/request-context.ts', 'OidcRequestContext');
const RESPONSE_MEMBERS = membersOf('lib/response-context.ts', 'OidcResponseContext');
/** Named on their own after the object they belong to: "`req.oidc.accessToken` (`token`, `isExpired()`…)", "`res.oidc.login({ returnTo })`". */
const PARTS = new Map([...membersOf('lib/request-context.ts', 'OidcAccessToken')].map((member) => [member, `req.oidc.accessToken.${member}`]));
for (const member of membersOf('lib/response-context.ts', 'LoginOptions')) PARTS.set(member, `res.oidc.login({ ${member} })`);

/** What a backticked name in a table stands for, if it is one of the package's; undefined when it names nothing that exists. */
function resolve(token: string): string | undefined {
  const name = token.replace(/\(.*\)$/, '');
  if (name.startsWith('req.oidc.')) return REQUEST_MEMBERS.has(name.split('.')[2] ?? '') ? `req.oidc member ${name}` : undefined;
  if (name.startsWith('res.oidc.')) return RESPONSE_MEMBERS.has(name.split('.')[2] ?? '') ? `res.oidc member ${name}` : undefined;
  if (OPTIONS.has(name)) return `option ${name}`;
  const root = name.split('.')[0] ?? '';
  if (name.includes('.') && OPEN_OPTIONS.has(root)) return `option ${root}`;
  if (EXPORTS.has(name)) return `export ${name}`;
  if (OPTION_LEAVES.has(name)) return `option …${name}`;
  return PARTS.get(name);
}

/** A backticked token worth checking: a name (dotted or called), not a value such as `/login`, `'code'` or `openid profile`. */
function isName(token: string): boolean {
  return /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*(\([^()]*\))?$/.test(token);
}

/** Looks like one of the package's names: dotted, called, or camelCase (a bare lowercase word is usually a value). */
function looksLikeOurs(token: string): boolean {
  return isName(token) && (/[.(]/.test(token) || /[a-z][A-Z]/.test(token) || /^[A-Z]/.test(token));
}

const ticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? '');

interface FeatureRow {
  guide: string;
  theirs: string;
  ours: string;
}

/** The rows of every table, in the migration guides, that has an `express-oidc-auth` column. */
function featureRows(): FeatureRow[] {
  const rows: FeatureRow[] = [];
  for (const guide of docFiles().filter((file) => file.startsWith('docs/migrating-from-'))) {
    const lines = withoutCode(readDoc(guide)).split('\n');
    for (let i = 0; i < lines.length; i++) {
      const header = (lines[i] ?? '')
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      const column = header.indexOf('express-oidc-auth');
      if (!(lines[i] ?? '').startsWith('|') || column < 1 || !(lines[i + 1] ?? '').startsWith('| ---')) continue;
      for (let j = i + 2; (lines[j] ?? '').startsWith('|'); j++) {
        const cells = (lines[j] ?? '')
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim());
        rows.push({ guide, theirs: cells[0] ?? '', ours: cells[column] ?? '' });
      }
    }
  }
  return rows;
}

describe('the migration guides against the package', () => {
  const rows = featureRows();

  test('both guides have their feature tables', () => {
    const guides = new Set(rows.map((row) => row.guide));
    assert.deepEqual([...guides].sort(), ['docs/migrating-from-express-openid-connect.md', 'docs/migrating-from-passport-openidconnect.md']);
    assert.ok(rows.length > 60, `feature rows (found ${String(rows.length)})`);
  });

  test('nothing in the README or docs/ is marked "not yet"', () => {
    for (const file of docFiles()) {
      const lines = readDoc(file).split('\n');
      const marked = lines.map((line, i) => ({ line, at: i + 1 })).filter(({ line }) => /\bnot yet\b/i.test(line));
      assert.deepEqual(
        marked,
        [],
        `${file} marks something "not yet": a feature that exists belongs in the table with its name, one that does not says so and why`,
      );
    }
  });

  test('every name in the express-oidc-auth column exists: an export, an option, or a member of req.oidc or res.oidc', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const row of rows) {
      for (const token of ticked(row.ours).filter(looksLikeOurs)) {
        checked++;
        if (resolve(token) === undefined) missing.push(`${row.guide}: "${token}" (row ${row.theirs})`);
      }
    }
    assert.deepEqual(missing, []);
    assert.ok(checked > 60, `names checked (found ${String(checked)})`);
  });

  test('a row that gives no counterpart does not name a feature the package has', () => {
    const wrong: string[] = [];
    for (const row of rows) {
      if (!/^(none|not exposed|not supported)\b/i.test(row.ours)) continue;
      for (const token of ticked(row.theirs).filter(isName)) {
        const ours = resolve(token);
        if (ours !== undefined) wrong.push(`${row.guide}: ${row.theirs} says "${row.ours}", but the package has ${ours}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('the check itself: a "none" row for a feature that exists is caught', () => {
    for (const token of ['authRequired', 'attemptSilentLogin', 'claimEquals', 'res.oidc.login()', 'req.oidc.fetchUserInfo()', 'clockToleranceSec']) {
      assert.notEqual(resolve(token), undefined, token);
    }
    for (const token of ['errorOnRequiredAuth', 'req.oidc.refreshToken', 'logoutParams', 'serializeUser']) assert.equal(resolve(token), undefined, token);
  });
});
