import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { redisSessionIndex } from '../lib/index.js';
import { assertLoggedInAs } from './helpers/assertions.js';
import { baseOptions, buildApp, clientFor, SESSION_SECRET } from './helpers/app.js';
import { Browser, login } from './helpers/browser.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { sessionIdFromCookie } from './helpers/logout.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';
import { connectClient, REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';

/** A serializer of the app's own (connect-redis' `serializer` option): its mark shows who wrote the record. */
const TAG = 'tagged:';
const taggedJson = {
  stringify: (data: SessionData): string => TAG + JSON.stringify(data),
  parse: (text: string): SessionData => JSON.parse(text.slice(TAG.length)) as SessionData,
};

/** connect-redis' `ttl` option, in seconds: its README says it is the expiry of a session whose cookie has none. */
const STORE_TTL_SEC = 1234;

/** Calls of each Redis command since the last CONFIG RESETSTAT, from Redis's own INFO commandstats. */
async function commandCounts(client: RedisClient): Promise<Map<string, number>> {
  const info: unknown = await client.sendCommand(['INFO', 'commandstats']);
  if (typeof info !== 'string') throw new Error('INFO answers a string');
  const counts = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts.set(match[1] ?? '', Number(match[2]));
  counts.delete('info');
  counts.delete('config|resetstat');
  return counts;
}

describe('sessions in connect-redis, written by the package', { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let client: RedisClient;
  let indexClient: RedisClient;
  let op: TestProvider;
  /** connect-redis (prefix, ttl, serializer of its own) and the index on one client */
  let shared: LateServer;
  /** connect-redis with disableTTL, the index on the same client */
  let noTtl: LateServer;
  /** connect-redis on one client, the index on another */
  let separate: LateServer;

  before(async () => {
    ({ redis, client } = await startRedisWithClient());
    indexClient = await connectClient(redis);
    shared = await lateServer();
    noTtl = await lateServer();
    separate = await lateServer();
    op = await startTestProvider({ clients: [shared, noTtl, separate].map((s, i) => ({ ...clientFor(s.url), client_id: `app-${String(i)}` })) });
    const app = (server: LateServer, i: number, store: RedisStore, index: RedisClient): void => {
      server.setHandler(
        buildApp(
          {
            ...baseOptions(op.issuer, server.url),
            clientId: `app-${String(i)}`,
            session: { secret: SESSION_SECRET, store },
            sessionIndex: redisSessionIndex(index, { sessionPrefix: store.prefix }),
          },
          { jsonErrors: true },
        ),
      );
    };
    app(shared, 0, new RedisStore({ client, prefix: 'app:', ttl: STORE_TTL_SEC, serializer: taggedJson }), client);
    app(noTtl, 1, new RedisStore({ client, prefix: 'nottl:', disableTTL: true }), client);
    app(separate, 2, new RedisStore({ client, prefix: 'sep:' }), indexClient);
  });

  after(async () => {
    for (const server of [shared, noTtl, separate]) await server.close();
    await op.close();
    await indexClient.quit().catch(() => undefined);
    await client.quit().catch(() => undefined);
    await redis.close();
  });

  async function logIn(server: LateServer, user: string): Promise<{ browser: Browser; id: string }> {
    const browser = new Browser();
    const callback = await login(browser, `${server.url}/login`, user);
    assert.equal(callback.status, 302, `login failed: ${callback.body.slice(0, 200)}`);
    return { browser, id: sessionIdFromCookie(await browser.cookie(server.url, 'oidc.sid')) };
  }

  test('a login is stored as connect-redis would store it: its prefix, its serializer, its ttl option as the expiry', async () => {
    const { browser, id } = await logIn(shared, 'writes-ttl');
    const raw = await client.get(`app:${id}`);
    assert.ok(raw?.startsWith(TAG), `the record is written with the store's serializer: ${String(raw?.slice(0, 20))}`);
    const ttl = await client.ttl(`app:${id}`);
    assert.ok(ttl > STORE_TTL_SEC - 30 && ttl <= STORE_TTL_SEC, `expires in ${String(ttl)} s, expected the store's ttl of ${String(STORE_TTL_SEC)} s`);
    // connect-redis reads back what the package wrote
    await assertLoggedInAs(browser, shared.url, 'writes-ttl');
  });

  test('with disableTTL the record is stored without expiry, as connect-redis would', async () => {
    const { browser, id } = await logIn(noTtl, 'writes-no-ttl');
    assert.equal(await client.exists(`nottl:${id}`), 1);
    assert.equal(await client.ttl(`nottl:${id}`), -1, 'no expiry');
    await assertLoggedInAs(browser, noTtl.url, 'writes-no-ttl');
  });

  test('store and index on one client: a request of a logged-in session costs Redis one GET, no read of the ended mark', async () => {
    const { browser } = await logIn(shared, 'one-command');
    await client.sendCommand(['CONFIG', 'RESETSTAT']);
    for (let i = 0; i < 5; i++) await assertLoggedInAs(browser, shared.url, 'one-command');
    assert.deepEqual(Object.fromEntries(await commandCounts(client)), { get: 5 });
  });

  test('the index on a client of its own: each request also reads the ended mark (EXISTS)', async () => {
    const { browser } = await logIn(separate, 'two-commands');
    await client.sendCommand(['CONFIG', 'RESETSTAT']);
    for (let i = 0; i < 5; i++) await assertLoggedInAs(browser, separate.url, 'two-commands');
    assert.deepEqual(Object.fromEntries(await commandCounts(client)), { get: 5, exists: 5 });
  });
});
