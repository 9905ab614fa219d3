/**
 * `npm test`: node's test runner over the lanes of test/process-groups.ts (a few processes,
 * each running its files in turn), three at a time (two with `--shared`). TAP on stdout, then the ten
 * slowest files. Arguments: `--shared` runs only the lanes of every Node version (what CI
 * runs on Node 22 and 24); anything else is passed to node --test.
 */
import { spawn } from 'node:child_process';
import { lanesAtOnce, runnerFiles } from './process-groups.js';

const args = process.argv.slice(2);
const sharedOnly = args.includes('--shared');
const passed = args.filter((arg) => arg !== '--shared');
const files = runnerFiles(sharedOnly);
const reporters = [
  '--test-reporter=tap',
  '--test-reporter-destination=stdout',
  '--test-reporter=./test/reporters/slowest-files.mjs',
  '--test-reporter-destination=stdout',
];
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${String(lanesAtOnce(sharedOnly))}`, ...reporters, ...passed, ...files],
  {
    stdio: 'inherit',
  },
);
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128);
});
