import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, createCluster, createSentinel } from 'redis';
import { OidcAuthErrorCode, isOidcAuthError, redisSessionIndex, type RedisCommandClient } from '../lib/index.js';
import { commandRunner, redisClientKind } from '../lib/session-index/redis/redis-commands.js';

/*
 * Which Redis client the index was given, told by shape (the package depends on none of
 * them). The clients are built, not connected: recognising one needs no server. Their
 * commands against real servers are in test/redis-cluster.test.ts and the Redis suites.
 */
describe('the Redis clients the session index accepts', () => {
  test('node-redis createClient, createCluster and createSentinel are told apart', () => {
    assert.equal(redisClientKind(createClient({ url: 'redis://127.0.0.1:1' })), 'node-redis');
    assert.equal(redisClientKind(createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] })), 'node-redis cluster');
    assert.equal(redisClientKind(createSentinel({ name: 'mymaster', sentinelRootNodes: [{ host: '127.0.0.1', port: 1 }] })), 'node-redis sentinel');
  });

  test("a node-redis cluster is sent each command with its key, so that it reaches the key's node", async () => {
    const calls: unknown[][] = [];
    const cluster = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] });
    cluster.sendCommand = <T>(...args: unknown[]): Promise<T> => {
      calls.push(args);
      return Promise.resolve(1 as T);
    };
    const send = commandRunner(cluster);
    assert.ok(send !== undefined);
    await send('oidc:ended:{sess:a}', ['EXISTS', 'oidc:ended:{sess:a}']);
    assert.deepEqual(calls, [['oidc:ended:{sess:a}', false, ['EXISTS', 'oidc:ended:{sess:a}']]]);
  });

  test('anything else is refused at once, naming what is accepted', () => {
    for (const client of [{}, { sendCommand: 'no' }, { call: () => Promise.resolve() }, null]) {
      assert.equal(redisClientKind(client), undefined);
      assert.throws(
        () => redisSessionIndex(client as unknown as RedisCommandClient),
        (err: unknown) =>
          isOidcAuthError(err) &&
          err.code === OidcAuthErrorCode.CONFIG_INVALID &&
          /createClient, createCluster or createSentinel/.test(err.message) &&
          /ioredis/.test(err.message),
      );
    }
  });
});
