import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import { RedisStore } from 'connect-redis';
import { RedisStore as RedisStore8 } from 'connect-redis-8';
import type { Store } from 'express-session';
import { redisSessionIndex, type OidcAuthOptions, type RedisCommandClient } from '../lib/index.js';
import { ACCEPT_JSON, assertLoggedInAs, assertLoggedOut } from './helpers/assertions.js';
import { baseOptions, buildApp, capturingLogger, SESSION_SECRET } from './helpers/app.js';
import { Browser, login } from './helpers/browser.js';
import { providerForInstances } from './helpers/instances.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { WITH_REFRESH_TOKEN } from './helpers/logout.js';
import { sidOf } from './helpers/logout-token.js';
import type { TestProvider } from './helpers/provider.js';
import { REDIS_SUITE_SKIP } from './helpers/redis.js';
import { connectIoRedisCluster, connectNodeRedisCluster, startRedisCluster, type RedisClusterServers } from './helpers/redis-cluster.js';

/*
 * Two app instances on a real 3-master Redis Cluster (started by the test from Debian's
 * redis-server), sessions in connect-redis and the session index on the same cluster, with
 * each cluster client the index accepts. connect-redis 9 takes node-redis only; with ioredis
 * the store is connect-redis 8.
 */
interface ClusterClient {
  client: RedisCommandClient;
  store: Store;
  /** CLUSTER KEYSLOT of a key, asked of the cluster */
  keySlot(key: string): Promise<number>;
  close(): Promise<void>;
}

const SETUPS: readonly { name: string; connect(servers: RedisClusterServers): Promise<ClusterClient>; atomic: boolean }[] = [
  {
    name: 'node-redis createCluster, connect-redis 9',
    atomic: true,
    async connect(servers) {
      const cluster = await connectNodeRedisCluster(servers);
      return {
        client: cluster,
        store: new RedisStore({ client: cluster, prefix: 'sess:' }),
        keySlot: async (key) => Number(await cluster.sendCommand(key, true, ['CLUSTER', 'KEYSLOT', key])),
        close: () => cluster.close(),
      };
    },
  },
  {
    name: 'ioredis Cluster, connect-redis 8',
    // connect-redis 8 wraps the client it is given: the package cannot write its sessions itself.
    atomic: false,
    async connect(servers) {
      const cluster = await connectIoRedisCluster(servers);
      return {
        client: cluster,
        store: new RedisStore8({ client: cluster, prefix: 'sess:' }),
        keySlot: async (key) => Number(await cluster.call('CLUSTER', 'KEYSLOT', key)),
        close: async () => {
          await cluster.quit();
        },
      };
    },
  },
];

