import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type express from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type pg from 'pg';
import { postgresSessionIndex } from '../lib/index.js';
import { baseOptions, buildApp, SESSION_SECRET } from './helpers/app.js';
import { ACCEPT_JSON, assertLoggedOut } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';
import { addRaceRoutes, browserWith, Gates, reached, send } from './helpers/gates.js';
import { providerForInstances } from './helpers/instances.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { logoutClaims, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';
import { sessionIdFromCookie } from './helpers/logout.js';
import { poolFor, POSTGRES_SUITE_SKIP, startPostgres, type PostgresServer } from './helpers/postgres.js';
import type { TestProvider } from './helpers/provider.js';

const PGStore = connectPgSimple(session);
/** A safety net against a request left hanging by a failed test; no ordering depends on it. */
const LIMIT = { timeout: 120_000 };

/**
 * The app mounts express-session with connect-pg-simple itself (`session: false`): its saves
 * go through connect-pg-simple's own upsert, so the package reads the row before each write
 * of a login and checks the mark after it (ended-marks.ts), instead of its one statement.
 */
describe("logout is final on PostgreSQL with the app's own express-session (session: false)", { skip: POSTGRES_SUITE_SKIP }, () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  let op: TestProvider;
  let a: LateServer;
  let b: LateServer;
  const gates = new Gates();

  before(async () => {
    server = await startPostgres();
    pool = poolFor(server);
    a = await lateServer();
    b = await lateServer();
    op = await providerForInstances([a, b]);
    for (const at of [a, b]) {
      const options = { ...baseOptions(op.issuer, at.url), session: false as const, secret: SESSION_SECRET, sessionIndex: postgresSessionIndex(pool) };
      const beforeOidc = (app: express.Express): void => {
        app.use(
          session({
            name: 'app.sid',
            secret: SESSION_SECRET,
            store: new PGStore({ pool, createTableIfMissing: true, pruneSessionInterval: false }),
            resave: false,
            saveUninitialized: false,
          }),
        );
      };
      at.setHandler(
        buildApp(options, {
          jsonErrors: true,
          beforeOidc,
          routes: (app) => {
            addRaceRoutes(app, gates);
          },
        }),
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
    await pool.end();
    await server.close();
  });

  const sessionRows = async (id: string): Promise<number> =>
    Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM session WHERE sid = $1', [id])).rows[0]?.n ?? -1);

  async function logIn(at: LateServer, user: string): Promise<{ cookie: string; id: string; user: string; sid: string }> {
    const browser = new Browser();
    assert.equal((await login(browser, `${at.url}/login`, user)).status, 302);
    const value = await browser.cookie(at.url, 'app.sid');
    const tokens = JSON.parse((await browser.get(`${at.url}/test/tokens`)).body) as { idToken: string };
    const victim = { cookie: `app.sid=${value ?? ''}`, id: sessionIdFromCookie(value), user, sid: sidOf(tokens.idToken) ?? '' };
    assert.equal(await sessionRows(victim.id), 1, 'the session is in the store');
    return victim;
  }

  test(
    'the ended mark deleted by hand while a request of the session is held open: nothing is written back, the old cookie gets 401 on both instances',
    LIMIT,
    async () => {
      const victim = await logIn(a, 'pg-own-lost-mark');
      const gate = gates.create();
      const answer = send(`${a.url}/race/visit?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
      await reached(gate, answer);
      const logout = await send(`${b.url}/logout`, victim.cookie, { method: 'POST', headers: ACCEPT_JSON });
      assert.equal(logout.status, 200, logout.body.slice(0, 300));
      assert.equal((await pool.query('DELETE FROM oidc_ended WHERE session_id = $1', [victim.id])).rowCount, 1, 'the logout left its mark, now deleted');
      gate.open();
      await answer;
      assert.equal(await sessionRows(victim.id), 0, 'the request in flight wrote nothing back');
      for (const at of [a, b]) await assertLoggedOut(await browserWith(victim.cookie, at.url), at.url);
    },
  );

  test('a back-channel logout through the other instance while a request of the session is held open leaves it ended', LIMIT, async () => {
    const victim = await logIn(a, 'pg-own-backchannel');
    const gate = gates.create();
    const answer = send(`${a.url}/race/visit?gate=${gate.name}`, victim.cookie, { headers: ACCEPT_JSON });
    await reached(gate, answer);
    const backchannel = await postLogoutToken(b.url, await signLogoutToken(op, logoutClaims(op, victim.user, victim.sid)));
    assert.equal(backchannel.status, 200, await backchannel.text());
    gate.open();
    await answer;
    assert.equal(await sessionRows(victim.id), 0);
    for (const at of [a, b]) await assertLoggedOut(await browserWith(victim.cookie, at.url), at.url);
  });
});
