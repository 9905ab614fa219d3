/**
 * Which test files share one process and which get their own. Loading tsx, the package and
 * oidc-provider costs about 2 s of CPU per process; with a process per file that was a third
 * of the suite's CPU. The files that share a process are the ones CI runs on every Node
 * version (on Node 22 and 24 in one process before this list existed, so they are known to
 * tolerate each other). A file gets its own process when what it does is heavy or global:
 * headless Chromium, a flood whose heap is measured, or servers it starts and stops as a
 * topology.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const TEST_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Files that run in a process of their own (CI runs them once, on Node 20). */
export const OWN_PROCESS: readonly RegExp[] = [
  /browser\.test\.ts$/,
  /\.load\.test\.ts$/,
  /^postgres-/,
  /^redis-cluster\./,
  /^redis-sentinel\./,
  /^redis-topologies\./,
];

/** Every test file of test/, by name, in a stable order. */
export function testFiles(): string[] {
  return readdirSync(TEST_DIR)
    .filter((name) => name.endsWith('.test.ts'))
    .sort();
}

/**
 * Files that mock setTimeout and clearTimeout while fetch is in use. Node 20's fetch (its
 * bundled undici) clears its connection timers through the global clearTimeout; mocked, that
 * clear does nothing, and a timer of an earlier file's connection later fires for a parser
 * already collected and throws (nodejs/undici#4755, fixed in the undici of Node 22 and 24).
 * In a process of their own on Node 20 there is no earlier file's connection.
 */
export const MOCKS_CLEAR_TIMEOUT: readonly string[] = ['anonymous-logging.test.ts', 'backchannel-refusals.test.ts'];
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

export function ownsProcess(name: string): boolean {
  return OWN_PROCESS.some((pattern) => pattern.test(name)) || (NODE_MAJOR < 22 && MOCKS_CLEAR_TIMEOUT.includes(name));
}

/** The files imported by test/shared-process.ts. */
export const sharedFiles = (): string[] => testFiles().filter((name) => !ownsProcess(name));
/** The files run each in its own process, paths relative to the repository. */
export const ownProcessFiles = (): string[] =>
  testFiles()
    .filter(ownsProcess)
    .map((name) => `test/${name}`);
