import type express from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type pg from 'pg';
import { postgresSessionIndex, type OidcAuthOptions, type PostLogoutContext } from '../../lib/index.js';
import { baseOptions, SESSION_SECRET } from './app.js';
import { appWithSessionAdmin, selfServiceRoutes } from './instances.js';
import type { LateServer } from './late-server.js';
import { WITH_REFRESH_TOKEN } from './logout.js';

const PGStore = connectPgSimple(session);

/**
 * The documented PostgreSQL setup: connect-pg-simple and postgresSessionIndex on one pool, a
 * refresh token; plus the session admin's routes as an app would have them (behind its own
 * authorization in a real app), and every postLogout seen in `ended`.
 */
export function postgresInstance(
  issuer: string,
  at: LateServer,
  pool: pg.Pool,
  ended: PostLogoutContext[] = [],
  extra: Partial<OidcAuthOptions> = {},
): express.Express {
  return appWithSessionAdmin(
    {
      ...baseOptions(issuer, at.url),
      ...WITH_REFRESH_TOKEN,
      session: { secret: SESSION_SECRET, store: new PGStore({ pool, createTableIfMissing: true, pruneSessionInterval: false }) },
      sessionIndex: postgresSessionIndex(pool),
      hooks: { postLogout: (ctx) => void ended.push(ctx) },
      ...extra,
    },
    selfServiceRoutes,
  );
}

/** Rows of the session table and of the index for one session id. */
export async function rowsOf(pool: pg.Pool, sessionId: string): Promise<{ session: number; index: number }> {
  const { rows } = await pool.query<{ session: string; index: string }>(
    'SELECT (SELECT count(*) FROM session WHERE sid = $1) AS session, (SELECT count(*) FROM oidc_index WHERE session_id = $1) AS index',
    [sessionId],
  );
  return { session: Number(rows[0]?.session ?? -1), index: Number(rows[0]?.index ?? -1) };
}
