import express from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type pg from 'pg';
import { oidcAuth, postgresSessionIndex, requiresAuth, type OidcAuthOptions, type PostLogoutContext } from '../../lib/index.js';
import { addTestRoutes, baseOptions, jsonErrorHandler, SESSION_SECRET } from './app.js';
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
  const app = express();
  app.set('env', 'test');
  const auth = oidcAuth({
    ...baseOptions(issuer, at.url),
    ...WITH_REFRESH_TOKEN,
    session: { secret: SESSION_SECRET, store: new PGStore({ pool, createTableIfMissing: true, pruneSessionInterval: false }) },
    sessionIndex: postgresSessionIndex(pool),
    hooks: { postLogout: (ctx) => void ended.push(ctx) },
    ...extra,
  });
  app.use(auth);
  addTestRoutes(app);
  app.post('/admin/end-user', (req, res, next) => {
    auth.endSessions({ sub: typeof req.query['sub'] === 'string' ? req.query['sub'] : '' }, { request: req }).then((result) => res.json(result), next);
  });
  app.get(
    '/me/sessions',
    requiresAuth((req, res, next) => {
      auth.listSessions({ sub: req.oidc.user.sub }, { request: req }).then((sessions) => res.json(sessions), next);
    }),
  );
  app.post(
    '/me/sessions/end',
    requiresAuth((req, res, next) => {
      auth
        .endSessions({ sub: req.oidc.user.sub, session: typeof req.query['session'] === 'string' ? req.query['session'] : '' }, { request: req })
        .then((result) => res.json(result), next);
    }),
  );
  app.use(jsonErrorHandler);
  return app;
}

/** Rows of the session table and of the index for one session id. */
export async function rowsOf(pool: pg.Pool, sessionId: string): Promise<{ session: number; index: number }> {
  const { rows } = await pool.query<{ session: string; index: string }>(
    'SELECT (SELECT count(*) FROM session WHERE sid = $1) AS session, (SELECT count(*) FROM oidc_index WHERE session_id = $1) AS index',
    [sessionId],
  );
  return { session: Number(rows[0]?.session ?? -1), index: Number(rows[0]?.index ?? -1) };
}
