import type { SessionData, Store } from 'express-session';

/**
 * What the package needs of a connect-pg-simple `PGStore` (v10 is tested; any release with
 * these methods) to write its sessions itself, exactly as connect-pg-simple would: the same
 * table (its own quotedTable(), schema included), the same connection (its own query(), which
 * also creates its table first when `createTableIfMissing` is on), the same expiry.
 * Recognised by shape, so the package does not depend on connect-pg-simple.
 */
export interface ConnectPgSimpleStore {
  /** the quoted, schema-qualified session table */
  quotedTable(): string;
  /** runs a statement on the store's own pool; the first row, or undefined when none came back */
  query(sql: string, params: unknown[]): Promise<Record<string, unknown> | undefined>;
  /** the expire connect-pg-simple gives a session, in epoch seconds */
  expireOf(data: SessionData): number;
}

/** connect-pg-simple's default when a session has no cookie expiry and no `ttl` is set. */
const ONE_DAY_SEC = 86_400;

type QueryCallback = (err: unknown, firstRow?: Record<string, unknown>) => void;

interface PgStoreFields {
  quotedTable(): unknown;
  query(sql: string, params: unknown[], fn: QueryCallback): void;
  pruneSessions: unknown;
  ttl?: unknown;
}

export function asConnectPgSimpleStore(store: Store): ConnectPgSimpleStore | undefined {
  const fields = store as unknown as Partial<PgStoreFields>;
  if (typeof fields.quotedTable !== 'function' || typeof fields.query !== 'function' || typeof fields.pruneSessions !== 'function') return undefined;
  const pgStore = store as unknown as PgStoreFields;
  const table = pgStore.quotedTable();
  if (typeof table !== 'string') return undefined;
  return {
    quotedTable: () => table,
    query: (sql, params) =>
      new Promise((resolve, reject) => {
        pgStore.query(sql, params, (err, firstRow) => {
          if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error('connect-pg-simple query failed', { cause: err }));
          else resolve(firstRow);
        });
      }),
    expireOf(data) {
      // connect-pg-simple's own rule: the cookie's expiry when it has one, else its ttl (seconds) from now.
      // Read, never set: the typings deprecate setting `expires`, but it is what connect-pg-simple reads.
      const expires: unknown = Reflect.get(data.cookie, 'expires');
      if (expires instanceof Date || (typeof expires === 'string' && expires !== '') || (typeof expires === 'number' && expires !== 0))
        return Math.ceil(new Date(expires).valueOf() / 1000);
      const ttl = typeof pgStore.ttl === 'number' && pgStore.ttl > 0 ? pgStore.ttl : ONE_DAY_SEC;
      return Math.ceil(Date.now() / 1000 + ttl);
    },
  };
}
