import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type express from 'express';
import type { OidcAuthOptions, SessionIndex } from '../lib/index.js';
import { memorySessionIndex } from '../lib/session-index/memory.js';
import { baseOptions, capturingLogger, type Captured } from './helpers/app.js';
import { ACCEPT_JSON, assertLoggedOut } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';
import { browserWith, send } from './helpers/gates.js';
import { appWithSessionAdmin, providerForInstances, sharedRedisOptions } from './helpers/instances.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { logoutClaims, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';
import { sessionIdFromCookie } from './helpers/logout.js';
import type { TestProvider } from './helpers/provider.js';
import { fillUntilFull, flood, relieve } from './helpers/redis-pressure.js';
import { REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';

/** The issue's own figure: a bot's 10,000 logouts must leave nothing behind. */
const FLOOD = 10_000;
// A harness limit, not a figure of the guarantee: on a loaded 2-core CI machine 10,000
// requests took over 2 minutes.
const LIMIT = { timeout: 600_000 };

/** The in-memory index, counting what is written to it: entries and ended marks. */
function countingIndex(): { index: SessionIndex; writes: () => number } {
  const inner = memorySessionIndex();
  let writes = 0;
  const index: SessionIndex = {
    ...inner,
    add: (entry, ttlMs) => {
      writes++;
      return inner.add(entry, ttlMs);
    },
    markEnded: (sessionId, ttlMs) => {
      writes++;
      return inner.markEnded(sessionId, ttlMs);
    },
  };
  return { index, writes: () => writes };
}

interface Victim {
  cookie: string;
  id: string;
  user: string;
  sid: string;
}

describe('logout stays final under pressure: a flood of logouts, a full Redis', { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let client: RedisClient;
  let op: TestProvider;
  /** two instances on Redis (connect-redis and the index on one client) */
  let a: LateServer;
  let b: LateServer;
  /** one instance with MemoryStore and the in-memory index */
  let m: LateServer;
  const memory = countingIndex();
  const logs = new Map<LateServer, Captured[]>();

  function instance(server: LateServer, options: OidcAuthOptions): express.Express {
    const captured = capturingLogger();
    logs.set(server, captured.lines);
    return appWithSessionAdmin({ ...options, logger: captured.logger });
  }

  before(async () => {
    ({ redis, client } = await startRedisWithClient());
    a = await lateServer();
    b = await lateServer();
    m = await lateServer();
    op = await providerForInstances([a, b, m]);
    a.setHandler(instance(a, sharedRedisOptions(op.issuer, a, client)));
    b.setHandler(instance(b, sharedRedisOptions(op.issuer, b, client)));
    m.setHandler(instance(m, { ...baseOptions(op.issuer, m.url), sessionIndex: memory.index }));
  });
  afterEach(async () => {
    await relieve(client);
  });
  after(async () => {
    for (const server of [a, b, m]) await server.close();
    await op.close();
    await client.quit().catch(() => undefined);
    await redis.close();
  });

  async function logIn(server: LateServer, user: string): Promise<Victim> {
    const browser = new Browser();
    const callback = await login(browser, `${server.url}/login`, user);
    assert.equal(callback.status, 302, `login failed: ${callback.body.slice(0, 200)}`);
    const value = await browser.cookie(server.url, 'oidc.sid');
    const tokens = JSON.parse((await browser.get(`${server.url}/test/tokens`)).body) as { idToken: string };
    const sid = sidOf(tokens.idToken);
    assert.ok(sid !== undefined, 'the ID token carries a sid');
    return { cookie: `oidc.sid=${value ?? ''}`, id: sessionIdFromCookie(value), user, sid };
  }

  async function assertEndedEverywhere(victim: Victim, servers: readonly LateServer[]): Promise<void> {
    for (const server of servers) await assertLoggedOut(await browserWith(victim.cookie, server.url), server.url);
  }

  test(`${String(FLOOD)} cookieless POST /logout add no Redis key and no in-memory index entry`, LIMIT, async () => {
    const keysBefore = await client.dbSize();
    const onRedis = await flood(`${a.url}/logout`, FLOOD, { method: 'POST', headers: ACCEPT_JSON });
    assert.deepEqual([...onRedis], [[200, FLOOD]], 'each answered 200 { redirectTo }');
    assert.equal(await client.dbSize(), keysBefore, 'Redis holds no new key');

    const writesBefore = memory.writes();
    const inMemory = await flood(`${m.url}/logout`, FLOOD, { method: 'POST', headers: ACCEPT_JSON });
    assert.deepEqual([...inMemory], [[200, FLOOD]]);
    assert.equal(memory.writes(), writesBefore, 'the in-memory index got no entry and no mark');
  });

  test(`${String(FLOOD)} POST /logout with the cookie of a session that already ended add nothing either`, LIMIT, async () => {
    const onRedis = await logIn(a, 'flood-reused');
    assert.equal((await send(`${a.url}/logout`, onRedis.cookie, { method: 'POST', headers: ACCEPT_JSON })).status, 200);
    const keysBefore = await client.dbSize();
    const answers = await flood(`${b.url}/logout`, FLOOD, { method: 'POST', headers: { ...ACCEPT_JSON, cookie: onRedis.cookie } });
    assert.deepEqual([...answers], [[200, FLOOD]]);
    assert.equal(await client.dbSize(), keysBefore, 'Redis holds no new key');

    const inMemory = await logIn(m, 'flood-reused-memory');
    assert.equal((await send(`${m.url}/logout`, inMemory.cookie, { method: 'POST', headers: ACCEPT_JSON })).status, 200);
    const writesBefore = memory.writes();
    assert.deepEqual([...(await flood(`${m.url}/logout`, FLOOD, { method: 'POST', headers: { ...ACCEPT_JSON, cookie: inMemory.cookie } }))], [[200, FLOOD]]);
    assert.equal(memory.writes(), writesBefore, 'the in-memory index got no entry and no mark');
  });

  test(
    'with Redis full (noeviction), a user logout, a back-channel logout and endSessions() each destroy the session on both instances and answer as on a healthy Redis',
    LIMIT,
    async () => {
      const own = await logIn(a, 'full-own');
      const backchannel = await logIn(a, 'full-backchannel');
      const admin = await logIn(b, 'full-admin');
      await fillUntilFull(client);
      await assert.rejects(client.set('one-more', 'x'), /OOM/, 'Redis refuses writes');

      const logout = await send(`${b.url}/logout`, own.cookie, { method: 'POST', headers: ACCEPT_JSON });
      assert.equal(logout.status, 200, `POST /logout answered ${String(logout.status)}: ${logout.body.slice(0, 200)}`);
      assert.ok(typeof (JSON.parse(logout.body) as { redirectTo?: unknown }).redirectTo === 'string', 'the documented answer: { redirectTo }');
      await assertEndedEverywhere(own, [a, b]);
      assert.equal(await client.exists(`sess:${own.id}`), 0, 'the session is gone from the store');

      const token = await signLogoutToken(op, logoutClaims(op, backchannel.user, backchannel.sid));
      const answer = await postLogoutToken(b.url, token);
      assert.equal(answer.status, 200, `back-channel logout answered ${String(answer.status)}: ${await answer.text()}`);
      await assertEndedEverywhere(backchannel, [a, b]);
      assert.equal(await client.exists(`sess:${backchannel.id}`), 0);

      const ended = await send(`${a.url}/admin/end-user?sub=${admin.user}`, '', { method: 'POST', headers: ACCEPT_JSON });
      assert.equal(ended.status, 200, `endSessions answered ${String(ended.status)}: ${ended.body.slice(0, 200)}`);
      assert.deepEqual(JSON.parse(ended.body), { ended: 1 });
      await assertEndedEverywhere(admin, [a, b]);
      assert.equal(await client.exists(`sess:${admin.id}`), 0);

      // What happened is said, once per session whose mark could not be written.
      const warnings = [...(logs.get(a) ?? []), ...(logs.get(b) ?? [])].filter(
        (l) => l.level === 'warn' && l.message.startsWith('the ended mark could not be written'),
      );
      assert.equal(warnings.length, 3, 'one warning per ended session whose mark Redis refused');
    },
  );
});
