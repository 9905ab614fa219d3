import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { LANES, laneFiles, MOCKS_CLEAR_TIMEOUT, ownProcessFiles, ownsProcess, runnerFiles, SHARED_LANES, testFiles } from './process-groups.js';

/* npm test runs the lanes and the files of their own (test/run.ts): no file may fall between them, or run twice. */
describe('the test files and their processes', () => {
  const inLanes = LANES.flatMap((lane) => laneFiles(lane.name).map((name) => `test/${name}`));

  test('every test file runs exactly once: in one lane or in a process of its own', () => {
    const own = ownProcessFiles();
    assert.deepEqual(
      [...inLanes, ...own].sort(),
      testFiles().map((name) => `test/${name}`),
    );
    assert.equal(new Set([...inLanes, ...own]).size, inLanes.length + own.length);
    assert.ok(
      SHARED_LANES.some((lane) => laneFiles(lane).includes('process-groups.test.ts')),
      'this file is a shared one',
    );
    assert.ok(
      laneFiles('browser').includes('browser.test.ts') && laneFiles('floods').every((name) => name.endsWith('.load.test.ts')),
      'the browser suites and the floods have lanes of their own',
    );
  });

  test('each lane has its entry file, and node --test (which sorts its files) starts them in the order of LANES, before the own-process files', () => {
    const entries = readdirSync(new URL('_lanes/', import.meta.url)).map((name) => `test/_lanes/${name}`);
    assert.deepEqual(entries.sort(), LANES.map((lane) => lane.entry).sort());
    const all = runnerFiles(false);
    assert.deepEqual([...all].sort(), all, 'in name order already');
    for (const lane of LANES) {
      assert.match(readFileSync(new URL(`../${lane.entry}`, import.meta.url), 'utf8'), new RegExp(`runLane\\('${lane.name}'\\)`));
      assert.ok(laneFiles(lane.name).length > 0, `${lane.name} has files`);
    }
    assert.deepEqual(
      runnerFiles(true),
      LANES.filter((lane) => lane.everyNode).map((lane) => lane.entry),
    );
  });

  test("on Node 20 a file that mocks setTimeout has a process of its own (Node 20's fetch breaks under a mocked clearTimeout)", () => {
    const mocking = testFiles().filter((name) => /apis: \[[^\]]*'setTimeout'/.test(readFileSync(new URL(name, import.meta.url), 'utf8')));
    assert.deepEqual(mocking, [...MOCKS_CLEAR_TIMEOUT].sort(), 'the files that mock setTimeout are the ones listed');
    const node20 = Number(process.versions.node.split('.')[0]) < 22;
    for (const name of mocking) {
      if (node20) assert.ok(ownsProcess(name) && !inLanes.includes(`test/${name}`), `${name} has a process of its own on Node 20`);
      else assert.ok(inLanes.includes(`test/${name}`), `${name} is in a lane on Node ${process.versions.node}`);
    }
  });
});
