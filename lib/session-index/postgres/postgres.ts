import { randomUUID } from 'node:crypto';
import { asConnectPgSimpleStore } from './connect-pg-simple-store.js';
import { OidcAuthError, OidcAuthErrorCode } from '../../errors.js';
import { atomicWriteSql, createTablesSql, indexSql, postgresTables } from './postgres-tables.js';
import { entryKeys, type SessionIndex, type SessionIndexEntry } from '../session-index.js';

/**
 * What the index uses of a node-postgres `pg.Pool` (pg 8): parameterised queries. Recognised
 * by shape, so the package does not depend on `pg` (an optional peer dependency).
 */
export interface PostgresPool {
  /** runs one parameterised statement */
  query(
    text: string,
    values?: unknown[],
  ): Promise<{
    /** the rows it returned */
    rows: unknown[];
  }>;
  /** checks out a client (part of the shape by which a pool is recognised) */
  connect(): unknown;
  /** how many clients the pool holds (part of the shape by which a pool is recognised) */
  readonly totalCount: number;
}

/** Options of `postgresSessionIndex(pool, options)`. */
export interface PostgresSessionIndexOptions {
  /** schema of the index's tables. Default: none (the connection's search_path, usually `public`) */
  schema?: string;
  /** prefix of the index's table names (`<prefix>index`, `<prefix>ended`, `<prefix>claims`). Default `oidc_` */
  tablePrefix?: string;
  /**
   * create the tables on first use (CREATE TABLE IF NOT EXISTS, safe when several instances
   * start at once). Default `true`; `false` for apps that run their own migrations (the SQL
   * is in the README's PostgreSQL section)
   */
  createTables?: boolean;
  /** after how many writes (logins, ended marks, claims) one bounded batch of expired rows is deleted from each table. Default 100 */
  cleanupEvery?: number;
}

/** Most rows one clean-up deletes from one table: short statements, short locks. */
const CLEANUP_BATCH = 1000;

function isPool(value: unknown): value is PostgresPool {
  if (typeof value !== 'object' || value === null) return false;
  const fields = value as Record<string, unknown>;
  return typeof fields['query'] === 'function' && typeof fields['connect'] === 'function' && typeof fields['totalCount'] === 'number';
}

type Row = Record<string, unknown>;

/**
 * A session index shared by every app instance, in PostgreSQL: one row per (sid or sub key,
 * session id), ended marks and claims in tables of their own, all with an expiry. A
 * back-channel logout is one primary-key lookup, whatever the number of sessions stored.
 * With connect-pg-simple as the session store (same database), a login is written in one
 * statement with its ended-mark check, as the Redis index writes connect-redis's key.
 */
export function postgresSessionIndex(pool: PostgresPool, options: PostgresSessionIndexOptions = {}): SessionIndex {
  if (!isPool(pool)) {
    throw new OidcAuthError(
      OidcAuthErrorCode.CONFIG_INVALID,
      500,
      'postgresSessionIndex: the pool must be a node-postgres pool (new Pool() from "pg" 8), the one connect-pg-simple is given.',
    );
  }
  const cleanupEvery = options.cleanupEvery ?? 100;
  if (!Number.isInteger(cleanupEvery) || cleanupEvery < 1) {
    throw new OidcAuthError(
      OidcAuthErrorCode.CONFIG_INVALID,
      500,
      `postgresSessionIndex: "cleanupEvery" must be a whole number of writes, 1 or more (got ${JSON.stringify(cleanupEvery)})`,
    );
  }
  const tables = postgresTables(options.schema, options.tablePrefix ?? 'oidc_');
  const sql = indexSql(tables);
  // Who holds a claim: this index object, one per app instance.
  const owner = randomUUID();

  let creating: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    if (options.createTables === false) return Promise.resolve();
    // Once per instance; a failure (database down at start) is retried by the next call.
    creating ??= pool.query(createTablesSql(tables)).then(
      () => undefined,
      (err: unknown) => {
        creating = undefined;
        throw err;
      },
    );
    return creating;
  };
  const query = async (text: string, values: unknown[]): Promise<Row[]> => {
    await ready();
    return (await pool.query(text, values)).rows as Row[];
  };

  let writes = 0;
  // Expired rows go without a cron job: every cleanupEvery-th write (the first one included,
  // so a restarted app tidies up) deletes a bounded batch from each table, in the background.
  // Each write adds at most two rows to a table, so a batch of 1000 per 100 writes keeps up.
  const wrote = (): void => {
    if (writes++ % cleanupEvery !== 0) return;
    const now = Date.now();
    void sql.cleanup
      .reduce<Promise<unknown>>((previous, statement) => previous.then(() => pool.query(statement, [now, CLEANUP_BATCH])), Promise.resolve())
      // A failed clean-up loses nothing: the rows are expired, and the next one deletes them.
      .catch(() => undefined);
  };
  const keysOf = (e: SessionIndexEntry): string[] => entryKeys(e, (kind, value) => `${kind}:${e.issuer}:${value}`);

  return {
    shared: true,
    async add(entry, ttlMs) {
      await query(sql.add, [keysOf(entry), entry.sessionId, Date.now() + ttlMs]);
      wrote();
    },
    async remove(entry) {
      await query(sql.remove, [keysOf(entry), entry.sessionId]);
    },
    async lookup(issuer, { sid, sub }) {
      const key = sid !== undefined ? `sid:${issuer}:${sid}` : sub !== undefined ? `sub:${issuer}:${sub}` : undefined;
      if (key === undefined) return [];
      const rows = await query(sql.lookup, [key, Date.now()]);
      return rows.map((row) => String(row['session_id']));
    },
    async claimOnce(key, ttlMs) {
      const now = Date.now();
      const rows = await query(sql.claim, [key, owner, now + Math.max(1, Math.ceil(ttlMs)), now]);
      wrote();
      return rows.length === 1;
    },
    async release(key) {
      await query(sql.release, [key, owner]);
    },
    async markEnded(sessionId, ttlMs) {
      await query(sql.markEnded, [sessionId, Date.now() + Math.max(1, Math.ceil(ttlMs))]);
      wrote();
    },
    async isEnded(sessionId) {
      return (await query(sql.isEnded, [sessionId, Date.now()])).length > 0;
    },
    atomicWriter(store) {
      // Only connect-pg-simple: its table and this index's in one database (the app gives both
      // the same pool), so that one statement can write the session and check the mark.
      const pgStore = asConnectPgSimpleStore(store);
      if (pgStore === undefined) return undefined;
      const write = atomicWriteSql(pgStore.quotedTable(), tables);
      return {
        async setUnlessEnded(sessionId, data, mode) {
          await ready();
          // Through the store's own connection, where connect-pg-simple reads the session back.
          const row = await pgStore.query(mode === 'create' ? write.create : write.update, [
            JSON.stringify(data),
            pgStore.expireOf(data),
            sessionId,
            Date.now(),
          ]);
          return row === undefined ? 'ended' : 'written';
        },
      };
    },
  };
}
