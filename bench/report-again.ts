/**
 * Writes bench/RESULTS.md and bench/chart.svg again from the figures the last full run
 * saved (bench/.work/results-full.json), without measuring anything: for a change to the
 * report's layout only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WORK_DIR } from './harness/processes.js';
import { writeReport, type BenchResults } from './report.js';

const results = JSON.parse(readFileSync(path.join(WORK_DIR, 'results-full.json'), 'utf8')) as BenchResults;
const written = writeReport(results, path.dirname(new URL(import.meta.url).pathname));
console.log(`wrote ${written.results} and ${written.chart}`);
