import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { createClient } from 'redis';

/** A real redis-server for one test file, on a free 127.0.0.1 port, stopped by its pid. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** stop the server (to test an outage); start() brings it back on the same port */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

let installed: boolean | undefined;

/** Whether redis-server is installed: asked once per process (every suite that needs Redis asks). */
export function redisAvailable(): boolean {
  installed ??= spawnSync('redis-server', ['--version']).status === 0;
  return installed;
}

/**
 * Skips the test when redis-server is missing on a developer machine, and fails it under
 * CI=true: CI installs redis-server, so its absence there is a broken run, not a skip.
 */
export function requireRedis(t: TestContext): boolean {
  if (redisAvailable()) return true;
  if (process.env['CI'] === 'true') throw new Error(MISSING_IN_CI);
  t.skip('redis-server is not installed (apt-get install redis-server); skipped outside CI');
  return false;
}

export type RedisClient = ReturnType<typeof createClient>;

const MISSING_IN_CI = 'redis-server is not installed, and CI must run the Redis tests (.ci/run installs it)';

/** describe()'s skip option for a suite that needs redis-server: skipped on a developer machine without it, never under CI=true. */
export const REDIS_SUITE_SKIP: string | false =
  !redisAvailable() && process.env['CI'] !== 'true' ? 'redis-server is not installed (apt-get install redis-server); skipped outside CI' : false;

/**
 * A redis-server for one suite and a connected node-redis client that reconnects quickly
 * (so a test can stop and restart the server). Fails under CI when redis-server is missing.
 */
export async function startRedisWithClient(): Promise<{ redis: RedisServer; client: RedisClient }> {
  if (!redisAvailable()) throw new Error(MISSING_IN_CI);
  const redis = await startRedis();
  return { redis, client: await connectClient(redis) };
}

/** One more connected client of that server, reconnecting quickly like the suite's own. */
export async function connectClient(redis: RedisServer): Promise<RedisClient> {
  const client = createClient({ url: redis.url, socket: { reconnectStrategy: () => 50 } });
  // node-redis emits 'error' while Redis is down; without a listener that would crash the process.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

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

async function waitForPort(port: number, up: boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (open === up) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server on port ${String(port)} did not ${up ? 'start' : 'stop'} in time`);
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'eoa-redis-'));
  const pidfile = path.join(dir, 'redis.pid');
  const start = async (): Promise<void> => {
    const child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', pidfile, '--dir', dir],
      { stdio: 'ignore' },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`redis-server exited with ${String(code)}`));
      });
    });
    await waitForPort(port, true);
  };
  const stop = async (): Promise<void> => {
    let pid: number;
    try {
      pid = Number(readFileSync(pidfile, 'utf8').trim());
    } catch {
      return;
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(pidfile, { force: true });
    await waitForPort(port, false);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${String(port)}`,
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
