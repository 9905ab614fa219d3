import { after, before, describe } from 'node:test';
import { RedisStore } from 'connect-redis';
import { RedisStore as RedisStore8 } from 'connect-redis-8';
import { RedisStore as RedisStore10 } from 'connect-redis-10';
import { connectClient, REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';
import { connectIoRedis } from './helpers/redis-cluster.js';
import { sharedRedisSuite } from './helpers/shared-redis-suite.js';

/* The suite of test/redis-cluster.test.ts on one plain redis-server, with node-redis and with ioredis. */
describe('two instances on a single Redis, each client', { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let first: RedisClient;
  before(async () => {
    ({ redis, client: first } = await startRedisWithClient());
  });
  after(async () => {
    await first.quit().catch(() => undefined);
    await redis.close();
  });

  sharedRedisSuite({
    name: 'node-redis createClient, connect-redis 9',
    atomic: true,
    async connect() {
      const client = await connectClient(redis);
      return {
        client,
        store: new RedisStore({ client, prefix: 'sess:' }),
        close: async () => {
          await client.quit();
        },
      };
    },
  });

  // connect-redis 10, the current major, declares Node >= 22 in its engines; it runs on Node 20
  // too (npm only warns), and CI runs this file on Node 20, 22 and 24.
  sharedRedisSuite({
    name: 'node-redis createClient, connect-redis 10',
    atomic: true,
    async connect() {
      const client = await connectClient(redis);
      return {
        client,
        store: new RedisStore10({ client, prefix: 'sess:' }),
        close: async () => {
          await client.quit();
        },
      };
    },
  });

  sharedRedisSuite({
    name: 'ioredis Redis, connect-redis 8',
    atomic: false,
    async connect() {
      const client = await connectIoRedis(redis.url);
      return {
        client,
        store: new RedisStore8({ client, prefix: 'sess:' }),
        close: async () => {
          await client.quit();
        },
      };
    },
  });
});