describe('two instances on a Redis Cluster', { skip: REDIS_SUITE_SKIP }, () => {
  let servers: RedisClusterServers;

  before(async () => {
    servers = await startRedisCluster();
  });

  after(async () => {
    await servers.close();
  });

  for (const setup of SETUPS) {
    describe(setup.name, () => {
      let cluster: ClusterClient;
      let op: TestProvider;
      let a: LateServer;
      let b: LateServer;
      const logs = capturingLogger();

      before(async () => {
        cluster = await setup.connect(servers);
        a = await lateServer();
        b = await lateServer();
        op = await providerForInstances([a, b]);
        for (const server of [a, b]) {
          const options: OidcAuthOptions = {
            ...baseOptions(op.issuer, server.url),
            ...WITH_REFRESH_TOKEN,
            session: { secret: SESSION_SECRET, store: cluster.store },
            sessionIndex: redisSessionIndex(cluster.client),
            logger: logs.logger,
          };
          server.setHandler(buildApp(options, { jsonErrors: true }));
        }
      });

      after(async () => {
        await a.close();
        await b.close();
        await op.close();
        await cluster.close();
      });

      test(`writes are ${setup.atomic ? '' : 'not '}atomic with the ended mark, as the start-up log says`, () => {
        const said = logs.lines.filter((line) => line.fields['atomicWrites'] !== undefined).map((line) => line.fields['atomicWrites']);
        assert.deepEqual(said, [setup.atomic, setup.atomic]);
      });

      test('log in through B; a back-channel logout delivered to A ends the session on both', async () => {
        const browser = new Browser();
        assert.equal((await login(browser, `${b.url}/login`, 'frank')).status, 302);
        await assertLoggedInAs(browser, a.url, 'frank');
        const tokens = JSON.parse((await browser.get(`${b.url}/test/tokens`)).body) as { idToken: string };
        await op.backchannelLogout('test-app', 'frank', sidOf(tokens.idToken));
        await assertLoggedOut(browser, b.url);
        await assertLoggedOut(browser, a.url);
      });

      test('1,000 sessions spread over all three masters are each found and ended by sid, and by sub', async () => {
        const index = redisSessionIndex(cluster.client, { prefix: `spread-${setup.atomic ? 'n' : 'i'}:` });
        const issuer = 'https://idp.example';
        const entries = Array.from({ length: 1000 }, (_, i) => ({ issuer, sub: `user-${String(i % 10)}`, sid: `sid-${String(i)}`, sessionId: `session-${String(i)}` }));
        for (let i = 0; i < entries.length; i += 100) await Promise.all(entries.slice(i, i + 100).map((e) => index.add(e, 60_000)));

        const masters = new Set<number>();
        for (const e of entries.slice(0, 60)) masters.add(servers.ownerOfSlot(await cluster.keySlot(`spread-${setup.atomic ? 'n' : 'i'}:sid:${issuer}:${e.sid}`)).port);
        assert.equal(masters.size, 3, 'the sid sets are on all three masters');

        for (let i = 0; i < entries.length; i += 100) {
          const found = await Promise.all(entries.slice(i, i + 100).map((e) => index.lookup(issuer, { sid: e.sid })));
          assert.deepEqual(found, entries.slice(i, i + 100).map((e) => [e.sessionId]));
        }
        for (let u = 0; u < 10; u++) assert.equal((await index.lookup(issuer, { sub: `user-${String(u)}` })).length, 100);

        for (let i = 0; i < entries.length; i += 100) {
          await Promise.all(
            entries.slice(i, i + 100).map(async (e) => {
              await index.markEnded(e.sessionId, 60_000);
              await index.remove(e);
            }),
          );
        }
        const ended = await Promise.all(entries.map((e) => index.isEnded(e.sessionId)));
        assert.ok(ended.every(Boolean), 'every session is marked ended');
        for (let u = 0; u < 10; u++) assert.deepEqual(await index.lookup(issuer, { sub: `user-${String(u)}` }), []);
      });

      test('an ended mark shares the hash slot of its session key (the atomic write is one script on one node)', async () => {
        for (const id of ['a', 'session-1', 'x7Yq-_0']) assert.equal(await cluster.keySlot(`oidc:ended:{sess:${id}}`), await cluster.keySlot(`sess:${id}`));
      });

      test('20 concurrent requests with an expired access token, spread over both instances, cause exactly one refresh grant', async () => {
        const browser = new Browser();
        assert.equal((await login(browser, `${a.url}/login`, 'ivy')).status, 302);
        const grants = (): number => op.events.filter((e) => e === 'grant.success').length;
        const before = grants();
        mock.timers.enable({ apis: ['Date'], now: Date.now() + 3601 * 1000 });
        try {
          const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => browser.get(`${(i % 2 === 0 ? a : b).url}/api/token`, ACCEPT_JSON)));
          assert.deepEqual(answers.map((r) => r.status), Array<number>(20).fill(200));
          assert.equal(grants() - before, 1);
          assert.equal(new Set(answers.map((r) => (JSON.parse(r.body) as { token: string }).token)).size, 1, 'every request got the same new token');
        } finally {
          mock.timers.reset();
        }
      });
    });
  }
});
