import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, mock, test } from 'node:test';
import express from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type pg from 'pg';
import { oidcAuth, postgresSessionIndex } from '../lib/index.js';
import { ACCEPT_JSON, assertLoggedOut } from './helpers/assertions.js';
import { addTestRoutes, baseOptions, jsonErrorHandler, SESSION_SECRET } from './helpers/app.js';
import { Browser, login } from './helpers/browser.js';
import { addRaceRoutes, browserWith, Gates, holdRefreshAnswers, reached, send, slowJsonPost, type Answer, type Gate } from './helpers/gates.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { providerForInstances } from './helpers/instances.js';
import { logoutClaims, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';
import { sessionIdFromCookie, WITH_REFRESH_TOKEN } from './helpers/logout.js';
import { poolFor, POSTGRES_SUITE_SKIP, startPostgres, type PostgresServer } from './helpers/postgres.js';
import type { TestProvider } from './helpers/provider.js';

const PGStore = connectPgSimple(session);

/** Idle lifetime of the apps: longer than the provider's one-hour access tokens (see logout-races.test.ts). */
const IDLE_SEC = 7200;
const NOTE_AFTER_SEC = Math.min(60, Math.ceil(IDLE_SEC / 10));
/** A safety net against a request left hanging by a failed test; no ordering depends on it. */
const LIMIT = { timeout: 120_000 };

interface Victim {
  user: string;
  cookie: string;
  id: string;
  sid: string;
}

/**
 * The forced races of test/logout-races.test.ts on PostgreSQL: connect-pg-simple and the index
 * on one pool, so every write of a login is one statement with the ended-mark check, and an
 * update needs the row to be there.
 */
describe('logout is final on PostgreSQL: a request still in flight cannot bring an ended session back', { skip: POSTGRES_SUITE_SKIP }, () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  let op: TestProvider;
  let a: LateServer;
  let b: LateServer;
  const gates = new Gates();

  function instance(at: LateServer): express.Express {
    const app = express();
    app.set('env', 'test');
    const store = new PGStore({ pool, createTableIfMissing: true, pruneSessionInterval: false });
    const auth = oidcAuth({
      ...baseOptions(op.issuer, at.url),
      ...WITH_REFRESH_TOKEN,
      session: { secret: SESSION_SECRET, store },
      sessionIndex: postgresSessionIndex(pool),
      lifetime: { idleSec: IDLE_SEC },
    });
    app.use(auth);
    addTestRoutes(app);
    addRaceRoutes(app, gates);
    // An administrator's action (in a real app behind its own authorization).
    app.post('/admin/end-user', (req, res, next) => {
      auth.endSessions({ sub: typeof req.query['sub'] === 'string' ? req.query['sub'] : '' }, { request: req }).then((result) => res.json(result), next);
    });
    app.use(jsonErrorHandler);
    return app;
  }

  before(async () => {
    server = await startPostgres();
    pool = poolFor(server);
    a = await lateServer();
    b = await lateServer();
    op = await providerForInstances([a, b]);
    a.setHandler(instance(a));
    b.setHandler(instance(b));
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
    await pool.end();
    await server.close();
  });

  const count = async (sql: string, id: string): Promise<number> => Number((await pool.query<{ n: string }>(sql, [id])).rows[0]?.n ?? 0);
  const sessionRows = (id: string): Promise<number> => count('SELECT count(*) AS n FROM session WHERE sid = $1', id);
  const indexRows = (id: string): Promise<number> => count('SELECT count(*) AS n FROM oidc_index WHERE session_id = $1', id);

  async function logIn(at: LateServer, user: string): Promise<Victim> {
    const browser = new Browser();
    const callback = await login(browser, `${at.url}/login`, user);
    assert.equal(callback.status, 302, `login failed: ${callback.body.slice(0, 200)}`);
    const value = await browser.cookie(at.url, 'oidc.sid');
    const tokens = JSON.parse((await browser.get(`${at.url}/test/tokens`)).body) as { idToken: string };
    const sid = sidOf(tokens.idToken);
    assert.ok(sid !== undefined, 'the ID token carries a sid');
    const victim: Victim = { user, cookie: `oidc.sid=${value ?? ''}`, id: sessionIdFromCookie(value), sid };
    assert.equal(await sessionRows(victim.id), 1, 'the session is in the store');
    assert.equal(await indexRows(victim.id), 2, 'the session is in the index, under its sub and its sid');
    return victim;
  }

  async function backchannelLogout(at: LateServer, victim: Victim): Promise<void> {
    const answer = await postLogoutToken(at.url, await signLogoutToken(op, logoutClaims(op, victim.user, victim.sid)));
    assert.equal(answer.status, 200, `back-channel logout answered ${String(answer.status)}: ${await answer.text()}`);
  }

  async function ownLogout(at: LateServer, victim: Victim): Promise<void> {
    const answer = await send(`${at.url}/logout`, victim.cookie, { method: 'POST', headers: ACCEPT_JSON });
    assert.equal(answer.status, 200, `POST /logout answered ${String(answer.status)}: ${answer.body.slice(0, 200)}`);
  }

  async function adminEnd(at: LateServer, victim: Victim): Promise<void> {
    const answer = await send(`${at.url}/admin/end-user?sub=${victim.user}`, '', { method: 'POST', headers: ACCEPT_JSON });
    assert.equal(answer.status, 200, `endSessions answered ${String(answer.status)}: ${answer.body.slice(0, 200)}`);
  }

  /** The old cookie gets 401 on both instances, and neither the session table nor the index holds the session. */
  async function assertEnded(victim: Victim, when: string): Promise<void> {
    for (const [name, at] of [
      ['A', a],
      ['B', b],
    ] as const) {
      try {
        await assertLoggedOut(await browserWith(victim.cookie, at.url), at.url);
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
    assert.equal(await sessionRows(victim.id), 0, `${when}: the session table holds the session again`);
    assert.equal(await indexRows(victim.id), 0, `${when}: the session index lists the session`);
  }

  /** Held at its gate with the session loaded; the logout runs; the request is let go and answers; the session stays ended. */
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
      const victim = await logIn(a, where === 'the same instance' ? 'pg-race-same' : 'pg-race-other');
      const gate = gates.create();
      const answer = send(`${a.url}/race/visit?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
      await race(victim, gate, answer, () => backchannelLogout(via(), victim));
    });
  }

  test('a back-channel logout, while a request that only gets the idle-lifetime activity note is in flight, leaves the session ended', LIMIT, async () => {
    const victim = await logIn(a, 'pg-race-idle');
    mock.timers.enable({ apis: ['Date'], now: Date.now() + (NOTE_AFTER_SEC + 1) * 1000 });
    const gate = gates.create();
    const answer = send(`${b.url}/race/read?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
    await race(victim, gate, answer, () => backchannelLogout(a, victim));
  });

  test("the user's own logout on one instance, while another tab's request is in flight on the other, leaves the session ended", LIMIT, async () => {
    const victim = await logIn(a, 'pg-race-tabs');
    const gate = gates.create();
    const answer = send(`${a.url}/race/visit?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
    await race(victim, gate, answer, () => ownLogout(b, victim));
  });

  test('endSessions() on one instance, while a request of the session is in flight on the other, leaves the session ended', LIMIT, async () => {
    const victim = await logIn(a, 'pg-race-admin');
    const gate = gates.create();
    const answer = send(`${a.url}/race/visit?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
    await race(victim, gate, answer, () => adminEnd(b, victim));
  });

  test(
    'a token refresh whose answer from the provider is still on its way when a back-channel logout ends the session leaves the session ended',
    LIMIT,
    async () => {
      const victim = await logIn(a, 'pg-race-refresh');
      const gate = gates.create();
      holdRefreshAnswers(op, gate);
      mock.timers.enable({ apis: ['Date'], now: Date.now() + 3601 * 1000 });
      const answer = send(`${a.url}/api/token`, victim.cookie, { headers: ACCEPT_JSON });
      await race(victim, gate, answer, () => backchannelLogout(b, victim));
    },
  );

  test('a JSON body still trickling in when a back-channel logout ends the session leaves the session ended', LIMIT, async () => {
    const victim = await logIn(b, 'pg-race-slow');
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

  test('the ended mark deleted by hand before the held request finishes changes nothing: the update finds no row and writes nothing', LIMIT, async () => {
    const victim = await logIn(a, 'pg-lost-mark');
    const gate = gates.create();
    const answer = send(`${a.url}/race/visit?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
    await reached(gate, answer);
    await ownLogout(b, victim);
    assert.equal((await pool.query('DELETE FROM oidc_ended WHERE session_id = $1', [victim.id])).rowCount, 1, 'the logout left its mark, now deleted');
    gate.open();
    await answer;
    await assertEnded(victim, 'after the request in flight finished without the mark');
  });

  test("the ended mark lives as long as the session could have (7 days after login) plus the README's 5 minutes for clock drift", LIMIT, async () => {
    const loggedInAt = Date.now();
    const victim = await logIn(a, 'pg-race-mark');
    await ownLogout(b, victim);
    const { rows } = await pool.query<{ expires_at: Date }>('SELECT expires_at FROM oidc_ended WHERE session_id = $1', [victim.id]);
    const expected = loggedInAt + 7 * 24 * 3600 * 1000 + 5 * 60 * 1000;
    const actual = rows[0]?.expires_at.valueOf() ?? 0;
    assert.ok(Math.abs(actual - expected) <= 5_000, `the mark expires at ${String(actual)}, expected about ${String(expected)}`);
  });
});
