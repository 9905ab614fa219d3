import { pathToFileURL } from 'node:url';
import { RedisStore } from 'connect-redis';
import connectPgSimple from 'connect-pg-simple';
import express from 'express';
import session from 'express-session';
import type { OidcAuthOptions } from '../../lib/index.js';
import { connectRedis, postgresPool, runAppServer } from './child.js';

type Library = typeof import('../../lib/index.js');

/**
 * express-oidc-auth as an app would mount it: MemoryStore, or connect-redis with the
 * Redis session index, or connect-pg-simple with the PostgreSQL session index on one pool
 * (the documented multi-instance setups). Default logger, default
 * options. The library is the tsc build of lib/ (settings.libraryEntry), as published.
 */
runAppServer(async (s) => {
  if (s.libraryEntry === undefined) throw new Error('libraryEntry is required');
  const { oidcAuth, postgresSessionIndex, redisSessionIndex, requiresAuth } = (await import(pathToFileURL(s.libraryEntry).href)) as Library;
  const options: OidcAuthOptions = {
    issuer: s.issuer,
    clientId: s.clientId,
    clientSecret: s.clientSecret,
    baseUrl: s.baseUrl,
    allowInsecureRequests: true,
    session: { secret: s.sessionSecret },
  };
  if (s.store === 'redis') {
    const redis = await connectRedis(s.redisUrl);
    options.session = { secret: s.sessionSecret, store: new RedisStore({ client: redis }) };
    options.sessionIndex = redisSessionIndex(redis);
  }
  if (s.store === 'postgres') {
    const pool = postgresPool(s.postgresUrl);
    const PGStore = connectPgSimple(session);
    options.session = { secret: s.sessionSecret, store: new PGStore({ pool, createTableIfMissing: true }) };
    options.sessionIndex = postgresSessionIndex(pool);
  }
  if (s.scope !== undefined) options.scope = s.scope;
  if (s.prompt !== undefined) options.authorizationParams = { prompt: s.prompt };

  const app = express();
  app.use(oidcAuth(options));
  app.get('/profile', requiresAuth(), (req, res) => {
    res.json({ sub: req.oidc.user?.sub });
  });
  app.get('/public', (_req, res) => {
    res.json({ ok: true });
  });
  return app;
});
