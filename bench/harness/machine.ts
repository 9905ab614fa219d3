import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  loadAverage: number[];
  os: string;
  node: string;
  redisServer: string;
  /** the PostgreSQL server the harness starts (test/helpers/postgres.ts) */
  postgres?: string;
  versions: Record<string, string>;
  commit: string;
}

const PACKAGES = [
  'express',
  'express-session',
  'openid-client',
  'express-openid-connect',
  'connect-redis',
  'redis',
  'connect-pg-simple',
  'pg',
  'oidc-provider',
  'jose',
  'autocannon',
  'tsx',
];

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return 'unknown';
  }
}

function versionOf(name: string): string {
  try {
    // Read from node_modules directly: not every package exports ./package.json.
    const pkg = JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): MachineInfo {
  const root = new URL('../../', import.meta.url);
  const own = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
  const dirty = run('git', ['-C', root.pathname, 'status', '--porcelain', 'lib']) !== '';
  const versions: Record<string, string> = { 'express-oidc-auth': own.version };
  for (const name of PACKAGES) versions[name] = versionOf(name);
  return {
    date: new Date().toISOString(),
    nproc: Number(run('nproc', [])) || os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redisServer:
      run('redis-server', ['--version'])
        .replace(/^Redis server /, '')
        .split(' ')[0] ?? 'unknown',
    postgres: run('/usr/lib/postgresql/15/bin/postgres', ['--version']).replace(/^postgres \(PostgreSQL\) /, ''),
    versions,
    commit: `${run('git', ['-C', root.pathname, 'rev-parse', '--short', 'HEAD'])}${dirty ? ' + uncommitted changes in lib/' : ''}`,
  };
}
