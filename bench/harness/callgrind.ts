import { spawnSync } from 'node:child_process';

/** What one callgrind profile counted: every instruction, and those of V8's optimizing compiler. */
export interface CallgrindCount {
  total: number;
  /** inclusive: TurboFan (and Maglev) compiling, on the main thread under --single-threaded, OSR included */
  optimizer: number;
}

/** The entry point of every optimizing compile in V8 (regular and on-stack replacement alike). */
const OPTIMIZER = /::GetOrCompileOptimized\(/;

/**
 * Reads a callgrind profile with callgrind_annotate (valgrind's own reader). The optimizer's
 * share is taken out of the comparison because when it runs is not a property of the code
 * counted: the same server, same requests, compiled one loop on-stack (about 160 million
 * instructions) in two runs of three and not in the third. Without it, three runs agreed
 * within 0.25 %.
 */
export function readCallgrind(file: string): CallgrindCount {
  const annotated = spawnSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (annotated.status !== 0) throw new Error(`callgrind_annotate failed on ${file}: ${annotated.stderr.slice(-1000)}`);
  let total: number | undefined;
  let optimizer: number | undefined;
  for (const line of annotated.stdout.split('\n')) {
    const match = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    const instructions = Number(match[1].replaceAll(',', ''));
    if (match[2].startsWith('PROGRAM TOTALS')) total = instructions;
    // the first line is the outermost: callgrind_annotate sorts by inclusive cost
    else if (optimizer === undefined && OPTIMIZER.test(match[2])) optimizer = instructions;
  }
  if (total === undefined) throw new Error(`callgrind_annotate gave no program total for ${file}`);
  if (optimizer === undefined)
    throw new Error(`${file} has no call of V8's GetOrCompileOptimized: a server that ran its requests warm always has one (has node changed it?)`);
  return { total, optimizer };
}
