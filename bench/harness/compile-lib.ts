import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Compiles lib/ with tsc (tsconfig.build.json, as `npm run build` does) into `outDir`, and
 * returns the compiled entry point. The servers load the library from there, as an app
 * loads the published package: transpiled by tsx instead, every closure the library
 * creates per request would also go through esbuild's keepNames helper, a cost users never pay.
 */
export function compileLibrary(root: string, outDir: string): string {
  rmSync(outDir, { recursive: true, force: true });
  const tsc = createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
  const args = [
    tsc,
    '-p',
    path.join(root, 'tsconfig.build.json'),
    '--outDir',
    outDir,
    '--declaration',
    'false',
    '--declarationMap',
    'false',
    '--sourceMap',
    'false',
  ];
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 180_000 });
  const entry = path.join(outDir, 'index.js');
  if (run.status !== 0 || !existsSync(entry)) {
    throw new Error(`tsc could not compile lib/ (exit ${String(run.status ?? run.signal)}):\n${run.stdout}${run.stderr}`);
  }
  return entry;
}
