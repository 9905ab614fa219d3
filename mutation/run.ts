/**
 * `npm run mutate [file…]`: StrykerJS on the security files of mutation/targets.json, one at
 * a time, each against only the suites that exercise it (the command runner: node --test), so
 * a file takes minutes, not the whole suite per mutant. Reports land in test-artifacts/mutation/.
 * String literals are not mutated: messages are checked by the tests that need them, and
 * mutating every message would drown the numbers the issue is about.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const targets = JSON.parse(readFileSync(path.join(root, 'mutation', 'targets.json'), 'utf8')) as Record<string, string[] | string>;
const wanted = process.argv.slice(2);
const files = Object.keys(targets).filter((file) => file !== '//' && (wanted.length === 0 || wanted.includes(file)));
if (files.length === 0)
  throw new Error(
    `no such target: ${wanted.join(', ')}; known: ${Object.keys(targets)
      .filter((f) => f !== '//')
      .join(', ')}`,
  );

const out = path.join(root, 'test-artifacts', 'mutation');
mkdirSync(out, { recursive: true });
let failed = false;
for (const file of files) {
  const suites = targets[file];
  if (!Array.isArray(suites)) continue;
  const name = path.basename(file, '.ts');
  const config = {
    testRunner: 'command',
    commandRunner: { command: `node --import tsx --test ${suites.join(' ')}` },
    mutate: [file],
    mutator: { excludedMutations: ['StringLiteral'] },
    coverageAnalysis: 'off',
    concurrency: 2,
    timeoutMS: 60_000,
    tempDirName: `.stryker-tmp/${name}`,
    reporters: ['clear-text', 'json'],
    jsonReporter: { fileName: path.join(out, `${name}.json`) },
    thresholds: { high: 90, low: 90, break: null },
  };
  const configFile = path.join(out, `${name}.config.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  console.log(`\n== ${file} (${suites.join(', ')})`);
  const run = spawnSync('npx', ['stryker', 'run', configFile], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
