import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session, { MemoryStore } from 'express-session';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { noStore, queryOf, single } from './http.js';
import { joinUrl, type OidcAuthOptions } from './options.js';
import { resolveOptions } from './options-validation.js';
import { createProvider } from './provider.js';
import { attachRequestContext } from './request-context.js';
import { createCallbackHandler } from './routes/callback.js';
import type { AsyncHandler, RouteContext } from './routes/context.js';
import { createLoginHandler } from './routes/login.js';
import { createLogoutHandler } from './routes/logout.js';
import { LOGOUT_STATE_COOKIE, readCookie, verifyLogoutReturn } from './logout-return.js';
import { requireSession } from './session.js';

type MethodTable = Partial<Record<string, AsyncHandler>>;

function normalisePath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function methodNotAllowed(res: Response, allowed: string[]): void {
  res.setHeader('Allow', allowed.join(', '));
}

/**
 * Mounts OpenID Connect login, callback and logout on an Express app.
 * Options are validated here, once: a bad option throws OIDC_CONFIG_INVALID at this call.
 */
export function oidcAuth<TContext = undefined>(options: OidcAuthOptions<TContext>): RequestHandler {
  const opts = resolveOptions(options);
  const provider = createProvider(opts);
  const ctx: RouteContext<TContext> = { opts, provider };
  const sessionMiddleware = opts.session === false ? undefined : session(opts.session);
  const loginPath = new URL(joinUrl(opts.baseUrl, opts.routes.login)).pathname;

  if (opts.session !== false && opts.session.store !== undefined && !(opts.session.store instanceof MemoryStore) && !opts.sessionIndex.shared) {
    opts.logger.warn({}, 'a shared session store is used with the in-memory session index: back-channel logout only reaches sessions created by this process. Pass sessionIndex: redisSessionIndex(client).');
  }

  const callback = createCallbackHandler(ctx);
  const logout = createLogoutHandler(ctx);
  const routes = new Map<string, MethodTable>([
    [opts.routes.login, { GET: createLoginHandler(ctx) }],
    [opts.routes.callback, { GET: callback, POST: callback }],
    [opts.routes.logout, Object.fromEntries([...opts.logout.methods].map((m) => [m, logout]))],
  ]);

  function dispatch(req: Request, res: Response, next: NextFunction): void {
    const path = normalisePath(req.path);
    const logoutCompleted =
      req.method === 'GET' && path === opts.routes.postLogoutRedirect && readCookie(req, LOGOUT_STATE_COOKIE) !== undefined
        ? verifyLogoutReturn(req, res, opts, single(queryOf(req), 'state'))
        : false;
    attachRequestContext(req, provider, loginPath, logoutCompleted);
    const table = routes.get(path);
    if (table === undefined) {
      try {
        requireSession(req);
      } catch (err) {
        next(err);
        return;
      }
      next();
      return;
    }
    noStore(res);
    const handler = table[req.method];
    if (handler === undefined) {
      methodNotAllowed(res, Object.keys(table));
      next(new OidcAuthError(OidcAuthErrorCode.METHOD_NOT_ALLOWED, 405, `${req.method} is not allowed here; use ${Object.keys(table).join(' or ')}.`));
      return;
    }
    void handler(req, res, next);
  }

  return function oidcAuthMiddleware(req, res, next) {
    if (sessionMiddleware === undefined) {
      dispatch(req, res, next);
      return;
    }
    sessionMiddleware(req, res, (err?: unknown) => {
      if (err !== undefined && err !== null) {
        next(new OidcAuthError(OidcAuthErrorCode.SESSION_STORE_FAILED, 503, 'The session store could not load the session; try again shortly.', { cause: err }));
        return;
      }
      dispatch(req, res, next);
    });
  };
}
