import type { RequestHandler } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { redirect, sendJson, wantsJson } from './http/http.js';
import { loginPathFor } from './request-context.js';

/**
 * Guards a route: a browser goes to login and comes back here afterwards; a client that
 * asks for JSON gets 401 with WWW-Authenticate instead of a redirect it cannot follow.
 */
export function requiresAuth(): RequestHandler {
  return function oidcRequiresAuth(req, res, next) {
    const loginPath = loginPathFor(req);
    if (loginPath === undefined) {
      next(new OidcAuthError(OidcAuthErrorCode.MIDDLEWARE_MISSING, 500, 'requiresAuth() needs app.use(oidcAuth(…)) mounted before it.'));
      return;
    }
    if (req.oidc.isAuthenticated()) {
      next();
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    if (wantsJson(req)) {
      res.setHeader('WWW-Authenticate', `OpenIDConnect realm="app", login_uri="${loginPath}"`);
      sendJson(res, 401, { error: 'unauthorized', error_description: 'Log in first.', login: loginPath });
      return;
    }
    const returnTo = req.method === 'GET' ? req.originalUrl : undefined;
    redirect(res, 302, returnTo === undefined ? loginPath : `${loginPath}?returnTo=${encodeURIComponent(returnTo)}`);
  };
}
