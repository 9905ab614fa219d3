import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster, Redis } from 'ioredis';
import { REDIS_SUITE_SKIP } from './helpers/redis.js';
import {
  connectIoRedis,
  connectIoRedisCluster,
  connectNodeRedisCluster,
  startRedisCluster,
  type NodeRedisCluster,
  type RedisClusterServers,
} from './helpers/redis-cluster.js';
import { pollUntil } from './helpers/redis-processes.js';
import {
  connectIoRedisSentinel,
  connectNodeRedisSentinel,
  startRedisSentinel,
  type NodeRedisSentinel,
  type RedisSentinelServers,
} from './helpers/redis-sentinel.js';

const url = (port: number): string => `redis://127.0.0.1:${String(port)}`;

// Sets KEYS[1] to ARGV[1], copies it to KEYS[2], returns KEYS[2]: a script touching two keys.
const COPY_SCRIPT = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], redis.call('GET', KEYS[1])); return redis.call('GET', KEYS[2])";

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function timed<T>(start: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await start();
  return { value, ms: Math.round(performance.now() - t0) };
}

// The two topologies are independent: their suites, hooks included, run side by side (most of the
// cluster's start is Redis' own 2 s writable delay and gossip, time the Sentinel suite can use).
describe('Redis Cluster and Sentinel test helpers, on 127.0.0.1', { skip: REDIS_SUITE_SKIP, concurrency: true }, () => {
  describe('a 3-master Redis Cluster', () => {
    let servers: RedisClusterServers;
    let startedInMs = 0;
    let nodeRedis: NodeRedisCluster;
    let ioredis: Cluster;
    const direct = new Map<number, Redis>();
    const cleanups: (() => unknown)[] = [];

    before(async () => {
      ({ value: servers, ms: startedInMs } = await timed(startRedisCluster));
      cleanups.push(() => servers.close());
      nodeRedis = await connectNodeRedisCluster(servers);
      cleanups.push(() => {
        nodeRedis.destroy();
      });
      ioredis = await connectIoRedisCluster(servers);
      cleanups.push(() => {
        ioredis.disconnect();
      });
      for (const node of servers.nodes) {
        const client = await connectIoRedis(url(node.port));
        direct.set(node.port, client);
        cleanups.push(() => {
          client.disconnect();
        });
      }
    });

    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    test('three masters own all 16384 slots, and both clients know only 127.0.0.1 nodes', (t) => {
      t.diagnostic(`cluster started in ${String(startedInMs)} ms`);
      assert.equal(servers.nodes.length, 3);
      assert.equal(
        servers.slots.reduce((sum, range) => sum + range.end - range.start + 1, 0),
        16384,
      );
      const ports = servers.nodes.map((node) => node.port);
      assert.deepEqual(nodeRedis.masters.map((node) => `${node.host}:${String(node.port)}`).sort(), ports.map((port) => `127.0.0.1:${String(port)}`).sort());
      assert.deepEqual(
        ioredis
          .nodes('all')
          .map((node) => `${String(node.options.host)}:${String(node.options.port)}`)
          .sort(),
        ports.map((port) => `127.0.0.1:${String(port)}`).sort(),
      );
    });

    test('SET and GET reach every master, with node-redis and with ioredis', async () => {
      const anyNode = direct.values().next().value;
      assert.ok(anyNode);
      // One key per master, found by CLUSTER KEYSLOT and the slot map.
      const keyFor = new Map<number, string>();
      for (let i = 0; keyFor.size < 3 && i < 100; i++) {
        const key = `topology:key:${String(i)}`;
        const owner = servers.ownerOfSlot(await anyNode.cluster('KEYSLOT', key)).port;
        if (!keyFor.has(owner)) keyFor.set(owner, key);
      }
      assert.deepEqual([...keyFor.keys()].sort(), servers.nodes.map((node) => node.port).sort());

      for (const [owner, key] of keyFor) {
        const ownerClient = direct.get(owner);
        assert.ok(ownerClient);
        await nodeRedis.set(key, `node-redis ${key}`);
        assert.equal(await ioredis.get(key), `node-redis ${key}`);
        assert.equal(await ownerClient.get(key), `node-redis ${key}`, 'the key lives on the master that owns its slot');
        await ioredis.set(key, `ioredis ${key}`);
        assert.equal(await nodeRedis.get(key), `ioredis ${key}`);
        assert.equal(await ownerClient.get(key), `ioredis ${key}`);
        // Any other master answers MOVED for it: the key is not everywhere.
        const other = [...direct.entries()].find(([port]) => port !== owner)?.[1];
        await assert.rejects(other?.get(key) ?? Promise.reject(new Error('no other node')), /MOVED/);
      }
    });

    test('EVAL on two keys with one hash tag works; on keys in two slots it fails with CROSSSLOT', async () => {
      const anyNode = direct.values().next().value;
      assert.ok(anyNode);
      const [a, b] = ['{topology:user}:a', '{topology:user}:b'];
      assert.equal(await anyNode.cluster('KEYSLOT', a), await anyNode.cluster('KEYSLOT', b));
      const [x, y] = ['topology:x', 'topology:y'];
      assert.notEqual(await anyNode.cluster('KEYSLOT', x), await anyNode.cluster('KEYSLOT', y));

      assert.equal(await nodeRedis.eval(COPY_SCRIPT, { keys: [a, b], arguments: ['node-redis'] }), 'node-redis');
      assert.equal(await ioredis.eval(COPY_SCRIPT, 2, a, b, 'ioredis'), 'ioredis');
      assert.equal(await nodeRedis.get(b), 'ioredis');

      await assert.rejects(nodeRedis.eval(COPY_SCRIPT, { keys: [x, y], arguments: ['no'] }), /CROSSSLOT/);
      await assert.rejects(ioredis.eval(COPY_SCRIPT, 2, x, y, 'no'), /CROSSSLOT/);
      assert.equal(await nodeRedis.exists([x]), 0);
      assert.equal(await ioredis.exists(y), 0);
    });
  });

  describe('Sentinel: a master, a replica and three sentinels', () => {
    let servers: RedisSentinelServers;
    let startedInMs = 0;
    let nodeRedis: NodeRedisSentinel;
    let ioredis: Redis;
    const cleanups: (() => unknown)[] = [];

    before(async () => {
      ({ value: servers, ms: startedInMs } = await timed(startRedisSentinel));
      cleanups.push(() => servers.close());
      nodeRedis = await connectNodeRedisSentinel(servers);
      cleanups.push(() => nodeRedis.destroy());
      ioredis = await connectIoRedisSentinel(servers);
      cleanups.push(() => {
        ioredis.disconnect();
      });
    });

    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    test('a value written before failover() is readable after it, and writes work on the new master', async (t) => {
      t.diagnostic(`sentinel topology started in ${String(startedInMs)} ms`);
      const oldMaster = servers.master.port;
      const oldReplica = servers.replica.port;

      await nodeRedis.set('topology:before:node-redis', 'written before');
      await ioredis.set('topology:before:ioredis', 'written before');
      // Replication is asynchronous: without WAIT the promoted replica could miss the writes.
      assert.equal(await nodeRedis.wait(1, 2000), 1);
      assert.equal(await ioredis.wait(1, 2000), 1);

      const t0 = performance.now();
      await servers.failover();
      t.diagnostic(`failover() took ${String(Math.round(performance.now() - t0))} ms`);
      assert.equal(servers.master.port, oldReplica);
      assert.equal(servers.replica.port, oldMaster);

      const newMaster = await connectIoRedis(url(servers.master.port));
      t.after(() => {
        newMaster.disconnect();
      });
      const roles = await newMaster.info('replication');
      assert.match(roles, /^role:master$/m);

      // The clients find the new master on their own; give them a bounded time to.
      const t1 = performance.now();
      await pollUntil(
        'both clients reading old values and writing to the new master',
        async () => {
          const results = await Promise.allSettled([
            nodeRedis.get('topology:before:node-redis'),
            ioredis.get('topology:before:ioredis'),
            nodeRedis.set('topology:after:node-redis', 'written after'),
            ioredis.set('topology:after:ioredis', 'written after'),
          ]);
          const failed = results.find((result) => result.status === 'rejected');
          if (failed !== undefined) return `a command failed: ${errorMessage(failed.reason)}`;
          const values = results.map((result) => (result.status === 'fulfilled' ? result.value : null));
          if (values[0] !== 'written before' || values[1] !== 'written before') return `old values read: ${JSON.stringify(values.slice(0, 2))}`;
          // The writes must have gone to the new master, not to the demoted one.
          const onNewMaster = [await newMaster.get('topology:after:node-redis'), await newMaster.get('topology:after:ioredis')];
          return (onNewMaster[0] === 'written after' && onNewMaster[1] === 'written after') || `new master has ${JSON.stringify(onNewMaster)}`;
        },
        10_000,
        50,
      );
      t.diagnostic(`clients settled ${String(Math.round(performance.now() - t1))} ms after failover() returned`);
    });
  });
});
