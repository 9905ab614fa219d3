import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import type { Instance } from '../instance/instance.js';
import { buildRouteTable } from '../routes/route-table.js';
import { lateSaveLog, sessionCallback } from '../session/late-session-errors.js';
import { deferSession, mayCarryCookie } from '../session/lazy-session.js';
import { createDispatcher } from './dispatch.js';
import { createSettler } from './settle.js';

function normalisePath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * Every request, in order: load the session (or defer it: no cookie, nobody logged in), settle
 * it (ended? within its lifetimes?), then dispatch to the package's route or the app.
 */
export function createPipeline(instance: Instance): RequestHandler {
  const table = buildRouteTable(instance);
  const { needsSession, sessionless } = table;
  const { middleware: sessionMiddleware, cookieName } = instance.sessions;
  const lateSaves = lateSaveLog(instance.opts.logger);
  const settle = createSettler(instance);
  const dispatch = createDispatcher(instance, table);

  function withLifetime(req: Request, res: Response, next: NextFunction, path: string): void {
    settle(req, res, (err?: unknown) => {
      if (err !== undefined) next(err);
      else dispatch(req, res, next, path);
    });
  }

  return function oidcAuthMiddleware(req, res, next) {
    const path = normalisePath(req.path);
    if (sessionMiddleware === undefined || cookieName === undefined || sessionless.has(path)) {
      withLifetime(req, res, next, path);
      return;
    }
    if (!needsSession.has(path) && !mayCarryCookie(req, cookieName)) {
      // No cookie, so nobody is logged in: no store read, no new session id, unless the app asks for req.session.
      deferSession(req, res, sessionMiddleware, lateSaves);
      dispatch(req, res, next, path);
      return;
    }
    sessionMiddleware(
      req,
      res,
      sessionCallback(lateSaves, req, (err?: unknown) => {
        if (err !== undefined && err !== null) {
          next(
            new OidcAuthError(OidcAuthErrorCode.SESSION_STORE_FAILED, 503, 'The session store could not load the session; try again shortly.', { cause: err }),
          );
          return;
        }
        withLifetime(req, res, next, path);
      }),
    );
  };
}
