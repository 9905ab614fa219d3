import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { isChildMessage, type ServerStats } from './ipc.js';

const BENCH_DIR = path.dirname(path.dirname(new URL(import.meta.url).pathname));
export const WORK_DIR = path.join(BENCH_DIR, '.work');

const running = new Set<BenchChild>();

/** A server (or the provider) in its own Node process, started with `node --import tsx`, driven over IPC. */
export class BenchChild {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (data: unknown) => void; reject: (err: Error) => void }>();
  private exited = false;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    readonly port: number,
  ) {
    proc.on('message', (message: unknown) => {
      if (!isChildMessage(message) || message.kind !== 'reply') return;
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.data);
      else waiter.reject(new Error(`${name}: ${message.error}`));
    });
    proc.on('exit', (code, signal) => {
      this.exited = true;
      running.delete(this);
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${name} exited (${String(code ?? signal)})`));
      this.pending.clear();
    });
  }

  get url(): string {
    return `http://127.0.0.1:${String(this.port)}`;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Forks bench/servers/<script>.ts; its output goes to bench/.work/logs/<name>.log. */
  static async start(name: string, script: string, options: { profileDir?: string | undefined; timeoutMs?: number } = {}): Promise<BenchChild> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    // One directory per server: node writes a profile per thread (the main one, and tsx's module loader thread).
    const profile = options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(options.profileDir, name)}`];
    const logDir = path.join(WORK_DIR, 'logs');
    mkdirSync(logDir, { recursive: true });
    const log = openSync(path.join(logDir, `${name}.log`), 'w');
    const proc = fork(path.join(BENCH_DIR, 'servers', `${script}.ts`), [name], {
      execArgv: ['--import', 'tsx', ...profile],
      stdio: ['ignore', log, log, 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    closeSync(log);
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${name} did not start within ${String(timeoutMs)} ms (see bench/.work/logs/${name}.log)`));
      }, timeoutMs);
      proc.on('message', (message: unknown) => {
        if (isChildMessage(message) && message.kind === 'listening') {
          clearTimeout(timer);
          resolve(message.port);
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${String(code)} while starting (see bench/.work/logs/${name}.log)`));
      });
    });
    const child = new BenchChild(name, proc, port);
    running.add(child);
    return child;
  }

  /** Runs a command in the child and waits for its answer, bounded in time. */
  request<T>(command: string, payload?: unknown, timeoutMs = 60_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${command} within ${String(timeoutMs)} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (data) => {
          clearTimeout(timer);
          resolve(data as T);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.proc.send({ id, command, payload });
    });
  }

  stats(): Promise<ServerStats> {
    return this.request<ServerStats>('stats');
  }

  /**
   * Closes the IPC channel, on which the child exits by itself (writing its CPU profile when
   * profiling); SIGTERM after a grace period, SIGKILL after another.
   */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) =>
      this.proc.once('exit', () => {
        resolve();
      }),
    );
    if (this.proc.connected) this.proc.disconnect();
    const term = setTimeout(() => this.proc.kill('SIGTERM'), graceMs);
    const kill = setTimeout(() => this.proc.kill('SIGKILL'), 2 * graceMs);
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 3 * graceMs))]);
    clearTimeout(term);
    clearTimeout(kill);
  }
}

/** Stops every child still running (each by its own handle). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()));
}
