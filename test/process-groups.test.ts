import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { MOCKS_CLEAR_TIMEOUT, ownProcessFiles, ownsProcess, sharedFiles, testFiles } from './process-groups.js';

/* npm test runs test/shared-process.ts and the files of their own (test/run.ts): no file may fall between the two, or run twice. */
describe('the test files and their processes', () => {
  test('every test file runs exactly once: in the shared process or in one of its own', () => {
    const shared = sharedFiles().map((name) => `test/${name}`);
    const own = ownProcessFiles();
    assert.deepEqual(
      [...shared, ...own].sort(),
      testFiles().map((name) => `test/${name}`),
    );
    assert.equal(new Set([...shared, ...own]).size, shared.length + own.length);
    assert.ok(shared.includes('test/process-groups.test.ts'), 'this file is one of the shared ones');
    assert.ok(
      own.includes('test/browser.test.ts') && own.some((file) => file.endsWith('.load.test.ts')),
      'the browser and load suites have a process of their own',
    );
  });

  test("on Node 20 a file that mocks setTimeout has a process of its own (Node 20's fetch breaks under a mocked clearTimeout)", () => {
    const mocking = testFiles().filter((name) => /apis: \[[^\]]*'setTimeout'/.test(readFileSync(new URL(name, import.meta.url), 'utf8')));
    assert.deepEqual(mocking, [...MOCKS_CLEAR_TIMEOUT].sort(), 'the files that mock setTimeout are the ones listed');
    const node20 = Number(process.versions.node.split('.')[0]) < 22;
    for (const name of mocking) if (node20) assert.ok(ownsProcess(name), `${name} has a process of its own on Node 20`);
  });
});
