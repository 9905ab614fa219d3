/**
 * Writes bench/RESULTS.md and bench/chart.svg again from the figures the last full run
 * saved (bench/.work/results-full.json), and bench/RESULTS-postgres.md from the last
 * `--postgres` run's (results-postgres.json), without measuring anything: for a change to
 * the report's layout only. `--postgres`: only the latter.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WORK_DIR } from './harness/processes.js';
import { writePostgresReport, writeReport, type BenchResults, type PostgresBenchResults } from './report.js';

const dir = path.dirname(new URL(import.meta.url).pathname);
if (!process.argv.includes('--postgres')) {
  const results = JSON.parse(readFileSync(path.join(WORK_DIR, 'results-full.json'), 'utf8')) as BenchResults;
  const written = writeReport(results, dir);
  console.log(`wrote ${written.results} and ${written.chart}`);
}
try {
  const postgres = JSON.parse(readFileSync(path.join(WORK_DIR, 'results-postgres.json'), 'utf8')) as PostgresBenchResults;
  console.log(`wrote ${writePostgresReport(postgres, dir)}`);
} catch (err) {
  if (process.argv.includes('--postgres')) throw err;
}
