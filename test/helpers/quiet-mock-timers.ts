/**
 * Node 20's node:test prints "ExperimentalWarning: The MockTimers API is an experimental
 * feature" in every test process that enables mock timers (the API is stable from Node 23).
 * Imported by those test files, this drops that one warning and lets every other through.
 */
const emitWarning = process.emitWarning.bind(process);

function isMockTimersWarning(warning: unknown): boolean {
  const text = warning instanceof Error ? warning.message : String(warning);
  return text.startsWith('The MockTimers API is an experimental feature');
}

process.emitWarning = (warning: string | Error, ...rest: unknown[]): void => {
  if (isMockTimersWarning(warning)) return;
  (emitWarning as (warning: string | Error, ...args: unknown[]) => void)(warning, ...rest);
};
