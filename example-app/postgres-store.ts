import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import pg from 'pg';
import { postgresSessionIndex, type Logger, type SessionIndex } from '../lib/index.js';

export interface PostgresSessionStore {
  readonly store: session.Store;
  /** the package's session index on the same pool: back-channel logout reaches every instance, logins are written atomically with the ended check */
  readonly sessionIndex: SessionIndex;
  /** stops connect-pg-simple's pruning and closes the pool */
  close(): Promise<void>;
}

/**
 * Sessions in PostgreSQL through connect-pg-simple, and the session index on the same pool.
 * Fails fast when the database cannot be reached at start; afterwards the pool opens new
 * connections as needed, and requests meanwhile fail with 503 from oidcAuth.
 */
export async function connectPostgresStore(url: string, logger: Logger): Promise<PostgresSessionStore> {
  // connectionTimeoutMillis: a database that does not answer fails a request's connection
  // instead of queueing it forever (oidcAuth answers 503 after 3 s either way).
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 3000 });
  // An idle connection the server cut (restart, failover) is reported here; unheard, it would crash the process.
  pool.on('error', (err: Error) => {
    logger.warn({ error: err.message }, 'postgres: connection problem');
  });
  await pool.query('SELECT 1');
  const PGStore = connectPgSimple(session);
  const store = new PGStore({ pool, createTableIfMissing: true });
  return {
    store,
    sessionIndex: postgresSessionIndex(pool),
    async close() {
      // Stops its pruning timer; the pool is ours to end.
      store.close();
      await pool.end();
    },
  };
}
