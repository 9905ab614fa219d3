import { createRequire } from 'node:module';
import { RedisStore } from 'connect-redis';
import express, { type RequestHandler } from 'express';
import { connectRedis, runAppServer } from './child.js';

/**
 * The part of express-openid-connect used here. Loaded with require and typed locally: its
 * own typings declare `req.oidc` globally with another type than express-oidc-auth's, and
 * both cannot be in one TypeScript program.
 */
interface ExpressOpenIdConnect {
  auth(config: Record<string, unknown>): RequestHandler;
  requiresAuth(): RequestHandler;
}
const eoc = createRequire(import.meta.url)('express-openid-connect') as ExpressOpenIdConnect;

/**
 * express-openid-connect, code flow with the same client authentication and scope as
 * express-oidc-auth: its default encrypted cookie session, or a connect-redis store.
 */
runAppServer(async (s) => {
  const config: Record<string, unknown> = {
    issuerBaseURL: s.issuer,
    baseURL: s.baseUrl,
    clientID: s.clientId,
    clientSecret: s.clientSecret,
    clientAuthMethod: 'client_secret_basic',
    secret: s.sessionSecret,
    authRequired: false,
    idpLogout: false,
    authorizationParams: { response_type: 'code', scope: 'openid profile email' },
  };
  if (s.store === 'redis') config['session'] = { store: new RedisStore({ client: await connectRedis(s.redisUrl), prefix: 'eoc:' }) };
  const app = express();
  app.use(eoc.auth(config));
  app.get('/profile', eoc.requiresAuth(), (req, res) => {
    // At run time this is express-openid-connect's req.oidc; its user getter has the same `sub`.
    res.json({ sub: req.oidc.user?.sub });
  });
  app.get('/public', (_req, res) => {
    res.json({ ok: true });
  });
  return app;
});
