import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

/** Every process of these helpers binds and announces this address only. */
export const LOOPBACK = '127.0.0.1';

export interface RedisAddress {
  readonly host: typeof LOOPBACK;
  readonly port: number;
}

/** A connection for admin commands and polls. */
export interface AdminClient {
  /** One command; the reply as RESP2 gives it (strings, numbers, nested arrays). */
  call(command: string, ...args: string[]): Promise<unknown>;
  /** A command with a text reply (INFO, CLUSTER INFO, CLUSTER NODES). */
  text(command: string, ...args: string[]): Promise<string>;
  close(): void;
}

/**
 * The error for a missing redis-server or redis-cli (spawn's ENOENT). The helpers never skip:
 * their callers sit in suites skipped by REDIS_SUITE_SKIP on a developer machine without
 * redis-server, so a missing tool here is a broken run (.ci/run installs redis-server, which
 * brings redis-cli). Found at spawn time rather than by a `--version` probe, which would block
 * the event loop for a spawnSync.
 */
export function missingTool(tool: 'redis-server' | 'redis-cli'): string {
  return `${tool} is not installed (apt-get install redis-server), and CI must run the Redis tests (.ci/run installs it)`;
}

export function isMissingBinary(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

/** `count` distinct free ports on 127.0.0.1 (all held open together, so none is handed out twice). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, LOOPBACK, resolve);
      });
    }
    return servers.map((srv) => (srv.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(
      servers.map(
        (srv) =>
          new Promise<void>((resolve) => {
            srv.close(() => {
              resolve();
            });
          }),
      ),
    );
  }
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** Thrown by a pollUntil check to stop polling at once (a process died, say). */
export class GiveUp extends Error {}

/**
 * Polls `check` every `intervalMs` until it returns true, for at most `timeoutMs`. `check` may
 * throw while the topology settles: that counts as "not yet", except GiveUp, which ends the poll.
 * On timeout, the error names `what` and the last thing `check` reported (its string, or its
 * last error).
 */
export async function pollUntil(what: string, check: () => Promise<true | string>, timeoutMs: number, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const result = await check();
      if (result === true) return;
      last = result;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) throw new Error(`${what}: not reached within ${String(timeoutMs)} ms (last seen: ${last})`);
    await sleep(intervalMs);
  }
}

/**
 * An admin connection: ioredis without retries, offline queue or ready check, with a command
 * timeout, so a poll of a dead node fails fast. Not node-redis: its createClient builds a new
 * client class with every command for each distinct options object (its class cache holds one
 * entry, keyed by the whole options, port included), which made polling several ports burn
 * CPU and GC time.
 */
export async function adminClient(port: number): Promise<AdminClient> {
  const redis = new Redis({
    host: LOOPBACK,
    port,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2000,
    commandTimeout: 2000,
  });
  redis.on('error', () => undefined);
  await redis.connect();
  return {
    call: (command, ...args) => redis.call(command, ...args),
    async text(command, ...args) {
      const reply = await redis.call(command, ...args);
      if (typeof reply !== 'string') throw new Error(`${command} ${args.join(' ')}: expected text, got ${JSON.stringify(reply)}`);
      return reply;
    },
    close: () => {
      redis.disconnect();
    },
  };
}

export async function withAdmin<T>(port: number, fn: (client: AdminClient) => Promise<T>): Promise<T> {
  const client = await adminClient(port);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Admin clients for several ports at once, for the length of `fn` (polls reuse them). */
export async function withAdmins<T>(ports: readonly number[], fn: (clients: AdminClient[]) => Promise<T>): Promise<T> {
  const settled = await Promise.allSettled(ports.map((port) => adminClient(port)));
  const clients = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  try {
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    return await fn(clients);
  } finally {
    for (const client of clients) client.close();
  }
}

/** `field:value` lines of INFO or CLUSTER INFO as a map. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** A RESP2 flat [name, value, name, value, ...] reply (SENTINEL MASTER, SENTINEL REPLICAS entries) as a map. */
export function parsePairs(reply: unknown): Map<string, string> {
  if (!Array.isArray(reply)) throw new Error(`expected a flat array reply, got ${JSON.stringify(reply)}`);
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), String(reply[i + 1]));
  return fields;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, LOOPBACK);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

