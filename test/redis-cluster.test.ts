import { after, before, describe } from 'node:test';
import { RedisStore } from 'connect-redis';
import { RedisStore as RedisStore8 } from 'connect-redis-8';
import { REDIS_SUITE_SKIP } from './helpers/redis.js';
import { connectIoRedisCluster, connectNodeRedisCluster, startRedisCluster, type RedisClusterServers } from './helpers/redis-cluster.js';
import { sharedRedisSuite } from './helpers/shared-redis-suite.js';

/*
 * Two app instances on a real 3-master Redis Cluster (started by the test from Debian's
 * redis-server), sessions in connect-redis and the session index on the same cluster, with
 * each cluster client the index accepts. connect-redis 9 takes node-redis only; with ioredis
 * the store is connect-redis 8. The same suite runs on a single Redis in test/redis-clients-single.test.ts.
 */
describe('two instances on a Redis Cluster', { skip: REDIS_SUITE_SKIP }, () => {
  let servers: RedisClusterServers;
  before(async () => {
    servers = await startRedisCluster();
  });
  after(async () => {
    await servers.close();
  });
  const masterOf = (slot: number): number => servers.ownerOfSlot(slot).port;

  sharedRedisSuite({
    name: 'node-redis createCluster, connect-redis 9',
    atomic: true,
    async connect() {
      const cluster = await connectNodeRedisCluster(servers);
      return {
        client: cluster,
        store: new RedisStore({ client: cluster, prefix: 'sess:' }),
        placement: { keySlot: async (key) => Number(await cluster.sendCommand(key, true, ['CLUSTER', 'KEYSLOT', key])), masterOf },
        close: () => cluster.close(),
      };
    },
  });

  sharedRedisSuite({
    name: 'ioredis Cluster, connect-redis 8',
    // connect-redis 8 wraps the client it is given: the package cannot write its sessions itself.
    atomic: false,
    async connect() {
      const cluster = await connectIoRedisCluster(servers);
      return {
        client: cluster,
        store: new RedisStore8({ client: cluster, prefix: 'sess:' }),
        placement: { keySlot: async (key) => Number(await cluster.call('CLUSTER', 'KEYSLOT', key)), masterOf },
        close: async () => {
          await cluster.quit();
        },
      };
    },
  });
});
