/**
 * The test files that share one process (test/process-groups.mjs says which and why),
 * imported in turn: their tests register as each file loads and run in file order, one
 * file's after the other's, as they would each in a process of their own. The runner still
 * reports every test under its own file.
 */
import { sharedFiles } from './process-groups.js';

for (const name of sharedFiles()) await import(`./${name}`);