// Processes still alive when this test process exits, whatever way it exits normally.
const living = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of living) child.kill('SIGKILL');
  });
}

/**
 * The redis-server processes of one topology, each in the foreground (not daemonized) with its own
 * working dir under one temp dir. They die with this test process in every case:
 * - close() kills them and waits for their exit;
 * - a process 'exit' hook kills what is left when the test process ends without close();
 * - a watchdog shell reads their pids on a pipe from this process and kills them when the pipe
 *   closes, which also happens when this process is killed by a signal (SIGKILL, the test
 *   runner's timeout), where no exit hook runs.
 */
export class RedisProcesses {
  readonly dir: string;
  readonly #children = new Map<string, ChildProcess>();
  readonly #watchdog: ChildProcess;

  constructor(prefix: string) {
    installExitHook();
    this.dir = mkdtempSync(path.join(tmpdir(), prefix));
    // Lines "add PID" and "del PID" (sent when a process exits by itself, so that a reused pid is
    // never signalled); on end of input it kills what is left and removes the temp dir. close()
    // kills the watchdog itself after its own cleanup. Shell builtins only, besides kill and rm.
    const script = [
      'pids=" "',
      'while read -r op pid; do',
      '  case "$op" in',
      '    add) pids="$pids$pid " ;;',
      '    del) case "$pids" in *" $pid "*) pids="${pids%% $pid *} ${pids#* $pid }" ;; esac ;;',
      '  esac',
      'done',
      '[ -n "${pids# }" ] && kill -9 $pids 2>/dev/null',
      'sleep 0.2',
      'rm -rf "$1"',
    ].join('\n');
    this.#watchdog = spawn('sh', ['-c', script, 'redis-watchdog', this.dir], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.#watchdog.unref();
    const stdin = this.#watchdog.stdin;
    if (stdin instanceof net.Socket) stdin.unref();
    stdin?.on('error', () => undefined);
  }

  #tellWatchdog(op: 'add' | 'del', pid: number | undefined): void {
    const stdin = this.#watchdog.stdin;
    if (pid !== undefined && stdin?.writable === true) stdin.write(`${op} ${String(pid)}\n`);
  }

  /** A working dir for one process. */
  dirFor(name: string): string {
    const dir = path.join(this.dir, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Starts `redis-server args...` in the foreground, in dirFor(name), and resolves once `port`
   * accepts connections. `logfile` is read into the error if the process exits first.
   */
  async start(name: string, port: number, args: readonly string[], logfile: string, timeoutMs = 10_000): Promise<void> {
    const child = spawn('redis-server', args, { cwd: this.dirFor(name), stdio: 'ignore' });
    child.unref();
    let exited: string | undefined;
    let missing = false;
    child.once('error', (error) => {
      missing = isMissingBinary(error);
      exited = error.message;
    });
    child.once('exit', (code, signal) => {
      living.delete(child);
      this.#tellWatchdog('del', child.pid);
      exited ??= `exited with ${String(code ?? signal)}`;
    });
    if (child.pid !== undefined) {
      living.add(child);
      this.#children.set(name, child);
      this.#tellWatchdog('add', child.pid);
    }
    await pollUntil(
      `redis-server ${name} on port ${String(port)} to accept connections`,
      async () => {
        if (missing) throw new GiveUp(missingTool('redis-server'));
        if (exited !== undefined) throw new GiveUp(`redis-server ${name} ${exited}: ${tail(logfile)}`);
        if (!(await portOpen(port))) return 'port closed';
        // The port could belong to another process that took it first: check it is ours.
        const pid = parseInfo(await withAdmin(port, (client) => client.text('INFO', 'server'))).get('process_id');
        if (pid !== String(child.pid))
          throw new GiveUp(`port ${String(port)} is served by pid ${String(pid)}, not by redis-server ${name} (pid ${String(child.pid)})`);
        return true;
      },
      timeoutMs,
      10,
    );
  }

  /** SIGKILLs every process, waits for each exit, removes the temp dir and ends the watchdog. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#children.values()].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.ref();
        const gone = new Promise<void>((resolve) =>
          child.once('exit', () => {
            resolve();
          }),
        );
        child.kill('SIGKILL');
        await gone;
      }),
    );
    this.#children.clear();
    this.#watchdog.kill('SIGKILL');
    this.#watchdog.stdin?.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}
