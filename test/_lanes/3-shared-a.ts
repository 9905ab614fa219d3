/** A lane of npm test (test/process-groups.ts): its files, in one process. */
import { runLane } from '../process-groups.js';

await runLane('shared-a');
