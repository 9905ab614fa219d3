import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { startExample, type RunningExample } from '../example-app/start.js';
import { quietLogger } from './helpers/app.js';
import { Browser, login } from './helpers/browser.js';
import { poolFor, POSTGRES_SUITE_SKIP, rowCounts, startPostgres, type PostgresServer } from './helpers/postgres.js';

/* The example app with DATABASE_URL (example-app/server.ts passes it as databaseUrl); test/browser.test.ts clicks through it in memory and in Redis. */
describe('the example app with sessions in PostgreSQL', { skip: POSTGRES_SUITE_SKIP }, () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  let running: RunningExample;

  before(async () => {
    server = await startPostgres();
    pool = poolFor(server);
    running = await startExample({ port: 0, providerPort: 0, databaseUrl: server.url, logger: quietLogger });
  });
  after(async () => {
    await running.close();
    await pool.end();
    await server.close();
  });

  test('a login keeps its session and index rows in PostgreSQL, and a logout removes them', async () => {
    const browser = new Browser();
    assert.deepEqual(await rowCounts(pool), {}, 'nothing stored before a login, not even a table');
    assert.equal((await login(browser, `${running.url}/login`, 'pat')).status, 302);
    const profile = await browser.get(`${running.url}/profile`);
    assert.equal(profile.status, 200);
    assert.match(profile.body, /pat@example\.com/);
    const counts = await rowCounts(pool);
    assert.equal(counts['session'], 1);
    assert.equal(counts['oidc_index'], 2);
    assert.equal((await browser.request(`${running.url}/logout`, { method: 'POST' })).status, 303);
    const after = await rowCounts(pool);
    assert.equal(after['session'], 0);
    assert.equal(after['oidc_index'], 0);
    assert.equal(after['oidc_ended'], 1, 'the ended mark');
    assert.notEqual((await browser.get(`${running.url}/profile`)).status, 200);
  });

  test('REDIS_URL and DATABASE_URL together are refused: one place for the sessions', async () => {
    await assert.rejects(startExample({ port: 0, providerPort: 0, redisUrl: 'redis://127.0.0.1:1', databaseUrl: server.url, logger: quietLogger }), /not both/);
  });
});
