/**
 * `npm run bench:compare -- <ref> [<ref>…] [--quick] [--rounds N]`: what this checkout's lib/
 * costs on the hot paths against the lib/ of earlier commits, all measured in the same
 * rounds. Each library gets an express-oidc-auth server on MemoryStore and one on
 * connect-redis (with the Redis session index), each holding a real login; scenario 1
 * (authenticated GET /profile) and 2 (anonymous GET /public) as in `npm run bench`, with
 * the servers of one scenario and store measured in alternating half-slices every round
 * (A B B A), so a ratio between libraries never spans a drift of the shared machine. Writes bench/COMPARE.md
 * (quick: bench/.work/quick/COMPARE.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compileLibrary } from './harness/compile-lib.js';
import { libraryAt, type CommitLibrary } from './harness/library-at.js';
import type { LoadTarget } from './harness/load.js';
import { realLogin } from './harness/login.js';
import { machineInfo } from './harness/machine.js';
import { WORK_DIR } from './harness/processes.js';
import { benchLifecycle } from './harness/lifecycle.js';
import { startTopology, type ServerSpec } from './harness/topology.js';
import { compareReport, type Variant } from './compare-report.js';
import { runInterleaved } from './scenarios/interleaved.js';
import { measureTelemetryCost } from './scenarios/telemetry-cost.js';
import type { ThroughputPlan } from './scenarios/throughput.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const roundsAt = args.indexOf('--rounds');
const roundsArg = roundsAt === -1 ? undefined : Number(args[roundsAt + 1]);
if (roundsArg !== undefined && !(Number.isInteger(roundsArg) && roundsArg >= 2)) throw new Error('--rounds takes a whole number of at least 2');
const refs = args.filter((a, i) => !a.startsWith('--') && (roundsAt === -1 || i !== roundsAt + 1));
if (refs.length === 0) {
  console.error('usage: npm run bench:compare -- <commit> [<commit>…] [--quick] [--rounds N]');
  process.exit(2);
}
const plan: ThroughputPlan = quick ? { rounds: roundsArg ?? 2, seconds: 3, warmupSeconds: 1 } : { rounds: roundsArg ?? 8, seconds: 10, warmupSeconds: 3 };
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const outDir = quick ? path.join(WORK_DIR, 'quick') : path.dirname(new URL(import.meta.url).pathname);

const started = Date.now();
const { log, closeAtEnd, cleanup } = benchLifecycle();

async function main(): Promise<void> {
  const machine = machineInfo();
  log(`compare: this checkout against ${refs.join(', ')}; ${String(plan.rounds)} rounds × ${String(plan.seconds)} s`);
  const variants: Variant[] = [
    { id: 'checkout', label: `this checkout (${machine.commit})`, entry: compileLibrary(root, path.join(WORK_DIR, 'lib-dist', 'checkout')) },
  ];
  for (const ref of refs) {
    const lib: CommitLibrary = libraryAt(root, ref, WORK_DIR);
    log(`compiled lib/ of ${lib.commit}: ${lib.subject}`);
    variants.push({ id: lib.commit, label: lib.commit, entry: lib.entry, subject: lib.subject });
  }
  const specs: ServerSpec[] = variants.flatMap((v, i) => [
    { name: `memory-${v.id}`, script: 'oidc-auth', store: 'memory', libraryEntry: v.entry },
    { name: `redis-${v.id}`, script: 'oidc-auth', store: 'redis', redisDb: i, libraryEntry: v.entry },
  ]);
  const top = await startTopology(log, { libraryEntry: variants[0]?.entry ?? '', specs });
  closeAtEnd(() => top.close());

  const targets: LoadTarget[] = [];
  for (const v of variants) {
    for (const store of ['memory', 'redis'] as const) {
      const child = top.servers[`${store}-${v.id}`];
      if (child === undefined) throw new Error(`no server ${store}-${v.id}`);
      const { cookie } = await realLogin(child.url, 'alice', ['oidc.sid']);
      targets.push({
        id: `auth/${store}/${v.id}`,
        label: `${v.label}, ${store === 'memory' ? 'MemoryStore' : 'connect-redis'}`,
        scenario: 1,
        child,
        path: '/profile',
        headers: { cookie },
        expect: '"sub":"alice"',
      });
    }
    const memory = top.servers[`memory-${v.id}`];
    if (memory === undefined) throw new Error(`no server memory-${v.id}`);
    targets.push({ id: `anon/memory/${v.id}`, label: `${v.label}, anonymous`, scenario: 2, child: memory, path: '/public', headers: {}, expect: '"ok":true' });
  }
  const groups = ['auth/memory', 'auth/redis', 'anon/memory'].map((prefix) => variants.map((v) => `${prefix}/${v.id}`));
  const throughput = await runInterleaved(targets, groups, plan, log);
  log('instrumentation without an OpenTelemetry SDK, alone');
  const telemetry = measureTelemetryCost(5, quick ? 20_000 : 200_000);

  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'COMPARE.md');
  writeFileSync(file, compareReport({ machine, plan, variants, groups, throughput, telemetry, durationSec: (Date.now() - started) / 1000 }));
  log(`wrote ${path.relative(process.cwd(), file)}`);
}

try {
  await main();
} catch (err) {
  console.error('comparison failed:', err);
  process.exitCode = 1;
} finally {
  await cleanup();
}
