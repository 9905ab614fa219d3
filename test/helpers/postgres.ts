import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A real PostgreSQL for one test file: a throwaway cluster (initdb into a temp dir) on a free
 * 127.0.0.1 port. PostgreSQL refuses to run as root, and tests and CI run as root: the
 * cluster belongs to the `postgres` system user that Debian's package creates, and every
 * server command runs as that user (TESTING.md).
 */
export interface PostgresServer {
  readonly port: number;
  /** a connection string for user postgres, no password (trust on 127.0.0.1) */
  readonly url: string;
  /** stop the server (to test an outage); start() brings it back on the same port, with its data */
  stop(): Promise<void>;
  start(): Promise<void>;
  /**
   * SIGSTOP the server and every backend (a database that hangs: connections stay open, no
   * answer comes); thaw() lets them go on
   */
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

const BIN = '/usr/lib/postgresql/15/bin';
const MISSING_IN_CI = 'PostgreSQL is not installed, and CI must run the PostgreSQL tests (.ci/run installs it)';
const MISSING = 'PostgreSQL is not installed (apt-get install postgresql); skipped outside CI';

let installed: boolean | undefined;

/** Whether the server binaries and the postgres system user are here: asked once per process. */
export function postgresAvailable(): boolean {
  installed ??= existsSync(path.join(BIN, 'initdb')) && spawnSync('id', ['-u', 'postgres']).status === 0;
  return installed;
}

/** describe()'s skip option for a suite that needs PostgreSQL: skipped on a developer machine without it, never under CI=true (there it fails in before()). */
export const POSTGRES_SUITE_SKIP: string | false = !postgresAvailable() && process.env['CI'] !== 'true' ? MISSING : false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => {
        resolve(port);
      });
    });
  });
}

/** Runs a server binary (or, with a path, any command) as the postgres user; rejects with its output when it fails. */
function runAsPostgres(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const binary = command.includes('/') ? command : path.join(BIN, command);
    const child = spawn('runuser', ['-u', 'postgres', '--', binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${String(code)}: ${output.slice(-2000)}`));
    });
  });
}

/** A temp dir the postgres user owns. */
function postgresDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chownSync(dir, Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim()), Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim()));
  return dir;
}

let template: Promise<string> | undefined;

/**
 * A fresh cluster's data directory, made once per process by initdb and copied for each
 * cluster (initdb costs about a second; a copy of its result is the same cluster). Removed
 * when the process exits.
 */
function templateCluster(): Promise<string> {
  template ??= (async () => {
    const dir = postgresDir('eoa-pg-template-');
    process.once('exit', () => {
      rmSync(dir, { recursive: true, force: true });
    });
    const data = path.join(dir, 'data');
    // fsync off and --no-sync: a throwaway cluster, never for data anyone keeps.
    await runAsPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    return data;
  })();
  return template;
}

/** Starts a cluster of its own. Fails (under CI and outside it) when PostgreSQL is missing: suites skip through POSTGRES_SUITE_SKIP first. */
export async function startPostgres(): Promise<PostgresServer> {
  if (!postgresAvailable()) throw new Error(MISSING_IN_CI);
  const port = await freePort();
  const dir = postgresDir('eoa-pg-');
  const data = path.join(dir, 'data');
  // -a keeps the postgres user's ownership and the 0700 mode PostgreSQL insists on.
  await runAsPostgres('/bin/cp', ['-a', await templateCluster(), data]);
  const options = `-c listen_addresses=127.0.0.1 -p ${String(port)} -k ${dir} -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const start = (): Promise<void> => runAsPostgres('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  const stop = async (): Promise<void> => {
    if (!existsSync(path.join(data, 'postmaster.pid'))) return;
    // fast: open connections are cut at once, as a crashed or restarted database cuts them.
    await runAsPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {
      killPostmaster(data);
    });
  };
  await start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${String(port)}/postgres`,
    stop,
    start,
    freeze: () => {
      signalCluster(data, 'SIGSTOP');
    },
    thaw: () => {
      signalCluster(data, 'SIGCONT');
    },
    async close() {
      signalCluster(data, 'SIGCONT');
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The postmaster (its pid from its own file) and its children: every process of this one cluster. */
function clusterPids(data: string): number[] {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return [];
  }
  const children = spawnSync('ps', ['--ppid', String(postmaster), '-o', 'pid='])
    .stdout.toString()
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);
  return [postmaster, ...children];
}

function signalCluster(data: string, signal: NodeJS.Signals): void {
  for (const pid of clusterPids(data)) {
    try {
      process.kill(pid, signal);
    } catch {
      // ended meanwhile
    }
  }
}

/** The last resort when pg_ctl cannot stop it: the postmaster's pid, from its own file. */
function killPostmaster(data: string): void {
  try {
    const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * A pool on that server that fails fast while it is down (so an outage shows as errors, not
 * waits) and does not crash the process when the server cuts its idle connections.
 */
export function poolFor(server: PostgresServer, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: server.url, max, connectionTimeoutMillis: 2000 });
  // An idle client whose server went away is reported here; unheard, it would crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Every row of every table in the public schema, as text: what someone reading the database sees. */
export async function databaseText(pool: pg.Pool): Promise<string> {
  const tables = await pool.query<{ name: string }>("SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'public'");
  const parts: string[] = [];
  for (const { name } of tables.rows) {
    // The names come from the catalogue, quoted by quote_ident: no input reaches this SQL.
    const rows = await pool.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
    parts.push(`${name}: ${rows.rows.map((r) => r.row).join('\n')}`);
  }
  return parts.join('\n');
}

/** How many rows each table in the public schema holds. */
export async function rowCounts(pool: pg.Pool): Promise<Record<string, number>> {
  const tables = await pool.query<{ name: string; quoted: string }>(
    "SELECT table_name AS name, quote_ident(table_name) AS quoted FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
  );
  const counts: Record<string, number> = {};
  for (const { name, quoted } of tables.rows) {
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoted}`);
    counts[name] = Number(rows[0]?.n ?? 0);
  }
  return counts;
}
