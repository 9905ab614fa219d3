import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveAccess } from '../lib/options/access.js';

/** What authRequired leaves open, as resolveAccess() builds it from the options. */
function publicOf(publicPaths: unknown): (path: string) => boolean {
  const problems: string[] = [];
  const access = resolveAccess({ authRequired: true, publicPaths }, problems);
  assert.deepEqual(problems, []);
  return access.isPublic;
}

describe('publicPaths: which paths authRequired leaves open', () => {
  test('a string is that path and every path under it, and nothing that merely starts with the same letters', () => {
    const isPublic = publicOf(['/assets']);
    assert.equal(isPublic('/assets'), true);
    assert.equal(isPublic('/assets/app.css'), true);
    assert.equal(isPublic('/assets/a/b/c'), true);
    assert.equal(isPublic('/assetsx'), false);
    assert.equal(isPublic('/x/assets'), false);
    assert.equal(isPublic('/'), false);
  });

  test('matching is case-sensitive: a path Express would also route elsewhere stays protected', () => {
    assert.equal(publicOf(['/assets'])('/Assets/app.css'), false);
  });

  test('a trailing slash in the option is the same path', () => {
    const isPublic = publicOf(['/docs/']);
    assert.equal(isPublic('/docs'), true);
    assert.equal(isPublic('/docs/intro'), true);
  });

  test('"/" opens every path', () => {
    const isPublic = publicOf(['/']);
    assert.equal(isPublic('/'), true);
    assert.equal(isPublic('/anything/at/all'), true);
  });

  test('a RegExp is tested against the path, with its own anchors, the same way on every call', () => {
    const isPublic = publicOf([/^\/health$/, /\.png$/]);
    assert.equal(isPublic('/health'), true);
    assert.equal(isPublic('/healthz'), false);
    assert.equal(isPublic('/img/logo.png'), true);
    assert.equal(isPublic('/img/logo.png'), true);
    assert.equal(isPublic('/img/logo.svg'), false);
  });

  test('none given: nothing is public; and without authRequired, nothing is asked of the path', () => {
    assert.equal(publicOf(undefined)('/anything'), false);
    const problems: string[] = [];
    const access = resolveAccess({}, problems);
    assert.deepEqual(problems, []);
    assert.equal(access.authRequired, false);
    assert.equal(access.attemptSilentLogin, false);
  });
});

test('authRequired and attemptSilentLogin given as false are off', () => {
  const problems: string[] = [];
  const access = resolveAccess({ authRequired: false, attemptSilentLogin: false }, problems);
  assert.deepEqual(problems, []);
  assert.equal(access.authRequired, false);
  assert.equal(access.attemptSilentLogin, false);
  const on = resolveAccess({ authRequired: true, attemptSilentLogin: true }, problems);
  assert.equal(on.authRequired, true);
  assert.equal(on.attemptSilentLogin, true);
});
