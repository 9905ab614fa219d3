import { after, before, describe } from 'node:test';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type pg from 'pg';
import { postgresSessionIndex } from '../lib/index.js';
import { poolFor, POSTGRES_SUITE_SKIP, startPostgres, type PostgresServer } from './helpers/postgres.js';
import { sharedStoreSuite } from './helpers/shared-store-suite.js';

const PGStore = connectPgSimple(session);

/* The suite every Redis client passes (test/redis-clients-single.test.ts), on PostgreSQL: connect-pg-simple and the index on one pool. */
describe('two instances on PostgreSQL', { skip: POSTGRES_SUITE_SKIP }, () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server.close();
  });

  /** A pool for one setup; a space is a table prefix of the index's own. */
  function backend(pool: pg.Pool, store: session.Store, schema?: string) {
    return {
      store,
      index: (space?: string) =>
        postgresSessionIndex(pool, {
          ...(schema === undefined ? {} : { schema }),
          ...(space === undefined ? {} : { tablePrefix: `${space.replace('-', '_')}_` }),
        }),
      close: async () => {
        await pool.end();
      },
    };
  }

  sharedStoreSuite({
    name: 'connect-pg-simple (its default table) and the index in public',
    atomic: true,
    connect() {
      const pool = poolFor(server);
      return Promise.resolve(backend(pool, new PGStore({ pool, createTableIfMissing: true, pruneSessionInterval: false })));
    },
  });

  sharedStoreSuite({
    name: 'connect-pg-simple in a schema and table of its own, the index in another schema',
    atomic: true,
    async connect() {
      const pool = poolFor(server);
      await pool.query('CREATE SCHEMA IF NOT EXISTS app; CREATE SCHEMA IF NOT EXISTS auth');
      return backend(
        pool,
        new PGStore({ pool, schemaName: 'app', tableName: 'web_sessions', createTableIfMissing: true, pruneSessionInterval: false }),
        'auth',
      );
    },
  });
});
