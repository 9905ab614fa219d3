import type { NextFunction, Request, Response } from 'express';
import { createAccessGate } from '../access-gate.js';
import { silentLoginMarker } from '../login/silent-login.js';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import { noStore } from '../http/http.js';
import type { Instance } from '../instance/instance.js';
import { attachRequestContext } from '../request-context.js';
import type { RouteTable } from '../routes/route-table.js';
import { requireSession } from '../session/session.js';

function methodNotAllowed(res: Response, allowed: string[]): void {
  res.setHeader('Allow', allowed.join(', '));
}

/**
 * The last step of every request: req.oidc (res.oidc is built when read), then the package's route at this
 * path (405 for a method it does not take), or the access gate and the app's own handlers.
 */
/** One trailing slash is ignored: /login/ is /login. */
export function normalisePath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

type Step = (req: Request, res: Response, next: NextFunction, path: string) => void;

/**
 * `dispatch` for any path; `toApp` for a path that is none of the package's (the pipeline's
 * anonymous shortcut, where req.oidc and res.oidc are left to their getters): the access
 * gate, or the app.
 */
export function createDispatcher(instance: Instance, table: RouteTable): { dispatch: Step; toApp: Step } {
  const { routes, landings, needsSession, sessionless } = table;
  const accessGate = createAccessGate(instance, silentLoginMarker(instance.opts));
  const mountsSession = instance.sessions.middleware !== undefined;

  const toApp: Step = (req, res, next, path) => {
    if (accessGate === undefined) next();
    else accessGate(req, res, next, normalisePath(path));
  };

  const dispatch: Step = (req, res, next, path) => {
    const landing = req.method === 'GET' ? landings.get(path)?.[req.method] : undefined;
    attachRequestContext(req, instance, landing === undefined ? false : landing(req, res));
    const methods = routes.get(path);
    if (methods === undefined) {
      // With session: false, a missing express-session is the app's mistake: say so at once.
      if (!mountsSession && !sessionless.has(path)) {
        try {
          requireSession(req);
        } catch (err) {
          next(err);
          return;
        }
      }
      if (accessGate === undefined || sessionless.has(path) || needsSession.has(path)) next();
      else accessGate(req, res, next, path);
      return;
    }
    noStore(res);
    const handler = methods[req.method];
    if (handler === undefined) {
      methodNotAllowed(res, Object.keys(methods));
      next(new OidcAuthError(OidcAuthErrorCode.METHOD_NOT_ALLOWED, 405, `${req.method} is not allowed here; use ${Object.keys(methods).join(' or ')}.`));
      return;
    }
    void handler(req, res, next);
  };
  return { dispatch, toApp };
}
