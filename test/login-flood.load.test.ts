import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RedisStore } from 'connect-redis';
import { MemoryStore } from 'express-session';
import { redisSessionIndex } from '../lib/index.js';
import { quietLogger, SESSION_SECRET, setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, jsonOf } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';
import { exposeGc, hammer, heapUsedAfterGc, MIB, sessionCount } from './helpers/hammer.js';
import { REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';

/*
 * A bot that sends cookieless GET /login by the ten thousand (README, "Login": nothing is
 * stored before a login succeeds) leaves nothing behind: no session, no key, no heap.
 * A load suite: CI runs it once, on Node 20 (what it adds is the flood's part).
 */

describe('10,000 cookieless GET /login with the MemoryStore', () => {
  const store = new MemoryStore();
  let s: TestSetup;
  before(async () => {
    s = await setup({ jsonErrors: true, options: { session: { secret: SESSION_SECRET, store }, logger: quietLogger } });
  });
  after(async () => {
    await s.close();
  });

  test('every answer is 302, the store holds 0 sessions, and heap used after GC grows by at most 1 MiB', async (t) => {
    const gc = exposeGc();
    // Warm-up: the first few thousand requests leave up to about 0.7 MiB of optimised code and
    // its metadata on the heap (V8's, not the app's: seen in heap snapshots); measured from here on,
    // 10,000 logins leave the heap where it was.
    const warmUp = await hammer(`${s.appUrl}/login`, 2000);
    assert.deepEqual(warmUp.statuses, [[302, 2000]]);
    const heapBefore = await heapUsedAfterGc(gc);

    const run = await hammer(`${s.appUrl}/login?returnTo=%2Fprofile`, 10_000);
    const heapAfter = await heapUsedAfterGc(gc);
    assert.deepEqual(run.statuses, [[302, 10_000]], 'every answer was a redirect to the provider');
    assert.equal(run.sessionCookies, 0, 'no answer set a session cookie');
    assert.equal(await sessionCount(store), 0, 'the store holds no session');
    const growth = heapAfter - heapBefore;
    t.diagnostic(`heap used after GC: ${(heapBefore / MIB).toFixed(2)} MiB before, ${(heapAfter / MIB).toFixed(2)} MiB after 10,000 logins`);
    assert.ok(growth <= 1 * MIB, `heap used grew by ${(growth / MIB).toFixed(2)} MiB over 10,000 logins (at most 1 MiB)`);

    // The store is the one the app writes to: a real login does put a session there.
    const callback = await login(new Browser(), `${s.appUrl}/login`);
    assert.equal(callback.status, 302, callback.body);
    assert.equal(await sessionCount(store), 1);
  });
});

describe('10,000 cookieless GET /login with Redis as session store and session index', { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let client: RedisClient;
  let s: TestSetup;
  before(async () => {
    ({ redis, client } = await startRedisWithClient());
    s = await setup({
      jsonErrors: true,
      options: {
        session: { secret: SESSION_SECRET, store: new RedisStore({ client, prefix: 'sess:' }) },
        sessionIndex: redisSessionIndex(client),
        logger: quietLogger,
      },
    });
  });
  after(async () => {
    try {
      await s.close();
    } finally {
      await client.quit().catch(() => undefined);
      await redis.close();
    }
  });

  test('every answer is 302 and Redis holds 0 keys afterwards (DBSIZE); a real login then does write keys', async () => {
    assert.equal(await client.dbSize(), 0, 'a fresh Redis');
    const run = await hammer(`${s.appUrl}/login?returnTo=%2Fprofile`, 10_000);
    assert.deepEqual(run.statuses, [[302, 10_000]], 'every answer was a redirect to the provider');
    assert.equal(run.sessionCookies, 0, 'no answer set a session cookie');
    assert.equal(await client.dbSize(), 0, 'no key in Redis');

    const b = new Browser();
    const callback = await login(b, `${s.appUrl}/login`);
    assert.equal(callback.status, 302, callback.body);
    assert.ok((await client.dbSize()) > 0, 'the session and its index entries are in this Redis');
    assert.equal((jsonOf(await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)) as { sub?: unknown }).sub, 'alice');
  });
});
