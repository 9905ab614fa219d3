import { createClient } from 'redis';

export type Redis = ReturnType<typeof createClient>;

/** A connected node-redis client; errors are logged (without a listener node-redis would crash the process). */
export async function connectRedis(url: string | undefined): Promise<Redis> {
  if (url === undefined) throw new Error('store "redis" needs redisUrl');
  const client = createClient({ url });
  client.on('error', (err: unknown) => {
    console.error('redis client error', err);
  });
  await client.connect();
  return client;
}

/** MEMORY USAGE of a key, in bytes (SAMPLES 0: every element counted). */
export async function memoryUsage(redis: Redis, key: string): Promise<number> {
  const reply = await redis.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']);
  if (typeof reply !== 'number') throw new Error(`no key ${key} in Redis`);
  return reply;
}

/** used_memory from INFO memory, in bytes. */
export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.sendCommand(['INFO', 'memory']);
  const match = /used_memory:(\d+)/.exec(typeof info === 'string' ? info : '');
  return Number(match?.[1] ?? Number.NaN);
}
