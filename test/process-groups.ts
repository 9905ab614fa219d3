/**
 * Which test files share a process, and which processes run first. Loading tsx, the package
 * and oidc-provider costs about 2 s of CPU per process; with a process per file that was a
 * third of the suite's CPU. So `npm test` runs a few processes, lanes, each importing its
 * files in turn (test/_lanes/*.ts), three lanes at a time: the server topologies (PostgreSQL,
 * Redis Cluster and Sentinel), the browser suites (headless Chromium), the rest split in three
 * by their measured time, and the floods whose heap is measured. Three at a time on two
 * cores: the server and browser lanes spend a fifth of their time waiting (on servers that
 * start and stop, on a store deadline, on Chromium), which a third lane fills; with two at a
 * time `npm test` took 112 to 136 s in five runs, with three 107 to 115 s in six (2026-12-06). node --test starts
 * its files in name order, so the lanes are numbered in the order they should start: the
 * longest first, and short ones last, so that the three end together.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const TEST_DIR = fileURLToPath(new URL('.', import.meta.url));

export type LaneName = 'servers' | 'browser' | 'shared-a' | 'shared-b' | 'shared-c' | 'floods';

export interface Lane {
  readonly name: LaneName;
  /** its entry file, relative to the repository */
  readonly entry: string;
  /** run by `npm run test:shared` too (CI's Node 22 and 24): what does not change with the browser or the servers */
  readonly everyNode: boolean;
}

/** In the order node --test starts them (by entry name). */
export const LANES: readonly Lane[] = [
  { name: 'servers', entry: 'test/_lanes/1-servers.ts', everyNode: false },
  { name: 'browser', entry: 'test/_lanes/2-browser.ts', everyNode: false },
  { name: 'shared-a', entry: 'test/_lanes/3-shared-a.ts', everyNode: true },
  { name: 'shared-b', entry: 'test/_lanes/4-shared-b.ts', everyNode: true },
  { name: 'shared-c', entry: 'test/_lanes/5-shared-c.ts', everyNode: true },
  { name: 'floods', entry: 'test/_lanes/6-floods.ts', everyNode: false },
];

/**
 * How many lanes node --test runs at once (test/run.ts): three for `npm test`; two for the
 * shared lanes alone (`--shared`), which CI runs on Node 22 and 24 beside Node 20's three,
 * where more processes at once only share the same two cores (nine took CI's suites from
 * 277 to 328 s).
 */
export function lanesAtOnce(sharedOnly: boolean): number {
  return sharedOnly ? 2 : 3;
}

export const SHARED_LANES = ['shared-a', 'shared-b', 'shared-c'] as const satisfies readonly LaneName[];
type SharedLane = (typeof SHARED_LANES)[number];

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
 * On Node 20 each runs in a process of its own, where no earlier file made a connection.
 */
export const MOCKS_CLEAR_TIMEOUT: readonly string[] = ['anonymous-logging.test.ts', 'backchannel-refusals.test.ts'];
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

export function ownsProcess(name: string): boolean {
  return NODE_MAJOR < 22 && MOCKS_CLEAR_TIMEOUT.includes(name);
}

/**
 * Seconds a file took in a shared lane (measured 2026-12-06, Node 20, 2-core machine, under
 * another engineer's load: their ratios are what counts): only the files of a second or
 * more; the others count half a second. They balance the three
 * shared lanes, nothing else: a stale figure makes one lane longer, never a test fail.
 */
const MEASURED_SECONDS: Readonly<Record<string, number>> = {
  'logout-final.property.test.ts': 16.0,
  'redis-instances.test.ts': 10.3,
  'fuzz.test.ts': 7.4,
  'open-redirect.test.ts': 6.1,
  'id-token-validation.test.ts': 5.2,
  'access-options.test.ts': 4.5,
  'at-rest.test.ts': 3.7,
  'migration-examples.test.ts': 3.6,
  'example-postgres.test.ts': 3.3,
  'backchannel-logout.test.ts': 2.9,
  'logout-lost-mark.test.ts': 2.4,
  'login.test.ts': 2.4,
  'redis-clients-single.test.ts': 2.2,
  'par.test.ts': 2.1,
  'logout-races.test.ts': 2.1,
  'callback.test.ts': 2.0,
  'login-transactions.test.ts': 1.7,
  'frontchannel-logout.test.ts': 1.4,
  'dpop.test.ts': 1.1,
  'logout.test.ts': 1.0,
};
const secondsOf = (name: string): number => MEASURED_SECONDS[name] ?? 0.5;

/** The shared lanes, balanced: longest file first, each to the lane with least so far (the first of equals). */
function sharedLanes(shared: readonly string[]): ReadonlyMap<string, SharedLane> {
  const totals: Record<SharedLane, number> = { 'shared-a': 0, 'shared-b': 0, 'shared-c': 0 };
  const assigned = new Map<string, SharedLane>();
  for (const file of [...shared].sort((x, y) => secondsOf(y) - secondsOf(x) || (x < y ? -1 : 1))) {
    const lane = SHARED_LANES.reduce((least, other) => (totals[other] < totals[least] ? other : least));
    assigned.set(file, lane);
    totals[lane] += secondsOf(file);
  }
  return assigned;
}

function ownLaneOf(name: string): LaneName | undefined {
  if (/browser\.test\.ts$/.test(name)) return 'browser';
  if (/^postgres-|^redis-(cluster|sentinel|topologies)\./.test(name)) return 'servers';
  if (/\.load\.test\.ts$/.test(name)) return 'floods';
  return undefined;
}

/** The files of a lane, in name order. */
export function laneFiles(lane: LaneName): string[] {
  const files = testFiles().filter((name) => !ownsProcess(name));
  const shared = sharedLanes(files.filter((name) => ownLaneOf(name) === undefined));
  return files.filter((name) => (ownLaneOf(name) ?? shared.get(name)) === lane);
}

/** The files run each in a process of their own (Node 20's timer mockers), relative to the repository. */
export const ownProcessFiles = (): string[] =>
  testFiles()
    .filter(ownsProcess)
    .map((name) => `test/${name}`);

/** What node --test is given: every lane's entry (`everyNode` ones only, for `--shared`), then the own-process files. */
export function runnerFiles(sharedOnly: boolean): string[] {
  return [...LANES.filter((lane) => lane.everyNode || !sharedOnly).map((lane) => lane.entry), ...(sharedOnly ? [] : ownProcessFiles())];
}

/** Imports a lane's files in turn: their tests register as each file loads and run in file order. The runner reports each test under its own file. */
export async function runLane(lane: LaneName): Promise<void> {
  for (const name of laneFiles(lane)) await import(`./${name}`);
}
