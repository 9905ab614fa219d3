import connectPgSimple from 'connect-pg-simple';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session, { type SessionOptions } from 'express-session';
import type { Login } from '../../lib/session/session.js';
import { connectRedis, postgresPool, runAppServer } from './child.js';

declare module 'express-session' {
  interface SessionData {
    /** the login as an app would keep it without express-oidc-auth: unsealed */
    plainLogin?: Login;
  }
}

/**
 * Express + express-session alone, holding the same login as an express-oidc-auth session, unsealed
 * (seeded through /bench/seed, a route only the benchmark uses), with the same cookie
 * options as express-oidc-auth's defaults: the floor that express-oidc-auth is measured against.
 */
runAppServer(async (s) => {
  const options: SessionOptions = {
    name: 'oidc.sid',
    secret: s.sessionSecret,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: false, path: '/' },
  };
  if (s.store === 'redis') options.store = new RedisStore({ client: await connectRedis(s.redisUrl) });
  // connect-pg-simple alone, on a pool of its own (the same size as express-oidc-auth's), with its defaults.
  if (s.store === 'postgres') options.store = new (connectPgSimple(session))({ pool: postgresPool(s.postgresUrl), createTableIfMissing: true });

  const app = express();
  app.use(session(options));
  app.post('/bench/seed', express.json({ limit: '64kb' }), (req, res, next) => {
    const body: unknown = req.body;
    const login = typeof body === 'object' && body !== null ? (body as { oidc?: { login?: Login } }).oidc?.login : undefined;
    if (login === undefined) {
      res.status(400).json({ error: 'body must be { oidc: { login } }' });
      return;
    }
    req.session.plainLogin = login;
    req.session.save((err: unknown) => {
      if (err !== undefined && err !== null) next(err);
      else res.status(204).end();
    });
  });
  app.get('/profile', (req, res) => {
    const login = req.session.plainLogin;
    if (login === undefined) {
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    res.json({ sub: login.user.sub });
  });
  app.get('/public', (_req, res) => {
    res.json({ ok: true });
  });
  return app;
});
