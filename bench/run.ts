/**
 * `npm run bench` (full) or `npm run bench -- --quick`: starts redis-server, PostgreSQL, oidc-provider
 * and every server in processes of their own on 127.0.0.1, runs the six scenarios, writes
 * RESULTS.md and chart.svg (full: bench/; quick: bench/.work/quick/), and stops everything
 * it started, also on failure or Ctrl-C.
 *
 * `--postgres` (with or without `--quick`) runs only the PostgreSQL figures: PostgreSQL,
 * oidc-provider and the three PostgreSQL servers, the connect-pg-simple pair of scenario 1
 * (express-oidc-auth with postgresSessionIndex against express-session with connect-pg-simple
 * alone) and scenario 4 on PostgreSQL at 1,000 and 100,000 sessions, and writes
 * RESULTS-postgres.md (bench/, or bench/.work/quick/ with --quick). A full run measures the
 * same and puts it in RESULTS.md beside everything else.
 *
 * `--profile` also records a CPU profile of every server (node --cpu-prof) and writes a
 * summary of each to bench/.work/profiles/ (its figures then go to bench/.work/profiled/:
 * profiling slows the servers down).
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileLibrary } from './harness/compile-lib.js';
import { machineInfo } from './harness/machine.js';
import { summarizeProfile } from './harness/profile.js';
import { WORK_DIR } from './harness/processes.js';
import { benchLifecycle } from './harness/lifecycle.js';
import { POSTGRES_SERVERS, startTopology } from './harness/topology.js';
import { writePostgresReport, writeReport, type BenchResults, type PostgresBenchResults } from './report.js';
import { runBackchannel, runPostgresBackchannel } from './scenarios/backchannel.js';
import { runLogout } from './scenarios/logout.js';
import { providerRequestsPerLogin } from './scenarios/provider-requests.js';
import { measureSealing } from './scenarios/sealing.js';
import { measureSizes, preparePostgresSessions, prepareSessions } from './scenarios/sessions.js';
import { postgresThroughputTargets, runThroughput, throughputTargets } from './scenarios/throughput.js';

const quick = process.argv.includes('--quick');
const postgresOnly = process.argv.includes('--postgres');
const plan: BenchResults['plan'] = quick
  ? { rounds: 2, seconds: 3, warmupSeconds: 1, logoutSamples: 20, backchannelRounds: 2, backchannelRequests: 20, loginsCounted: 3 }
  : { rounds: 5, seconds: 10, warmupSeconds: 3, logoutSamples: 200, backchannelRounds: 5, backchannelRequests: 100, loginsCounted: 5 };
const profileDir = process.argv.includes('--profile') ? path.join(WORK_DIR, 'profiles') : undefined;
const outDir =
  profileDir !== undefined ? path.join(WORK_DIR, 'profiled') : quick ? path.join(WORK_DIR, 'quick') : path.dirname(new URL(import.meta.url).pathname);

const started = Date.now();
const { log, closeAtEnd, cleanup } = benchLifecycle();

async function main(): Promise<void> {
  const machine = machineInfo();
  log(
    `${quick ? 'quick' : 'full'} run: ${String(plan.rounds)} rounds × ${String(plan.seconds)} s; ${String(machine.nproc)} CPUs, ${machine.cpuModel}, node ${machine.node}`,
  );
  if (profileDir !== undefined) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  log('compiling lib/ with tsc (the servers load the library as published)');
  const libraryEntry = compileLibrary(path.resolve(path.dirname(new URL(import.meta.url).pathname), '..'), path.join(WORK_DIR, 'lib-dist'));
  if (postgresOnly) {
    await postgresOnlyRun(machine, libraryEntry);
    return;
  }
  const top = await startTopology(log, { libraryEntry, profileDir });
  closeAtEnd(() => top.close());

  log('5. provider requests per login');
  const providerRequests = await providerRequestsPerLogin(top, ['oidc-auth-memory', 'eoc-cookie'], plan.loginsCounted);

  log('sessions for scenario 1 (real logins; the same payload seeded into express-session alone)');
  const sessions = await prepareSessions(top);
  log('6. cookie and Redis sizes');
  const sizes = await measureSizes(top, sessions);

  log('1 and 2. throughput');
  const throughput = await runThroughput(throughputTargets(top, sessions), plan, log);

  log('3. logout with revocation');
  const logout = await runLogout(top, plan.logoutSamples, log);

  log('4. back-channel logout with 1k, 10k, 100k sessions in Redis');
  const backchannel = await runBackchannel(top, plan.backchannelRounds, plan.backchannelRequests, log);
  log('4. back-channel logout with 1k and 100k sessions in PostgreSQL');
  const backchannelPostgres = await runPostgresBackchannel(top, plan.backchannelRounds, plan.backchannelRequests, log);

  // Last, and in this process: a pause between fetches to the servers would let their keep-alive sockets lapse.
  log('7. sealing cost');
  const sealing = measureSealing(JSON.stringify(sessions.oidcAuthDocument), 5, quick ? 2000 : 20000);

  const results: BenchResults = {
    mode: quick ? 'quick' : 'full',
    plan,
    machine,
    loadAverageAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
    durationSec: (Date.now() - started) / 1000,
    throughput,
    sizes,
    providerRequests,
    logout,
    backchannel,
    backchannelPostgres,
    sealing,
  };
  mkdirSync(WORK_DIR, { recursive: true });
  writeFileSync(path.join(WORK_DIR, `results-${results.mode}.json`), JSON.stringify(results, null, 2));
  const written = writeReport(results, outDir);
  log(`wrote ${path.relative(process.cwd(), written.results)} and ${path.relative(process.cwd(), written.chart)}`);
}

/** `--postgres`: the PostgreSQL servers only, the PostgreSQL pair of scenario 1 and scenario 4 on PostgreSQL. */
async function postgresOnlyRun(machine: BenchResults['machine'], libraryEntry: string): Promise<void> {
  const top = await startTopology(log, { libraryEntry, profileDir, specs: POSTGRES_SERVERS });
  closeAtEnd(() => top.close());
  log('sessions for scenario 1 (a real login; the same payload seeded into express-session with connect-pg-simple alone)');
  const cookies = await preparePostgresSessions(top);
  log('1. throughput, connect-pg-simple pair');
  const throughput = await runThroughput(postgresThroughputTargets(top, cookies), plan, log);
  log('4. back-channel logout with 1k and 100k sessions in PostgreSQL');
  const backchannelPostgres = await runPostgresBackchannel(top, plan.backchannelRounds, plan.backchannelRequests, log);
  const results: PostgresBenchResults = {
    mode: quick ? 'postgres-quick' : 'postgres',
    plan,
    machine,
    loadAverageAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
    durationSec: (Date.now() - started) / 1000,
    throughput,
    backchannelPostgres,
  };
  mkdirSync(WORK_DIR, { recursive: true });
  writeFileSync(path.join(WORK_DIR, `results-${results.mode}.json`), JSON.stringify(results, null, 2));
  const written = writePostgresReport(results, outDir);
  log(`wrote ${path.relative(process.cwd(), written)}`);
}

try {
  await main();
} catch (err) {
  console.error('benchmark failed:', err);
  process.exitCode = 1;
} finally {
  await cleanup();
}
if (profileDir !== undefined) {
  // The servers write their profiles as they exit, in cleanup().
  for (const server of readdirSync(profileDir)) {
    // CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile: thread 0 is the main thread, where requests are served.
    const main = readdirSync(path.join(profileDir, server)).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
    if (main !== undefined) writeFileSync(path.join(profileDir, `${server}.txt`), summarizeProfile(path.join(profileDir, server, main)));
  }
  log(`CPU profiles and their summaries in ${path.relative(process.cwd(), profileDir)}`);
}
