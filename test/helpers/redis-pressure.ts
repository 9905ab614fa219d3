import { pipelinedFlood } from './flood-client.js';
import type { RedisClient } from './redis.js';

/**
 * Redis under pressure, made for real: a `maxmemory` just above what the server uses now,
 * then keys of the test's own until Redis evicts (volatile-lru) or refuses (noeviction).
 */

async function usedMemory(client: RedisClient): Promise<number> {
  const info = await client.sendCommand(['INFO', 'memory']);
  const match = typeof info === 'string' ? /^used_memory:(\d+)/m.exec(info) : null;
  if (match?.[1] === undefined) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

const FILLER = 'x'.repeat(1024);

/**
 * Under `volatile-lru` (the default of large managed Redis services), writes keys with an
 * expiry until `key` is evicted. Fails when it is still there after `limit` keys.
 */
export async function evictUntilGone(client: RedisClient, key: string, limit = 200_000): Promise<number> {
  if ((await client.exists(key)) !== 1) throw new Error(`${key} must exist before it can be evicted`);
  await client.configSet({ 'maxmemory-policy': 'volatile-lru', maxmemory: String((await usedMemory(client)) + 512 * 1024) });
  let written = 0;
  while (written < limit) {
    const batch = client.multi();
    for (let i = 0; i < 200; i++) batch.set(`filler:${String(written + i)}`, FILLER, { EX: 3600 });
    await batch.exec();
    written += 200;
    if ((await client.exists(key)) === 0) return written;
  }
  throw new Error(`${key} was not evicted after ${String(limit)} keys`);
}

/**
 * Under `noeviction`, writes keys until Redis refuses a write with its OOM error, then holds
 * the limit below what is used (client buffers move used_memory by a few kilobytes, which
 * would let the odd small write through).
 */
export async function fillUntilFull(client: RedisClient): Promise<void> {
  await client.configSet({ 'maxmemory-policy': 'noeviction', maxmemory: String((await usedMemory(client)) + 256 * 1024) });
  for (let i = 0; i < 100_000; i++) {
    try {
      await client.set(`filler:${String(i)}`, FILLER);
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('OOM'))) throw err;
      await client.configSet({ maxmemory: String((await usedMemory(client)) - 128 * 1024) });
      return;
    }
  }
  throw new Error('Redis never refused a write');
}

/** Back to no memory limit, and the test's own keys gone. */
export async function relieve(client: RedisClient): Promise<void> {
  await client.configSet({ maxmemory: '0', 'maxmemory-policy': 'noeviction' });
  for await (const keys of client.scanIterator({ MATCH: 'filler:*', COUNT: 1000 })) if (keys.length > 0) await client.unlink(keys);
}

/**
 * `count` requests as a bot sends them (pipelined on keep-alive connections: helpers/flood-client.ts),
 * each answered in full; resolves to how many got each status.
 */
export async function flood(url: string, count: number, init: { method: string; headers?: Record<string, string> }): Promise<Map<number, number>> {
  const { statuses } = await pipelinedFlood(url, count, init.headers === undefined ? { method: init.method } : { method: init.method, headers: init.headers });
  return new Map(statuses);
}
