import { RedisStore } from 'connect-redis';
import express from 'express';
import { oidcAuth, redisSessionIndex, requiresAuth, type OidcAuthHandler, type OidcAuthOptions } from '../../lib/index.js';
import { addTestRoutes, baseOptions, clientFor, jsonErrorHandler, SESSION_SECRET } from './app.js';
import type { LateServer } from './late-server.js';
import { WITH_REFRESH_TOKEN } from './logout.js';
import { startTestProvider, type TestProvider } from './provider.js';
import type { RedisClient } from './redis.js';

/** One client registered for several app instances (each its own callback and post-logout URI); the back-channel URI is the first one's. */
export function providerForInstances(servers: readonly LateServer[]): Promise<TestProvider> {
  const [first] = servers;
  if (first === undefined) throw new Error('at least one instance');
  return startTestProvider({
    clients: [{ ...clientFor(first.url), redirect_uris: servers.map((s) => `${s.url}/callback`), post_logout_redirect_uris: servers.map((s) => `${s.url}/`) }],
  });
}

/**
 * The documented multi-instance setup: sessions in connect-redis, redisSessionIndex on the
 * same client (or, given `indexClient`, on a client of its own), a refresh token.
 */
export function sharedRedisOptions(issuer: string, server: LateServer, client: RedisClient, indexClient: RedisClient = client): OidcAuthOptions {
  return {
    ...baseOptions(issuer, server.url),
    ...WITH_REFRESH_TOKEN,
    session: { secret: SESSION_SECRET, store: new RedisStore({ client, prefix: 'sess:' }) },
    sessionIndex: redisSessionIndex(indexClient),
  };
}

/**
 * An app instance as the README's "sign out everywhere" recipe has it: oidcAuth, the test
 * routes, `POST /admin/end-user?sub=` calling `endSessions({ sub })`, `extra` routes of the
 * test's own, and JSON errors.
 */
/** The user's own session routes, as the README's sessions recipe has them: list them, end one. */
export function selfServiceRoutes(app: express.Express, auth: OidcAuthHandler): void {
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
}

export function appWithSessionAdmin(options: OidcAuthOptions, extra: (app: express.Express, auth: OidcAuthHandler) => void = () => undefined): express.Express {
  const app = express();
  app.set('env', 'test');
  const auth = oidcAuth(options);
  app.use(auth);
  addTestRoutes(app);
  // An administrator's action (in a real app behind its own authorization).
  app.post('/admin/end-user', (req, res, next) => {
    auth.endSessions({ sub: typeof req.query['sub'] === 'string' ? req.query['sub'] : '' }, { request: req }).then((result) => res.json(result), next);
  });
  extra(app, auth);
  app.use(jsonErrorHandler);
  return app;
}
