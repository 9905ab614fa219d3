import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, mock, test } from 'node:test';
import { ACCEPT_JSON, assertLoggedOut } from './helpers/assertions.js';
import { buildApp } from './helpers/app.js';
import { Browser, login } from './helpers/browser.js';
import { addRaceRoutes, browserWith, Gates, holdRefreshAnswers, reached, send, slowJsonPost, type Answer, type Gate } from './helpers/gates.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { providerForInstances, sharedRedisOptions } from './helpers/instances.js';
import { logoutClaims, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';
import { sessionIdFromCookie } from './helpers/logout.js';
import { type TestProvider } from './helpers/provider.js';
import { connectClient, REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';

/**
 * Idle lifetime of the apps. The package notes activity (lastSeenAt) once this many seconds
 * passed since the last note (lib/session/lifetime.ts). It is longer than the provider's one-hour
 * access tokens, so the refresh case can move the clock past their expiry without the
 * session idling out first.
 */
const IDLE_SEC = 7200;
const NOTE_AFTER_SEC = Math.min(60, Math.ceil(IDLE_SEC / 10));
/** A safety net against a request left hanging by a failed test; no ordering depends on it. */
const LIMIT = { timeout: 120_000 };

/** A logged-in session, as its browser holds it. */
interface Victim {
  user: string;
  /** the Cookie header of the browser (oidc.sid=s%3A<id>.<signature>) */
  cookie: string;
  /** the session id inside that cookie */
  id: string;
  /** the provider's session id, from the ID token */
  sid: string;
}

/**
 * Both ways the package keeps an end final: connect-redis on the index's own client, where a
 * session is written only if its id is not marked ended (one atomic step) and requests read
 * the session alone; and the index on a client of its own, where every write is checked
 * after the fact and every request reads the mark too (ended-marks.ts).
 */
const SETUPS = [
  { name: 'store and index on one client: writes atomic with the ended mark', separateIndexClient: false },
  { name: 'the index on a client of its own: the ended mark checked after each write and on each read', separateIndexClient: true },
] as const;

for (const setup of SETUPS)
  describe(`logout is final (${setup.name}): a request still in flight cannot bring an ended session back`, { skip: REDIS_SUITE_SKIP }, () => {
    let redis: RedisServer;
    let client: RedisClient;
    let indexClient: RedisClient;
    let op: TestProvider;
    let a: LateServer;
    let b: LateServer;
    const gates = new Gates();

    before(async () => {
      ({ redis, client } = await startRedisWithClient());
      indexClient = setup.separateIndexClient ? await connectClient(redis) : client;
      a = await lateServer();
      b = await lateServer();
      op = await providerForInstances([a, b]);
      for (const server of [a, b]) {
        const options = { ...sharedRedisOptions(op.issuer, server, client, indexClient), lifetime: { idleSec: IDLE_SEC } };
        server.setHandler(
          buildApp(options, {
            jsonErrors: true,
            routes: (app) => {
              addRaceRoutes(app, gates);
            },
          }),
        );
      }
    });

    afterEach(() => {
      gates.openAll();
      mock.timers.reset();
      op.server.setHandler(op.handler);
    });

    after(async () => {
      await a.close();
      await b.close();
      await op.close();
      if (indexClient !== client) await indexClient.quit().catch(() => undefined);
      await client.quit().catch(() => undefined);
      await redis.close();
    });

    /** Keys of the session index that list this session id: sorted sets under oidc: (string marker keys are not entries). */
    async function indexEntries(id: string): Promise<string[]> {
      const found: string[] = [];
      for (const key of await client.keys('oidc:*')) {
        if ((await client.type(key)) === 'zset' && (await client.zScore(key, id)) !== null) found.push(key);
      }
      return found;
    }

    async function logIn(server: LateServer, user: string): Promise<Victim> {
      const browser = new Browser();
      const callback = await login(browser, `${server.url}/login`, user);
      assert.equal(callback.status, 302, `login failed: ${callback.body.slice(0, 200)}`);
      const value = await browser.cookie(server.url, 'oidc.sid');
      const tokens = JSON.parse((await browser.get(`${server.url}/test/tokens`)).body) as { idToken: string };
      const sid = sidOf(tokens.idToken);
      assert.ok(sid !== undefined, 'the ID token carries a sid');
      const victim: Victim = { user, cookie: `oidc.sid=${value ?? ''}`, id: sessionIdFromCookie(value), sid };
      assert.equal(await client.exists(`sess:${victim.id}`), 1, 'the session is in the store');
      assert.notDeepEqual(await indexEntries(victim.id), [], 'the session is in the index');
      return victim;
    }

    async function backchannelLogout(server: LateServer, victim: Victim): Promise<void> {
      const answer = await postLogoutToken(server.url, await signLogoutToken(op, logoutClaims(op, victim.user, victim.sid)));
      assert.equal(answer.status, 200, `back-channel logout answered ${String(answer.status)}: ${await answer.text()}`);
    }

    async function ownLogout(server: LateServer, victim: Victim): Promise<void> {
      const answer = await send(`${server.url}/logout`, victim.cookie, { method: 'POST', headers: ACCEPT_JSON });
      assert.equal(answer.status, 200, `POST /logout answered ${String(answer.status)}: ${answer.body.slice(0, 200)}`);
    }

    /** The old cookie gets 401 on both instances, and neither the store nor the index holds the session. */
    async function assertEnded(victim: Victim, when: string): Promise<void> {
      for (const [name, server] of [
        ['A', a],
        ['B', b],
      ] as const) {
        try {
          await assertLoggedOut(await browserWith(victim.cookie, server.url), server.url);
        } catch (err) {
          if (!(err instanceof assert.AssertionError)) throw err;
          throw new assert.AssertionError({
            message: `${when}, the old cookie on instance ${name}: ${err.message}`,
            actual: err.actual,
            expected: err.expected,
            operator: err.operator,
          });
        }
      }
      assert.equal(await client.exists(`sess:${victim.id}`), 0, `${when}: the store holds sess:${victim.id} again`);
      assert.deepEqual(await indexEntries(victim.id), [], `${when}: the session index lists the session`);
    }

    /**
     * The race: the request is held at its gate with the session loaded; the logout runs; the
     * session must be ended; the request is let go (release) and answers; it must still be.
     */
    async function race(
      victim: Victim,
      gate: Gate,
      answer: Promise<Answer>,
      logout: () => Promise<void>,
      release: () => void = () => {
        gate.open();
      },
    ): Promise<void> {
      await reached(gate, answer);
      await logout();
      await assertEnded(victim, 'after the logout');
      release();
      await answer;
      await assertEnded(victim, 'after the request in flight finished');
    }

    for (const [where, via] of [
      ['the other instance', () => b],
      ['the same instance', () => a],
    ] as const) {
      test(`a back-channel logout through ${where}, while a request that changes the session is in flight, leaves the session ended`, LIMIT, async () => {
        const victim = await logIn(a, where === 'the same instance' ? 'race-same' : 'race-other');
        const gate = gates.create();
        const answer = send(`${a.url}/race/visit?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
        await race(victim, gate, answer, () => backchannelLogout(via(), victim));
      });
    }

    test(
      'a back-channel logout, while a request that changes nothing itself but gets the idle-lifetime activity note is in flight, leaves the session ended',
      LIMIT,
      async () => {
        const victim = await logIn(a, 'race-idle');
        // Time enough since login for the package to note activity on the next request (Date only; timers keep real time).
        mock.timers.enable({ apis: ['Date'], now: Date.now() + (NOTE_AFTER_SEC + 1) * 1000 });
        const gate = gates.create();
        const answer = send(`${b.url}/race/read?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
        await race(victim, gate, answer, () => backchannelLogout(a, victim));
      },
    );

    test("the user's own logout on one instance, while another tab's request is in flight on the other, leaves the session ended", LIMIT, async () => {
      const victim = await logIn(a, 'race-tabs');
      const gate = gates.create();
      const answer = send(`${a.url}/race/visit?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
      await race(victim, gate, answer, () => ownLogout(b, victim));
    });

    test(
      'a token refresh whose answer from the provider is still on its way when a back-channel logout ends the session leaves the session ended',
      LIMIT,
      async () => {
        const victim = await logIn(a, 'race-refresh');
        const gate = gates.create();
        // The provider issues the new tokens; its answer waits on the gate, with the app's refresh under way.
        holdRefreshAnswers(op, gate);
        // The access token (one hour) has expired, so /api/token refreshes it.
        mock.timers.enable({ apis: ['Date'], now: Date.now() + 3601 * 1000 });
        const answer = send(`${a.url}/api/token`, victim.cookie, { headers: ACCEPT_JSON });
        await race(victim, gate, answer, () => backchannelLogout(b, victim));
      },
    );

    test('a JSON body still trickling in when a back-channel logout ends the session leaves the session ended', LIMIT, async () => {
      const victim = await logIn(b, 'race-slow');
      const gate = gates.create();
      const post = slowJsonPost(`${b.url}/race/draft?gate=${gate.name}`, victim.cookie, { text: 'a draft the user was typing' }, 8);
      await race(
        victim,
        gate,
        post.answer,
        () => backchannelLogout(a, victim),
        () => {
          post.finish();
        },
      );
    });

    test('a second back-channel logout for the same sid, after a request in flight finished, leaves the session ended', LIMIT, async () => {
      const victim = await logIn(a, 'race-again');
      const gate = gates.create();
      const answer = send(`${a.url}/race/visit?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
      await reached(gate, answer);
      await backchannelLogout(b, victim);
      await assertEnded(victim, 'after the first back-channel logout');
      gate.open();
      await answer;
      await backchannelLogout(a, victim);
      await assertEnded(victim, 'after the second back-channel logout');
    });

    test("the session's index entries live as long as the session can (7 days, README's default absolute lifetime)", LIMIT, async () => {
      const loggedInAt = Date.now();
      const victim = await logIn(a, 'index-ttl');
      const keys = await indexEntries(victim.id);
      assert.equal(keys.length, 2, 'one entry under the sub, one under the sid');
      for (const key of keys) {
        const ttlMs = await client.pTTL(key);
        const expected = loggedInAt + 7 * 24 * 3600 * 1000 - Date.now();
        assert.ok(Math.abs(ttlMs - expected) <= 5_000, `${key} expires in ${String(ttlMs)} ms, expected about ${String(expected)} ms`);
        // the member's score is its own expiry, in epoch milliseconds
        const score = await client.zScore(key, victim.id);
        assert.ok(score !== null && Math.abs(score - (loggedInAt + 7 * 24 * 3600 * 1000)) <= 5_000, `score ${String(score)}`);
      }
      await ownLogout(a, victim);
    });

    test(
      "the ended mark lives as long as the session could have (7 days after login, README's default) plus the 5 minutes the README promises for clock drift",
      LIMIT,
      async () => {
        const loggedInAt = Date.now();
        const victim = await logIn(a, 'race-mark');
        await ownLogout(b, victim);
        const ttlMs = await client.pTTL(`oidc:ended:{sess:${victim.id}}`);
        // Both figures come from the README: lifetime.absoluteSec defaults to 7 days; marks outlive it by 5 minutes.
        const expected = loggedInAt + 7 * 24 * 3600 * 1000 + 5 * 60 * 1000 - Date.now();
        assert.ok(Math.abs(ttlMs - expected) <= 5_000, `the mark expires in ${String(ttlMs)} ms, expected about ${String(expected)} ms`);
        await assertEnded(victim, 'after the logout');
      },
    );
  });
