import express from 'express';
import { createClient } from 'redis';
import { RedisStore } from 'connect-redis';
import { pathToFileURL } from 'node:url';
const e = process.env;
const app = express();
if (e.MODE === 'express-session') {
  const { default: session } = await import('express-session');
  const redis = createClient({ url: e.REDIS_URL });
  await redis.connect();
  app.use(session({ name: 'oidc.sid', secret: e.SESSION_SECRET, resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax', secure: false, path: '/' }, store: new RedisStore({ client: redis }) }));
  app.get('/profile', (req, res) => { const login = req.session.plainLogin; if (login === undefined) { res.status(401).end(); return; } res.json({ sub: login.user.sub }); });
}
if (e.MODE === 'oidc-auth') {
  const { oidcAuth, redisSessionIndex, requiresAuth } = await import(pathToFileURL(e.LIB).href);
  const redis = createClient({ url: e.REDIS_URL });
  await redis.connect();
  app.use(oidcAuth({ issuer: e.ISSUER, clientId: e.CLIENT_ID, clientSecret: e.CLIENT_SECRET, baseUrl: 'http://127.0.0.1:' + e.PORT, allowInsecureRequests: true, session: { secret: e.SESSION_SECRET, store: new RedisStore({ client: redis }) }, sessionIndex: redisSessionIndex(redis) }));
  app.get('/profile', requiresAuth(), (req, res) => { res.json({ sub: req.oidc.user?.sub }); });
}
app.get('/public', (_req, res) => { res.json({ ok: true }); });
app.get('/exit', (_req, res) => { res.end('bye'); setTimeout(() => process.exit(0), 50); });
app.listen(Number(e.PORT), '127.0.0.1', () => console.log('ready'));
