import { OidcAuthError, OidcAuthErrorCode } from '../../errors.js';

/**
 * The tables of the PostgreSQL session index, and every statement on them. Values are always
 * parameters ($1…); the only text put into SQL is a table name built from a schema and
 * prefix that passed IDENTIFIER below, quoted, so no input of any request reaches SQL text.
 *
 * Expiry times are the app's clock (parameters in epoch milliseconds), as connect-pg-simple's
 * own `expire` is: every instance judges "expired" the way it judges the session itself.
 */

/** Letters, digits and underscores: an identifier that needs no escaping, from the app's configuration only. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;

export interface PostgresTables {
  /** sid and sub entries: (key, session_id), key = "sid:"/"sub:" + issuer + ":" + keyed hash */
  readonly index: string;
  /** ended marks: session_id until expires_at */
  readonly ended: string;
  /** claims (refresh lock, logout-token jti): key held by owner until expires_at */
  readonly claims: string;
}

/** Checks the configured names and returns the quoted, schema-qualified table names. */
export function postgresTables(schema: string | undefined, prefix: string): PostgresTables {
  const problems: string[] = [];
  if (schema !== undefined && !IDENTIFIER.test(schema)) problems.push(`"schema" must be letters, digits and underscores (got ${JSON.stringify(schema)})`);
  if (!IDENTIFIER.test(prefix)) problems.push(`"tablePrefix" must be letters, digits and underscores (got ${JSON.stringify(prefix)})`);
  if (problems.length > 0) throw new OidcAuthError(OidcAuthErrorCode.CONFIG_INVALID, 500, `postgresSessionIndex: ${problems.join('; ')}`);
  const name = (table: string): string => (schema === undefined ? `"${prefix}${table}"` : `"${schema}"."${prefix}${table}"`);
  return { index: name('index'), ended: name('ended'), claims: name('claims') };
}

/** The unquoted name of an index on one of the tables (CREATE INDEX names it without a schema). */
function indexName(table: string, column: string): string {
  const bare = table.slice(table.lastIndexOf('"', table.length - 2) + 1, -1);
  return `"${bare}_${column}"`;
}

/**
 * Creates the tables if they are missing. Several instances starting at once would race in
 * CREATE TABLE IF NOT EXISTS (two creators collide on the catalogue's unique index), so the
 * statements run in one implicit transaction (one simple query, no parameters) behind a
 * transaction-scoped advisory lock: the second instance waits, then finds them made.
 */
export function createTablesSql(t: PostgresTables): string {
  return [
    "SELECT pg_advisory_xact_lock(hashtext('express-oidc-auth: create tables'))",
    `CREATE TABLE IF NOT EXISTS ${t.index} (key text NOT NULL, session_id text NOT NULL, expires_at timestamptz NOT NULL, PRIMARY KEY (key, session_id))`,
    `CREATE INDEX IF NOT EXISTS ${indexName(t.index, 'expires_at')} ON ${t.index} (expires_at)`,
    `CREATE TABLE IF NOT EXISTS ${t.ended} (session_id text PRIMARY KEY, expires_at timestamptz NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS ${indexName(t.ended, 'expires_at')} ON ${t.ended} (expires_at)`,
    `CREATE TABLE IF NOT EXISTS ${t.claims} (key text PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS ${indexName(t.claims, 'expires_at')} ON ${t.claims} (expires_at)`,
  ].join(';\n');
}

/** epoch milliseconds (a parameter) as a timestamptz */
const at = (param: string): string => `to_timestamp(${param}::double precision / 1000)`;

export function indexSql(t: PostgresTables) {
  return {
    /** $1 keys, $2 session id, $3 expiry: one entry per key; a second login of the id overwrites its expiry, as ZADD does */
    add: `INSERT INTO ${t.index} (key, session_id, expires_at) SELECT unnest($1::text[]), $2::text, ${at('$3')} ON CONFLICT (key, session_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
    /** $1 keys, $2 session id */
    remove: `DELETE FROM ${t.index} WHERE key = ANY($1::text[]) AND session_id = $2`,
    /** $1 key, $2 now */
    lookup: `SELECT session_id FROM ${t.index} WHERE key = $1 AND expires_at > ${at('$2')}`,
    /**
     * $1 key, $2 owner, $3 expiry, $4 now: a row comes back only for the caller that got the
     * claim. ON CONFLICT locks the row, so of two callers at once exactly one inserts or takes
     * over a lapsed claim; the other sees it held.
     */
    claim: `INSERT INTO ${t.claims} AS c (key, owner, expires_at) VALUES ($1, $2, ${at('$3')}) ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at WHERE c.expires_at <= ${at('$4')} RETURNING key`,
    /** $1 key, $2 owner: only our own claim, one that lapsed may belong to another instance by now */
    release: `DELETE FROM ${t.claims} WHERE key = $1 AND owner = $2`,
    /** $1 session id, $2 expiry: a second mark never shortens the first */
    markEnded: `INSERT INTO ${t.ended} AS e (session_id, expires_at) VALUES ($1, ${at('$2')}) ON CONFLICT (session_id) DO UPDATE SET expires_at = GREATEST(e.expires_at, EXCLUDED.expires_at)`,
    /** $1 session id, $2 now */
    isEnded: `SELECT 1 AS ended FROM ${t.ended} WHERE session_id = $1 AND expires_at > ${at('$2')}`,
    /**
     * $1 now, $2 most rows per table: expired rows, a bounded batch from each table (the
     * expires_at indexes find them), so that no app needs a cron job and no clean-up holds
     * locks for long.
     */
    cleanup: [t.index, t.ended, t.claims].map(
      (table) => `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE expires_at <= ${at('$1')} LIMIT $2))`,
    ),
  };
}

/**
 * connect-pg-simple's own write ("INSERT … ON CONFLICT (sid) DO UPDATE", sess json, expire
 * from to_timestamp(seconds)) with the ended mark's check in the same statement, so that no
 * write lands after an end (C1 and W1 of ended-marks.ts without their window). `session`
 * is the store's own quotedTable(). $1 sess (JSON text), $2 expire (epoch seconds), $3 sid,
 * $4 now (epoch ms). A row comes back when the session was written.
 */
export function atomicWriteSql(session: string, t: PostgresTables) {
  const notEnded = `NOT EXISTS (SELECT 1 FROM ${t.ended} WHERE session_id = $3::text AND expires_at > ${at('$4')})`;
  return {
    /** the callback's first save of a new login: the only write that may create the row */
    create: `INSERT INTO ${session} (sess, expire, sid) SELECT $1::json, to_timestamp($2::double precision), $3::text WHERE ${notEnded} ON CONFLICT (sid) DO UPDATE SET sess = EXCLUDED.sess, expire = EXCLUDED.expire RETURNING sid`,
    /**
     * every later write: only over a row that is still there and not expired (connect-pg-simple
     * reads no session past its expire), so a login a logout deleted stays deleted, mark or not.
     * A DELETE running at the same time either comes first (no row to update) or waits for the
     * row lock and deletes what this wrote: either way the last word is the delete.
     */
    update: `UPDATE ${session} SET sess = $1::json, expire = to_timestamp($2::double precision) WHERE sid = $3::text AND expire >= ${at('$4')} AND ${notEnded} RETURNING sid`,
  };
}
