import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RedisStore } from 'connect-redis';
import { RedisStore as RedisStore8 } from 'connect-redis-8';
import type { Store } from 'express-session';
import { redisSessionIndex, type OidcAuthOptions, type RedisCommandClient } from '../lib/index.js';
import { ACCEPT_JSON, assertLoggedInAs } from './helpers/assertions.js';
import { baseOptions, buildApp, clientFor, SESSION_SECRET } from './helpers/app.js';
import { Browser, login } from './helpers/browser.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';
import { REDIS_SUITE_SKIP } from './helpers/redis.js';
import { connectIoRedisSentinel, connectNodeRedisSentinel, startRedisSentinel, type RedisSentinelServers } from './helpers/redis-sentinel.js';

/*
 * A Sentinel failover (SENTINEL FAILOVER on a real 1 master + 1 replica + 3 sentinels, started
 * by the test) while logged-in users keep sending requests: answers during the switch are
 * 200 with the right user or 503, never 500 and never another user; service comes back by
 * itself; sessions written before the failover survive it; a session ended before it stays ended.
 */
interface SentinelClient {
  client: RedisCommandClient;
  store: Store;
  close(): Promise<void>;
}

const SETUPS: readonly { name: string; connect(servers: RedisSentinelServers): Promise<SentinelClient> }[] = [
  {
    name: 'node-redis createSentinel, connect-redis 9',
    async connect(servers) {
      const sentinel = await connectNodeRedisSentinel(servers);
      return { client: sentinel, store: new RedisStore({ client: sentinel, prefix: 'sess:' }), close: () => sentinel.close() };
    },
  },
  {
    name: 'ioredis with sentinels, connect-redis 8',
    async connect(servers) {
      const client = await connectIoRedisSentinel(servers);
      return {
        client,
        store: new RedisStore8({ client, prefix: 'sess:' }),
        close: async () => {
          await client.quit();
        },
      };
    },
  },
];

/** How long the service may take to come back after the switch, by itself. */
const RESUME_WITHIN_MS = 20_000;

for (const setup of SETUPS) {
  describe(`a Sentinel failover under load: ${setup.name}`, { skip: REDIS_SUITE_SKIP }, () => {
    let servers: RedisSentinelServers;
    let sentinel: SentinelClient;
    let op: TestProvider;
    let app: LateServer;

    before(async () => {
      servers = await startRedisSentinel();
      sentinel = await setup.connect(servers);
      app = await lateServer();
      op = await startTestProvider({ clients: [clientFor(app.url)] });
      const options: OidcAuthOptions = {
        ...baseOptions(op.issuer, app.url),
        session: { secret: SESSION_SECRET, store: sentinel.store },
        sessionIndex: redisSessionIndex(sentinel.client),
      };
      app.setHandler(buildApp(options, { jsonErrors: true }));
    });

    after(async () => {
      await app.close();
      await op.close();
      await sentinel.close();
      await servers.close();
    });

    test('requests during the switch get 200 (the right user) or 503, service resumes, nothing written before is lost, nothing ended comes back', async () => {
      const users = ['alice', 'bob'];
      const browsers = new Map<string, Browser>();
      for (const user of users) {
        const browser = new Browser();
        assert.equal((await login(browser, `${app.url}/login`, user)).status, 302);
        browsers.set(user, browser);
      }
      const ended = new Browser();
      assert.equal((await login(ended, `${app.url}/login`, 'carol')).status, 302);
      // The cookie as it was before the logout: replayed after the failover, it must not log carol in.
      const endedCookie = await ended.jar.getCookieString(app.url);
      assert.equal((await ended.request(`${app.url}/logout`, { method: 'POST' })).status, 303);

      const seen: { user: string; status: number; sub: unknown; at: number }[] = [];
      let stop = false;
      const stream = Promise.all(
        users.map(async (user) => {
          const browser = browsers.get(user);
          if (browser === undefined) throw new Error(user);
          while (!stop) {
            const answer = await browser.get(`${app.url}/profile`, ACCEPT_JSON);
            seen.push({
              user,
              status: answer.status,
              sub: answer.status === 200 ? (JSON.parse(answer.body) as { sub: unknown }).sub : undefined,
              at: Date.now(),
            });
          }
        }),
      );

      await new Promise((resolve) => setTimeout(resolve, 300));
      const switched = Date.now();
      await servers.failover();
      // Service resumes by itself: every user answered 200 at least 10 times in a row after the switch.
      const deadline = Date.now() + RESUME_WITHIN_MS;
      const resumed = (): boolean =>
        users.every((user) => {
          const last = seen.filter((s) => s.user === user && s.at > switched).slice(-10);
          return last.length === 10 && last.every((s) => s.status === 200);
        });
      while (!resumed() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      stop = true;
      await stream;

      assert.ok(resumed(), `service did not resume within ${String(RESUME_WITHIN_MS)} ms: last answers ${JSON.stringify(seen.slice(-6).map((s) => s.status))}`);
      const statuses = new Set(seen.map((s) => s.status));
      assert.deepEqual(
        [...statuses].filter((s) => s !== 200 && s !== 503),
        [],
        'only 200 and 503 during the switch',
      );
      for (const s of seen) if (s.status === 200) assert.equal(s.sub, s.user, 'a 200 always names its own user');
      for (const user of users) await assertLoggedInAs(browsers.get(user) ?? new Browser(), app.url, user);
      const replayed = await new Browser().request(`${app.url}/profile`, { cookie: endedCookie, headers: ACCEPT_JSON });
      assert.equal(replayed.status, 401, 'the session ended before the failover stays ended');
    });
  });
}
