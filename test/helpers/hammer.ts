import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { MemoryStore } from 'express-session';
import { SESSION_COOKIE } from './cookies.js';
import { pipelinedFlood, type FloodResult } from './flood-client.js';

export const MIB = 1024 * 1024;

export type HammerResult = FloodResult;

/**
 * `total` cookieless GETs of `url`, pipelined on keep-alive connections by a worker thread
 * (helpers/flood-client.ts): the client's own work then runs on another core and outside the
 * heap of this thread, which holds the app and is what the test measures. `sessionCookies`
 * counts the answers that set the session cookie.
 */
export function hammer(url: string, total: number): Promise<HammerResult> {
  return pipelinedFlood(url, total, { cookieName: SESSION_COOKIE });
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
