/**
 * A node:test reporter that prints, once the run is over, the ten test files that took
 * longest (the sum of their top-level tests and suites): where to look first when the
 * suite gets slow. It adds to the TAP output, it does not replace it. Plain JavaScript:
 * node loads reporters before tsx's hooks are in place.
 */

const SHOWN = 10;

/** @param {AsyncIterable<{ type: string, data?: { file?: string, nesting?: number, details?: { duration_ms?: number } } }>} source */
export default async function* slowestFiles(source) {
  /** @type {Map<string, number>} */
  const byFile = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, nesting, details } = event.data ?? {};
    // A lane's entry (test/_lanes/) is the whole lane, not a file of tests.
    if (file === undefined || nesting !== 0 || details?.duration_ms === undefined || file.includes('/test/_lanes/')) continue;
    byFile.set(file, (byFile.get(file) ?? 0) + details.duration_ms);
  }
  const slowest = [...byFile].sort((x, y) => y[1] - x[1]).slice(0, SHOWN);
  if (slowest.length === 0) return;
  yield '# slowest test files (seconds, top-level tests and suites):\n';
  for (const [file, ms] of slowest) yield `#   ${(ms / 1000).toFixed(1).padStart(6)}  ${file.replace(/^.*\/test\//, 'test/')}\n`;
}
