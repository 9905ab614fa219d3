import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { ACCEPT_JSON, assertLoggedInAs, assertLoggedOut, jsonOf } from './helpers/assertions.js';
import { authorize, Browser, deliver, login } from './helpers/browser.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { providerForInstances } from './helpers/instances.js';
import { logoutClaims, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';
import { poolFor, POSTGRES_SUITE_SKIP, startPostgres, type PostgresServer } from './helpers/postgres.js';
import { postgresInstance } from './helpers/postgres-instances.js';
import type { TestProvider } from './helpers/provider.js';
import { STORE_TIMEOUT_MS } from '../lib/session/store-calls.js';

/**
 * What an anonymous request may take while the database is down: far below the store's 3 s
 * deadline, which a request that asked the database would wait out (when it hangs); loose
 * enough for a loaded CI machine.
 */
const ANONYMOUS_BOUND_MS = 1000;

describe('PostgreSQL stopped while two instances serve', { skip: POSTGRES_SUITE_SKIP }, () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  let op: TestProvider;
  let a: LateServer;
  let b: LateServer;

  before(async () => {
    server = await startPostgres();
    pool = poolFor(server);
    a = await lateServer();
    b = await lateServer();
    op = await providerForInstances([a, b]);
    a.setHandler(postgresInstance(op.issuer, a, pool));
    b.setHandler(postgresInstance(op.issuer, b, pool));
  });
  after(async () => {
    await a.close();
    await b.close();
    await op.close();
    await pool.end();
    await server.close();
  });

  async function timed<T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const started = performance.now();
    const value = await call();
    return { value, ms: performance.now() - started };
  }

  test('logged-in requests answer 503 OIDC_SESSION_STORE_FAILED within the store deadline, anonymous ones are not slowed; restarted, everything works again and a logout made before stays made', async () => {
    const kept = new Browser();
    assert.equal((await login(kept, `${a.url}/login`, 'pg-kim')).status, 302);
    const kimTokens = jsonOf(await kept.get(`${a.url}/test/tokens`, ACCEPT_JSON)) as { idToken: string };
    const leaver = new Browser();
    assert.equal((await login(leaver, `${b.url}/login`, 'pg-lou')).status, 302);
    assert.equal((await leaver.request(`${a.url}/logout`, { method: 'POST' })).status, 303);
    const newcomer = new Browser();
    const answer = await authorize(newcomer, `${a.url}/login`, 'pg-mia');

    await server.stop();
    for (const at of [a, b]) {
      const { value: profile, ms } = await timed(() => kept.get(`${at.url}/profile`, ACCEPT_JSON));
      assert.equal(profile.status, 503, `a logged-in request answered ${String(profile.status)}: ${profile.body.slice(0, 200)}`);
      assert.equal((jsonOf(profile) as { code: string }).code, 'OIDC_SESSION_STORE_FAILED');
      assert.ok(ms < STORE_TIMEOUT_MS + 1000, `answered in ${String(Math.round(ms))} ms`);
      const { value: home, ms: anonymousMs } = await timed(() => new Browser().get(`${at.url}/`, ACCEPT_JSON));
      assert.equal(home.status, 200);
      assert.ok(anonymousMs < ANONYMOUS_BOUND_MS, `an anonymous request took ${String(Math.round(anonymousMs))} ms`);
      assert.equal((await new Browser().get(`${at.url}/login`)).status, 302, 'a login transaction lives in cookies, not in the database');
    }
    assert.equal((await deliver(newcomer, answer)).status, 503, 'the session a successful login creates cannot be stored');
    assert.equal((await kept.request(`${b.url}/logout`, { method: 'POST', headers: ACCEPT_JSON })).status, 503, 'a logout that cannot end the session says so');
    const backchannel = await postLogoutToken(a.url, await signLogoutToken(op, logoutClaims(op, 'pg-kim', sidOf(kimTokens.idToken))));
    assert.equal(backchannel.status, 503);
    assert.equal(((await backchannel.json()) as { error: string }).error, 'temporarily_unavailable');

    await server.start();
    // The pool opens new connections by itself; the app is not restarted.
    for (
      let i = 0;
      i < 100 &&
      !(await pool.query('SELECT 1').then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    await assertLoggedInAs(kept, a.url, 'pg-kim');
    await assertLoggedInAs(kept, b.url, 'pg-kim');
    await assertLoggedOut(leaver, a.url);
    await assertLoggedOut(leaver, b.url);
    const fresh = new Browser();
    assert.equal((await login(fresh, `${b.url}/login`, 'pg-mia')).status, 302);
    await assertLoggedInAs(fresh, a.url, 'pg-mia');
    assert.equal(
      (await postLogoutToken(a.url, await signLogoutToken(op, logoutClaims(op, 'pg-kim', undefined)))).status,
      200,
      'the back-channel logout the provider retries now succeeds',
    );
    await assertLoggedOut(kept, b.url);
  });

  test('PostgreSQL hanging (every process stopped, connections open): logged-in requests answer 503 within the store deadline, anonymous ones are not slowed; thawed, the session works again', async () => {
    const kept = new Browser();
    assert.equal((await login(kept, `${b.url}/login`, 'pg-ned')).status, 302);
    server.freeze();
    try {
      for (const at of [a, b]) {
        const { value: profile, ms } = await timed(() => kept.get(`${at.url}/profile`, ACCEPT_JSON));
        assert.equal(profile.status, 503, `a logged-in request answered ${String(profile.status)}: ${profile.body.slice(0, 200)}`);
        assert.equal((jsonOf(profile) as { code: string }).code, 'OIDC_SESSION_STORE_FAILED');
        assert.ok(ms < STORE_TIMEOUT_MS + 1000, `answered in ${String(Math.round(ms))} ms`);
        const { value: home, ms: anonymousMs } = await timed(() => new Browser().get(`${at.url}/`, ACCEPT_JSON));
        assert.equal(home.status, 200);
        assert.ok(anonymousMs < ANONYMOUS_BOUND_MS, `an anonymous request took ${String(Math.round(anonymousMs))} ms`);
      }
    } finally {
      server.thaw();
    }
    await assertLoggedInAs(kept, a.url, 'pg-ned');
  });
});
