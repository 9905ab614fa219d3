import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type pg from 'pg';
import type { PostLogoutContext } from '../lib/index.js';
import { ACCEPT_JSON, assertLoggedInAs, assertLoggedOut, jsonOf } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { providerForInstances } from './helpers/instances.js';
import { logoutClaims, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';
import { sessionIdFromCookie } from './helpers/logout.js';
import { databaseText, poolFor, POSTGRES_SUITE_SKIP, rowCounts, startPostgres, type PostgresServer } from './helpers/postgres.js';
import { postgresInstance, rowsOf } from './helpers/postgres-instances.js';
import type { TestProvider } from './helpers/provider.js';
import { flood } from './helpers/redis-pressure.js';

interface Tokens {
  accessToken: string;
  idToken: string;
  refreshToken?: string;
}

interface SessionRow {
  session: string;
  current: boolean;
}

describe('several app instances sharing PostgreSQL', { skip: POSTGRES_SUITE_SKIP }, () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  let op: TestProvider;
  let a: LateServer;
  let b: LateServer;
  const ended: PostLogoutContext[] = [];

  before(async () => {
    server = await startPostgres();
    pool = poolFor(server);
    a = await lateServer();
    b = await lateServer();
    op = await providerForInstances([a, b]);
    const frontchannel = { routes: { frontchannelLogout: '/frontchannel-logout' } };
    a.setHandler(postgresInstance(op.issuer, a, pool, ended, frontchannel));
    b.setHandler(postgresInstance(op.issuer, b, pool, ended, frontchannel));
  });
  after(async () => {
    await a.close();
    await b.close();
    await op.close();
    await pool.end();
    await server.close();
  });

  async function loggedIn(at: LateServer, user: string): Promise<{ browser: Browser; id: string; tokens: Tokens }> {
    const browser = new Browser();
    assert.equal((await login(browser, `${at.url}/login`, user)).status, 302);
    const tokens = jsonOf(await browser.get(`${at.url}/test/tokens`, ACCEPT_JSON)) as Tokens;
    return { browser, id: sessionIdFromCookie(await browser.cookie(at.url, 'oidc.sid')), tokens };
  }

  test('log in through A, use through B; logout through B ends it on both and leaves no row of that session', async () => {
    const { browser, id } = await loggedIn(a, 'pg-erin');
    await assertLoggedInAs(browser, b.url, 'pg-erin');
    assert.deepEqual(await rowsOf(pool, id), { session: 1, index: 2 });
    assert.equal((await browser.request(`${b.url}/logout`, { method: 'POST' })).status, 303);
    await assertLoggedOut(browser, a.url);
    await assertLoggedOut(browser, b.url);
    assert.deepEqual(await rowsOf(pool, id), { session: 0, index: 0 });
  });

  test('a back-channel logout by sub alone, delivered to A, ends every session of the user made on B', async () => {
    const first = await loggedIn(b, 'pg-frank');
    const second = await loggedIn(b, 'pg-frank');
    const other = await loggedIn(b, 'pg-gus');
    assert.equal((await postLogoutToken(a.url, await signLogoutToken(op, logoutClaims(op, 'pg-frank', undefined)))).status, 200);
    for (const s of [first, second]) {
      await assertLoggedOut(s.browser, a.url);
      await assertLoggedOut(s.browser, b.url);
      assert.deepEqual(await rowsOf(pool, s.id), { session: 0, index: 0 });
    }
    await assertLoggedInAs(other.browser, a.url, 'pg-gus');
  });

  test('a front-channel logout (an iframe without the cookie) on A ends a session made on B', async () => {
    const { browser, id, tokens } = await loggedIn(b, 'pg-hugo');
    const query = new URLSearchParams({ iss: op.issuer, sid: sidOf(tokens.idToken) ?? '' });
    const answer = await fetch(`${a.url}/frontchannel-logout?${query.toString()}`);
    assert.equal(answer.status, 200);
    await answer.arrayBuffer();
    await assertLoggedOut(browser, b.url);
    await assertLoggedOut(browser, a.url);
    assert.deepEqual(await rowsOf(pool, id), { session: 0, index: 0 });
  });

  test('a logout token replayed to the other instance is refused: the replay memory is shared', async () => {
    const { tokens } = await loggedIn(a, 'pg-gina');
    const token = await signLogoutToken(op, logoutClaims(op, 'pg-gina', sidOf(tokens.idToken)));
    assert.equal((await postLogoutToken(a.url, token)).status, 200);
    const replay = await postLogoutToken(b.url, token);
    assert.equal(replay.status, 400);
    assert.match(((await replay.json()) as { error_description: string }).error_description, /already used/);
  });

  test("endSessions({ sub }) on A ends the user's sessions made on A and B, revokes their tokens, runs postLogout once each", async () => {
    const sessions = [await loggedIn(a, 'pg-ada'), await loggedIn(b, 'pg-ada'), await loggedIn(b, 'pg-ada')];
    const other = await loggedIn(b, 'pg-bob');
    ended.length = 0;
    const answer = await new Browser().request(`${a.url}/admin/end-user?sub=pg-ada`, { method: 'POST', headers: ACCEPT_JSON });
    assert.deepEqual(jsonOf(answer), { ended: 3 });
    for (const s of sessions) {
      await assertLoggedOut(s.browser, a.url);
      await assertLoggedOut(s.browser, b.url);
      assert.deepEqual(await rowsOf(pool, s.id), { session: 0, index: 0 });
      assert.equal((await op.introspect(s.tokens.accessToken)).active, false);
      assert.equal((await op.introspect(s.tokens.refreshToken ?? '')).active, false);
    }
    await assertLoggedInAs(other.browser, a.url, 'pg-bob');
    assert.deepEqual(
      ended.map((e) => [e.trigger, e.user?.sub]),
      [
        ['admin', 'pg-ada'],
        ['admin', 'pg-ada'],
        ['admin', 'pg-ada'],
      ],
    );
  });

  test('listSessions shows the sessions made on both instances, without their ids; one ended by its handle logs only that browser out', async () => {
    const first = await loggedIn(a, 'pg-cyd');
    const second = await loggedIn(b, 'pg-cyd');
    const listed = jsonOf(await first.browser.get(`${b.url}/me/sessions`, ACCEPT_JSON)) as SessionRow[];
    assert.deepEqual(listed.map((row) => row.current).sort(), [false, true]);
    for (const row of listed) assert.ok(row.session !== first.id && row.session !== second.id, 'a handle is not the session id');
    const notCurrent = listed.find((row) => !row.current);
    assert.ok(notCurrent !== undefined);
    const answer = await first.browser.request(`${a.url}/me/sessions/end?session=${encodeURIComponent(notCurrent.session)}`, {
      method: 'POST',
      headers: ACCEPT_JSON,
    });
    assert.deepEqual(jsonOf(answer), { ended: 1 });
    await assertLoggedOut(second.browser, a.url);
    await assertLoggedInAs(first.browser, b.url, 'pg-cyd');
  });

  test('1,000 cookieless GET /login and 1,000 cookieless POST /logout add no row to any table', async () => {
    const before = await rowCounts(pool);
    assert.ok(Object.keys(before).length >= 4, `the tables exist already: ${JSON.stringify(before)}`);
    assert.deepEqual([...(await flood(`${a.url}/login`, 1000, { method: 'GET' }))], [[302, 1000]]);
    assert.deepEqual([...(await flood(`${b.url}/logout`, 1000, { method: 'POST', headers: ACCEPT_JSON }))], [[200, 1000]]);
    assert.deepEqual(await rowCounts(pool), before);
  });

  test("the database's text, after logins, holds no token, sub, email or sid", async () => {
    const users = ['pg-atrest-hal', 'pg-atrest-ivo'];
    const forbidden: { what: string; value: string }[] = [];
    for (const user of users) {
      const { tokens, id } = await loggedIn(a, user);
      const claims = decodeJwt(tokens.idToken);
      // The values really exist, so that finding none of them in the database means something.
      assert.equal(claims['email'], `${user}@example.test`);
      assert.ok(tokens.refreshToken !== undefined);
      assert.deepEqual(await rowsOf(pool, id), { session: 1, index: 2 }, 'the login is stored, so that its absence from the text means something');
      forbidden.push(
        { what: `${user} access token`, value: tokens.accessToken },
        { what: `${user} refresh token`, value: tokens.refreshToken },
        { what: `${user} ID token payload`, value: tokens.idToken.split('.')[1] ?? '' },
        { what: `${user} email`, value: `${user}@example.test` },
        { what: `${user} sub`, value: user },
        { what: `${user} sid`, value: sidOf(tokens.idToken) ?? '' },
      );
    }
    const text = await databaseText(pool);
    const leaks = forbidden.filter(({ value }) => value.length > 0 && text.includes(value)).map(({ what }) => what);
    assert.deepEqual(leaks, []);
  });
});
