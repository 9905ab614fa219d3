import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import type { MemoryStore } from 'express-session';
import { SESSION_COOKIE } from './cookies.js';

export const MIB = 1024 * 1024;

export interface HammerResult {
  /** [status, how many answers had it], by status */
  statuses: [number, number][];
  /** answers that set the session cookie */
  sessionCookies: number;
}

/**
 * The load generator, run in a worker thread: the client's own work then runs on another core
 * and outside the heap of this thread, which holds the app and is what the test measures.
 */
const HAMMER = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, total, parallel, sessionCookie } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });
const statuses = new Map();
let sessionCookies = 0;
let started = 0;
const one = () => new Promise((resolve, reject) => {
  const req = http.get(url, { agent }, (res) => {
    statuses.set(res.statusCode, (statuses.get(res.statusCode) || 0) + 1);
    if ((res.headers['set-cookie'] || []).some((c) => c.startsWith(sessionCookie + '='))) sessionCookies++;
    res.resume();
    res.on('end', resolve);
    res.on('error', reject);
  });
  req.on('error', reject);
});
const worker = async () => { while (started < total) { started++; await one(); } };
Promise.all(Array.from({ length: parallel }, worker)).then(() => {
  agent.destroy();
  parentPort.postMessage({ statuses: [...statuses].sort((a, b) => a[0] - b[0]), sessionCookies });
}, (err) => { throw err; });
`;

/** `total` cookieless GETs of `url`, `parallel` at a time over keep-alive connections. */
export function hammer(url: string, total: number, parallel = 50): Promise<HammerResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(HAMMER, { eval: true, workerData: { url, total, parallel, sessionCookie: SESSION_COOKIE } });
    worker.once('message', (result: HammerResult) => {
      resolve(result);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      reject(new Error(`the load worker exited (${String(code)}) without a result`));
    });
  });
}

/** The garbage collector, without --expose-gc on the command line. */
export function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = vm.runInNewContext('gc');
  assert.equal(typeof gc, 'function', 'gc is exposed');
  return gc as () => void;
}

export async function heapUsedAfterGc(gc: () => void): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/** How many sessions a MemoryStore holds. */
export function sessionCount(store: MemoryStore): Promise<number> {
  return new Promise((resolve, reject) => {
    store.length((err: unknown, length?: number) => {
      if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error('MemoryStore.length failed'));
      else resolve(length ?? 0);
    });
  });
}
