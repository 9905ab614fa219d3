import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type express from 'express';
import session from 'express-session';
import { RedisStore } from 'connect-redis';
import { RedisStore as RedisStore10 } from 'connect-redis-10';
import { redisSessionIndex, type OidcAuthOptions, type SessionIndex } from '../lib/index.js';
import { memorySessionIndex } from '../lib/session-index/memory.js';
import { baseOptions, buildApp, SESSION_SECRET } from './helpers/app.js';
import { ACCEPT_JSON, assertLoggedOut } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';
import { addRaceRoutes, browserWith, Gates, reached, send } from './helpers/gates.js';
import { providerForInstances, sharedRedisOptions } from './helpers/instances.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { sessionIdFromCookie } from './helpers/logout.js';
import type { TestProvider } from './helpers/provider.js';
import { evictUntilGone, relieve } from './helpers/redis-pressure.js';
import { connectClient, REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';

/** A safety net against a request left hanging by a failed test; no ordering depends on it. */
const LIMIT = { timeout: 180_000 };

interface Victim {
  cookie: string;
  id: string;
}

interface WritePath {
  name: string;
  /** the session cookie's name */
  cookieName: string;
  options(op: TestProvider, server: LateServer, client: RedisClient, indexClient: RedisClient): OidcAuthOptions;
  /** the app's own express-session, mounted before oidcAuth */
  beforeOidc?(app: express.Express, client: RedisClient): void;
  separateIndexClient: boolean;
}

/** Every way a session of a logged-in user is written back at the end of a request, on Redis. */
const REDIS_PATHS: readonly WritePath[] = [
  {
    name: "connect-redis on the index's own client (the atomic script)",
    cookieName: 'oidc.sid',
    separateIndexClient: false,
    options: (op, server, client) => sharedRedisOptions(op.issuer, server, client),
  },
  {
    name: "connect-redis 10 on the index's own client (the atomic script)",
    cookieName: 'oidc.sid',
    separateIndexClient: false,
    options: (op, server, client) => ({
      ...sharedRedisOptions(op.issuer, server, client),
      session: { secret: SESSION_SECRET, store: new RedisStore10({ client, prefix: 'sess:' }) },
    }),
  },
  {
    name: 'the index on a client of its own (read before the write, mark checked after)',
    cookieName: 'oidc.sid',
    separateIndexClient: true,
    options: (op, server, client, indexClient) => sharedRedisOptions(op.issuer, server, client, indexClient),
  },
  {
    name: "the app's own express-session (session: false)",
    cookieName: 'app.sid',
    separateIndexClient: false,
    options: (op, server, client) => ({
      ...baseOptions(op.issuer, server.url),
      session: false,
      secret: SESSION_SECRET,
      sessionIndex: redisSessionIndex(client),
    }),
    beforeOidc: (app, client) => {
      app.use(
        session({ name: 'app.sid', secret: SESSION_SECRET, store: new RedisStore({ client, prefix: 'sess:' }), resave: false, saveUninitialized: false }),
      );
    },
  },
];

async function logIn(server: LateServer, cookieName: string, user: string): Promise<Victim> {
  const browser = new Browser();
  const callback = await login(browser, `${server.url}/login`, user);
  assert.equal(callback.status, 302, `login failed: ${callback.body.slice(0, 200)}`);
  const value = await browser.cookie(server.url, cookieName);
  return { cookie: `${cookieName}=${value ?? ''}`, id: sessionIdFromCookie(value) };
}

async function ownLogout(server: LateServer, victim: Victim): Promise<void> {
  const answer = await send(`${server.url}/logout`, victim.cookie, { method: 'POST', headers: ACCEPT_JSON });
  assert.equal(answer.status, 200, `POST /logout answered ${String(answer.status)}: ${answer.body.slice(0, 200)}`);
}

for (const path of REDIS_PATHS)
  describe(`an ended session stays ended when its mark is gone: ${path.name}`, { skip: REDIS_SUITE_SKIP }, () => {
    let redis: RedisServer;
    let client: RedisClient;
    let indexClient: RedisClient;
    let op: TestProvider;
    let a: LateServer;
    let b: LateServer;
    const gates = new Gates();

    before(async () => {
      ({ redis, client } = await startRedisWithClient());
      indexClient = path.separateIndexClient ? await connectClient(redis) : client;
      a = await lateServer();
      b = await lateServer();
      op = await providerForInstances([a, b]);
      for (const server of [a, b]) {
        const beforeOidc = path.beforeOidc === undefined ? undefined : (app: express.Express) => path.beforeOidc?.(app, client);
        server.setHandler(
          buildApp(path.options(op, server, client, indexClient), {
            jsonErrors: true,
            ...(beforeOidc === undefined ? {} : { beforeOidc }),
            routes: (app) => {
              addRaceRoutes(app, gates);
            },
          }),
        );
      }
    });
    afterEach(async () => {
      gates.openAll();
      await relieve(client);
    });
    after(async () => {
      await a.close();
      await b.close();
      await op.close();
      if (indexClient !== client) await indexClient.quit().catch(() => undefined);
      await client.quit().catch(() => undefined);
      await redis.close();
    });

    const ways = [
      ['evicted by Redis (volatile-lru, flooded with volatile keys)', (key: string) => evictUntilGone(client, key)],
      ['deleted by hand', (key: string) => client.del(key)],
    ] as const;
    for (const [how, remove] of ways) {
      test(
        `a mark ${how} while a request of the ended session is held open: nothing is written back, and the old cookie gets 401 on both instances`,
        LIMIT,
        async () => {
          const victim = await logIn(a, path.cookieName, `lost-mark-${how.split(' ')[0] ?? ''}`);
          const gate = gates.create();
          // A request of the session that changes it, held with the session loaded on instance A.
          const answer = send(`${a.url}/race/visit?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
          await reached(gate, answer);
          await ownLogout(b, victim);
          const mark = `oidc:ended:{sess:${victim.id}}`;
          assert.equal(await client.exists(mark), 1, 'the logout left its mark');
          await remove(mark);
          assert.equal(await client.exists(mark), 0, 'the mark is gone');

          gate.open();
          await answer;
          assert.equal(await client.exists(`sess:${victim.id}`), 0, 'the request in flight wrote nothing back');
          for (const server of [a, b]) await assertLoggedOut(await browserWith(victim.cookie, server.url), server.url);
        },
      );
    }
  });

/** The in-memory index, with every ended mark lost: as if the mark could never be written. */
function forgetfulIndex(): SessionIndex {
  const inner = memorySessionIndex();
  return { ...inner, markEnded: () => Promise.resolve(), atomicWriter: (store) => inner.atomicWriter?.(store) };
}

describe('an ended session stays ended when its mark is gone: MemoryStore with the in-memory index', () => {
  let op: TestProvider;
  let a: LateServer;
  let b: LateServer;
  const gates = new Gates();

  before(async () => {
    a = await lateServer();
    b = await lateServer();
    op = await providerForInstances([a, b]);
    // Two instances in one process sharing one MemoryStore and one index: B's logout is news to A.
    const store = new session.MemoryStore();
    const sessionIndex = forgetfulIndex();
    for (const server of [a, b]) {
      server.setHandler(
        buildApp(
          { ...baseOptions(op.issuer, server.url), session: { secret: SESSION_SECRET, store }, sessionIndex },
          {
            jsonErrors: true,
            routes: (app) => {
              addRaceRoutes(app, gates);
            },
          },
        ),
      );
    }
  });
  afterEach(() => {
    gates.openAll();
  });
  after(async () => {
    await a.close();
    await b.close();
    await op.close();
  });

  test(
    'a logout on one instance whose mark is lost, while a request of the session is held open on the other: nothing is written back, and the old cookie gets 401 on both',
    LIMIT,
    async () => {
      const victim = await logIn(a, 'oidc.sid', 'lost-mark-memory');
      const gate = gates.create();
      const answer = send(`${a.url}/race/visit?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
      await reached(gate, answer);
      await ownLogout(b, victim);
      gate.open();
      assert.equal((await answer).status, 200);
      for (const server of [a, b]) await assertLoggedOut(await browserWith(victim.cookie, server.url), server.url);
    },
  );
});

/**
 * The atomic script on its own, where the request's read before the write cannot help: the
 * key vanishes between that read and the script (a logout on another instance, its mark
 * evicted at once), and only the script's own check stands between them.
 */
describe('the Redis write script refuses an update of a session key that is gone', { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let client: RedisClient;
  before(async () => {
    ({ redis, client } = await startRedisWithClient());
  });
  after(async () => {
    await client.quit().catch(() => undefined);
    await redis.close();
  });

  test("an update of a missing key writes nothing; the callback's create writes; an update of a live key writes", async () => {
    const writer = redisSessionIndex(client).atomicWriter?.(new RedisStore({ client, prefix: 'sess:' }));
    assert.ok(writer !== undefined, "connect-redis on the index's own client gets the atomic writer");
    const data = { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, oidc: { login: { claims: 'c', tokens: 't', loggedInAt: 1 } } };
    assert.equal(await writer.setUnlessEnded('gone', data, 'update'), 'ended');
    assert.equal(await client.exists('sess:gone'), 0, 'the update created nothing');
    assert.equal(await writer.setUnlessEnded('new', data, 'create'), 'written');
    assert.equal(await writer.setUnlessEnded('new', data, 'update'), 'written');
    assert.equal(await client.exists('sess:new'), 1);
  });
});
