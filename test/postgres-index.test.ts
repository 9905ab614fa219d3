import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import session, { type SessionData } from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type pg from 'pg';
import { isOidcAuthError, OidcAuthErrorCode, postgresSessionIndex, type PostgresPool } from '../lib/index.js';
import { poolFor, POSTGRES_SUITE_SKIP, rowCounts, startPostgres, type PostgresServer } from './helpers/postgres.js';

const PGStore = connectPgSimple(session);
const ISSUER = 'https://idp.example';

function loginData(expiresInMs: number | undefined): SessionData {
  // What a store is handed: the cookie as plain data (express-session's Cookie, serialised).
  const cookie: unknown = { originalMaxAge: expiresInMs ?? null, ...(expiresInMs === undefined ? {} : { expires: new Date(Date.now() + expiresInMs) }) };
  return { cookie: cookie as SessionData['cookie'], oidc: { login: { claims: 'sealed-claims', tokens: 'sealed-tokens', loggedInAt: 1 } } };
}

function storeGet(store: session.Store, id: string): Promise<SessionData | null | undefined> {
  return new Promise((resolve, reject) => {
    store.get(id, (err: unknown, data?: SessionData | null) => {
      if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error('get failed'));
      else resolve(data);
    });
  });
}

function storeSet(store: session.Store, id: string, data: SessionData): Promise<void> {
  return new Promise((resolve, reject) => {
    store.set(id, data, (err?: unknown) => {
      if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error('set failed'));
      else resolve();
    });
  });
}

