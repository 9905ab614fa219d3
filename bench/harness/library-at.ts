import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { compileLibrary } from './compile-lib.js';

export interface CommitLibrary {
  /** the ref as given on the command line */
  ref: string;
  /** its abbreviated commit id */
  commit: string;
  /** its commit subject, for the report */
  subject: string;
  /** the tsc build of its lib/: index.js */
  entry: string;
}

function git(root: string, args: string[], input?: Buffer): Buffer {
  return execFileSync('git', ['-C', root, ...args], { input, maxBuffer: 64 * 2 ** 20, timeout: 60_000 });
}

/**
 * lib/ as it was at `ref`, compiled by tsc like the run's own: its sources are taken from git
 * (git archive) into `workDir`, beside the repo's node_modules, so they compile and load
 * against the same dependencies as the checkout; only the library differs.
 */
export function libraryAt(root: string, ref: string, workDir: string): CommitLibrary {
  let commit: string;
  try {
    commit = git(root, ['rev-parse', '--verify', '--short', `${ref}^{commit}`])
      .toString()
      .trim();
  } catch {
    throw new Error(`${ref} is not a commit of this repository (git rev-parse failed)`);
  }
  const subject = git(root, ['log', '-1', '--format=%s', commit]).toString().trim();
  const sources = path.join(workDir, 'commit-src', commit);
  rmSync(sources, { recursive: true, force: true });
  mkdirSync(sources, { recursive: true });
  const archive = git(root, ['archive', '--format=tar', commit, 'lib', 'tsconfig.json', 'tsconfig.build.json']);
  execFileSync('tar', ['-x', '-C', sources], { input: archive, timeout: 60_000 });
  return { ref, commit, subject, entry: compileLibrary(sources, path.join(workDir, 'lib-dist', commit)) };
}
