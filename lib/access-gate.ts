import type { NextFunction, Request, Response } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { returnToOr } from './http/return-to.js';
import type { Instance } from './instance/instance.js';
import type { SilentLoginMarker } from './login/silent-login.js';
import { guarded } from './requires-auth.js';
import { isNavigation, startLogin } from './routes/login.js';

/** A first page view a silent login may answer: a browser's GET navigation to a page (HTML). */
function mayTrySilently(req: Request): boolean {
  return req.method === 'GET' && isNavigation(req) && (req.headers.accept ?? '').includes('text/html');
}

/**
 * What oidcAuth() does for the app's own routes: with `attemptSilentLogin`, an anonymous
 * visitor's first page view goes to the provider with prompt=none; with `authRequired`,
 * every route but the public ones runs requiresAuth()'s guard. Undefined when neither is on,
 * so such apps pay nothing per request.
 */
export function createAccessGate(
  instance: Instance,
  marker: SilentLoginMarker,
): ((req: Request, res: Response, next: NextFunction, path: string) => void) | undefined {
  const { access, routes } = instance.opts;
  if (!access.authRequired && !access.attemptSilentLogin) return undefined;
  // Where the provider sends the browser after a logout: protected, it would start a login at once.
  const isPublic = (path: string): boolean => path === routes.postLogoutRedirect || access.isPublic(path);
  return function oidcAccessGate(req, res, next, path) {
    // A browser whose session was ended (its login marker, and no live session) is never tried: it would come back through the provider's surviving session.
    if (access.attemptSilentLogin && mayTrySilently(req) && !marker.tried(req) && !req.oidc.isAuthenticated() && !instance.loginMarker.present(req)) {
      marker.mark(res);
      startLogin(instance, req, res, { returnTo: returnToOr(req.originalUrl, instance.opts.baseUrl.pathname), silent: true }).catch((err: unknown) => {
        // With PAR, a client that is not a browser navigation is not pushed for: a silent login is only a nicety, so the page is served anonymous.
        if (err instanceof OidcAuthError && err.code === OidcAuthErrorCode.NAVIGATION_REQUIRED) next();
        else next(err);
      });
      return;
    }
    if (!access.authRequired || isPublic(path)) {
      next();
      return;
    }
    guarded(req, res, next, undefined, () => {
      next();
    });
  };
}