describe('the PostgreSQL session index on its own', { skip: POSTGRES_SUITE_SKIP }, () => {
  let server: PostgresServer;
  let pool: pg.Pool;

  before(async () => {
    server = await startPostgres();
    pool = poolFor(server);
  });
  after(async () => {
    await pool.end();
    await server.close();
  });

  test('anything but a node-postgres pool, and bad table names, are refused at once', () => {
    for (const notPool of [{}, { query: () => undefined }, null, 'postgres://x']) {
      assert.throws(
        () => postgresSessionIndex(notPool as unknown as PostgresPool),
        (err: unknown) => isOidcAuthError(err) && err.code === OidcAuthErrorCode.CONFIG_INVALID && /new Pool\(\) from "pg"/.test(err.message),
      );
    }
    assert.throws(() => postgresSessionIndex(pool, { tablePrefix: 'x"; DROP TABLE session; --' }), /"tablePrefix" must be letters, digits and underscores/);
    assert.throws(() => postgresSessionIndex(pool, { schema: 'a.b' }), /"schema" must be letters, digits and underscores/);
    assert.throws(() => postgresSessionIndex(pool, { cleanupEvery: 0 }), /"cleanupEvery" must be a whole number/);
  });

  test('ten instances starting at once create the tables once, without an error', async () => {
    const indexes = Array.from({ length: 10 }, () => postgresSessionIndex(pool, { tablePrefix: 'race_' }));
    await Promise.all(indexes.map((index, i) => index.markEnded(`session-${String(i)}`, 60_000)));
    const counts = await rowCounts(pool);
    assert.equal(counts['race_ended'], 10);
    assert.equal(counts['race_index'], 0);
    assert.equal(counts['race_claims'], 0);
  });

  test('createTables: false creates nothing; the SQL of docs/several-instances.md makes the tables it needs', async () => {
    const index = postgresSessionIndex(pool, { tablePrefix: 'mine_', createTables: false });
    await assert.rejects(index.isEnded('x'), /relation "mine_ended" does not exist/);
    assert.equal((await rowCounts(pool))['mine_ended'], undefined);

    const guide = readFileSync(path.resolve(import.meta.dirname, '..', 'docs', 'several-instances.md'), 'utf8');
    const sql = /createTables: false[\s\S]*?```sql\n([\s\S]*?)```/.exec(guide)?.[1];
    assert.ok(sql !== undefined, 'docs/several-instances.md has the SQL');
    // In a schema of its own, as a migration would run it there: the guide's names are the defaults.
    const client = await pool.connect();
    try {
      await client.query('CREATE SCHEMA migrated; SET search_path TO migrated');
      await client.query(sql);
      await client.query('SET search_path TO public');
    } finally {
      client.release();
    }
    const migrated = postgresSessionIndex(pool, { schema: 'migrated', createTables: false });
    await migrated.add({ issuer: ISSUER, sub: 'm', sid: 'm-sid', sessionId: 'm-1' }, 60_000);
    await migrated.markEnded('m-1', 60_000);
    assert.equal(await migrated.claimOnce('m-claim', 60_000), true);
    assert.deepEqual(await migrated.lookup(ISSUER, { sid: 'm-sid' }), ['m-1']);
    assert.equal(await migrated.isEnded('m-1'), true);
  });

  test('sessions are found by sid and by sub until they expire or are removed', async () => {
    const index = postgresSessionIndex(pool);
    // The index compares expiries with the app's clock (Date.now(), passed to each query): the
    // test moves it, so a loaded machine cannot expire the 30 ms entry before it is looked up.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      await index.add({ issuer: ISSUER, sub: 'h-sub', sid: 'h-sid-1', sessionId: 's1' }, 60_000);
      await index.add({ issuer: ISSUER, sub: 'h-sub', sid: 'h-sid-2', sessionId: 's2' }, 60_000);
      await index.add({ issuer: ISSUER, sub: 'h-sub', sid: undefined, sessionId: 's3' }, 30);
      assert.deepEqual(await index.lookup(ISSUER, { sid: 'h-sid-1' }), ['s1']);
      mock.timers.tick(29);
      assert.deepEqual((await index.lookup(ISSUER, { sub: 'h-sub' })).sort(), ['s1', 's2', 's3'], 'found until its 30 ms are up');
      assert.deepEqual(await index.lookup('https://other.example', { sub: 'h-sub' }), [], "another issuer's sub is another user");
      mock.timers.tick(1);
      assert.deepEqual((await index.lookup(ISSUER, { sub: 'h-sub' })).sort(), ['s1', 's2'], 'the expired entry is not found');
      await index.remove({ issuer: ISSUER, sub: 'h-sub', sid: 'h-sid-1', sessionId: 's1' });
      assert.deepEqual(await index.lookup(ISSUER, { sid: 'h-sid-1' }), []);
      assert.deepEqual(await index.lookup(ISSUER, { sub: 'h-sub' }), ['s2']);
      assert.deepEqual(await index.lookup(ISSUER, {}), []);
    } finally {
      mock.timers.reset();
    }
  });

  test('of 20 claims at once from two instances exactly one wins; only its holder releases it; a lapsed claim can be taken', async () => {
    const first = postgresSessionIndex(pool);
    const second = postgresSessionIndex(pool);
    const won = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? first : second).claimOnce('refresh:one', 60_000)));
    assert.equal(won.filter(Boolean).length, 1);
    const holder = won.findIndex(Boolean) % 2 === 0 ? first : second;
    const other = holder === first ? second : first;
    await other.release('refresh:one');
    assert.equal(await other.claimOnce('refresh:one', 60_000), false, 'still held: only its holder gives it back');
    await holder.release('refresh:one');
    assert.equal(await other.claimOnce('refresh:one', 60_000), true, 'released by its holder');
    await other.release('refresh:one');

    assert.equal(await first.claimOnce('refresh:lapsed', 20), true);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(await second.claimOnce('refresh:lapsed', 60_000), true, 'the lapsed claim can be taken');
    await first.release('refresh:lapsed');
    assert.equal(await first.claimOnce('refresh:lapsed', 60_000), false, "the first holder's late release did not free the second's claim");
  });

  test('an ended mark is seen by every instance until it expires, and a second mark never shortens it', async () => {
    const first = postgresSessionIndex(pool);
    const second = postgresSessionIndex(pool);
    await first.markEnded('ended-1', 60_000);
    await second.markEnded('ended-1', 10);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await second.isEnded('ended-1'), true);
    assert.equal(await second.isEnded('never-ended'), false);
    await first.markEnded('ended-2', 10);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await first.isEnded('ended-2'), false);
  });

  test('expired rows are deleted by the writes themselves, every cleanupEvery-th write, with no cron job', async () => {
    const index = postgresSessionIndex(pool, { tablePrefix: 'tidy_', cleanupEvery: 10 });
    // writes 0 to 4: short-lived rows in each table (write 0 cleans up, before any has expired)
    for (let i = 0; i < 3; i++) await index.markEnded(`short-${String(i)}`, 200);
    await index.claimOnce('short-claim', 200);
    await index.add({ issuer: ISSUER, sub: 'u', sid: 's', sessionId: 'short' }, 200);
    await new Promise((r) => setTimeout(r, 250));
    // writes 5 to 9: no clean-up, the expired rows stay
    for (let i = 0; i < 5; i++) await index.markEnded(`long-${String(i)}`, 60_000);
    assert.deepEqual(await rowCounts(pool).then((c) => [c['tidy_ended'], c['tidy_claims'], c['tidy_index']]), [8, 1, 2]);
    // write 10 cleans up, in the background
    await index.markEnded('long-5', 60_000);
    for (let i = 0; i < 50; i++) {
      const counts = await rowCounts(pool);
      if (counts['tidy_ended'] === 6 && counts['tidy_index'] === 0 && counts['tidy_claims'] === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await rowCounts(pool), {}, 'expired rows were left behind');
  });

  test("connect-pg-simple's sessions, written by the index: an update of a missing row writes nothing, the callback's create writes, an ended id takes no write", async () => {
    const store = new PGStore({ pool, createTableIfMissing: true, pruneSessionInterval: false });
    const index = postgresSessionIndex(pool);
    const writer = index.atomicWriter?.(store);
    assert.ok(writer !== undefined, 'connect-pg-simple gets the atomic writer');
    assert.equal(index.atomicWriter?.(new session.MemoryStore()), undefined, 'another store does not');
    const data = loginData(60_000);
    assert.equal(await writer.setUnlessEnded('gone', data, 'update'), 'ended');
    assert.equal((await storeGet(store, 'gone')) ?? null, null, 'the update created nothing');
    assert.equal(await writer.setUnlessEnded('new', data, 'create'), 'written');
    assert.equal(await writer.setUnlessEnded('new', { ...data, note: 'changed' } as SessionData, 'update'), 'written');
    assert.equal(((await storeGet(store, 'new')) as { note?: string } | null)?.note, 'changed', 'connect-pg-simple reads what the index wrote');

    await index.markEnded('new', 60_000);
    assert.equal(await writer.setUnlessEnded('new', loginData(60_000), 'update'), 'ended', 'no update of a marked id');
    await index.markEnded('fresh', 60_000);
    assert.equal(await writer.setUnlessEnded('fresh', data, 'create'), 'ended', 'no create of a marked id');
    assert.equal((await storeGet(store, 'fresh')) ?? null, null);
  });

  test("an update sent while a logout's delete holds the row waits for it, then writes nothing", { timeout: 120_000 }, async () => {
    const store = new PGStore({ pool, createTableIfMissing: true, pruneSessionInterval: false });
    const index = postgresSessionIndex(pool);
    const writer = index.atomicWriter?.(store);
    assert.ok(writer !== undefined);
    assert.equal(await writer.setUnlessEnded('held', loginData(60_000), 'create'), 'written');
    // A logout whose mark was lost, as one transaction left open: its delete, not yet committed.
    const logout = await pool.connect();
    try {
      await logout.query('BEGIN');
      await logout.query('DELETE FROM session WHERE sid = $1', ['held']);
      const holder = (await logout.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const update = writer.setUnlessEnded('held', { ...loginData(60_000), note: 'late' } as SessionData, 'update');
      // The gate: the write is seen waiting for the logout's transaction (no timing involved).
      for (;;) {
        const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [holder]);
        if (rows[0]?.n === '1') break;
        await new Promise((r) => setImmediate(r));
      }
      await logout.query('COMMIT');
      assert.equal(await update, 'ended', 'the row it waited for is gone: nothing written');
    } finally {
      logout.release();
    }
    assert.equal((await storeGet(store, 'held')) ?? null, null);
  });

  test('the expire the index writes is the one connect-pg-simple computes itself (cookie expiry, else its ttl)', async () => {
    const store = new PGStore({ pool, ttl: 1234, createTableIfMissing: true, pruneSessionInterval: false });
    const writer = postgresSessionIndex(pool).atomicWriter?.(store);
    assert.ok(writer !== undefined);
    for (const [name, data] of [
      ['with-expiry', loginData(90_000)],
      ['without-expiry', loginData(undefined)],
    ] as const) {
      await storeSet(store, `${name}-by-store`, data);
      await writer.setUnlessEnded(`${name}-by-index`, data, 'create');
      const { rows } = await pool.query<{ sid: string; expire: Date }>('SELECT sid, expire FROM session WHERE sid = ANY($1::text[]) ORDER BY sid', [
        [`${name}-by-index`, `${name}-by-store`],
      ]);
      const [byIndex, byStore] = rows.map((r) => r.expire.valueOf());
      assert.ok(byIndex !== undefined && byStore !== undefined);
      assert.ok(Math.abs(byIndex - byStore) <= 1000, `${name}: ${String(byIndex)} vs ${String(byStore)}`);
    }
  });
});
