import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import type { Instance } from '../instance/instance.js';
import { buildRouteTable, type RouteTable } from '../routes/route-table.js';
import { lateSaveLog, sessionCallback } from '../session/late-session-errors.js';
import { mayCarryCookie, passageOf } from '../session/lazy-session.js';
import { createEntry } from './passage.js';
import { createDispatcher, normalisePath } from './dispatch.js';
import { createSettler } from './settle.js';
import { isRecord } from '../values.js';

function loadFailed(err: unknown): OidcAuthError {
  return new OidcAuthError(OidcAuthErrorCode.SESSION_STORE_FAILED, 503, 'The session store could not load the session; try again shortly.', { cause: err });
}

function isNotFound(err: unknown): boolean {
  return isRecord(err) && err['code'] === 'ENOENT';
}

/** Every req.path that normalises to one of the package's paths: a single Set lookup tells the app's paths apart. */
function pathsOf(table: RouteTable): ReadonlySet<string> {
  const paths = new Set<string>();
  for (const path of [...table.routes.keys(), ...table.needsSession, ...table.sessionless, ...table.landings.keys()]) {
    paths.add(path);
    paths.add(`${path}/`);
  }
  return paths;
}

/**
 * Every request, in order: load the session (or defer it: no cookie, nobody logged in), settle
 * it (ended? within its lifetimes?), then dispatch to the package's route or the app.
 */
export function createPipeline(instance: Instance): RequestHandler {
  const table = buildRouteTable(instance);
  const { needsSession, sessionless } = table;
  const { middleware: sessionMiddleware, cookieName, preload, ownStore } = instance.sessions;
  const lateSaves = lateSaveLog(instance.opts.logger);
  const settle = createSettler(instance);
  const { dispatch, toApp } = createDispatcher(instance, table);
  const packagePaths = pathsOf(table);
  const cookieNeedle = cookieName === undefined ? undefined : `${cookieName}=`;
  const actions = { instance, callback: table.callback, logout: table.logout };
  const handOver = preload?.handOver;
  const { loaded, deferred, enter, enterLoaded } = createEntry(
    instance,
    actions,
    sessionMiddleware === undefined ? undefined : { sessionMiddleware, lateSaves, handOver },
  );

  function withLifetime(req: Request, res: Response, next: NextFunction, path: string): void {
    settle(req, res, (err?: unknown) => {
      if (err !== undefined) next(err);
      else dispatch(req, res, next, path);
    });
  }

  /** express-session, run now; `absent`: the id the package found no session under (express-session is told so, not asked again). */
  function loadSession(middleware: RequestHandler, req: Request, res: Response, next: NextFunction, path: string, absent?: string): void {
    enter(req, res, loaded);
    const run = (): void => {
      middleware(
        req,
        res,
        sessionCallback(lateSaves, req, (err?: unknown) => {
          if (err !== undefined && err !== null) next(loadFailed(err));
          else withLifetime(req, res, next, path);
        }),
      );
    };
    if (absent === undefined || handOver === undefined) run();
    else handOver(absent, null, run);
  }

  return function oidcAuthMiddleware(req, res, next) {
    const rawPath = req.path;
    const anonymous = sessionMiddleware !== undefined && cookieNeedle !== undefined && !mayCarryCookie(req, cookieNeedle);
    if (anonymous && !packagePaths.has(rawPath)) {
      // The common case, kept to a cookie test and a Set lookup: no session to load or settle, no route of the package.
      enter(req, res, deferred);
      toApp(req, res, next, rawPath);
      return;
    }
    const path = normalisePath(rawPath);
    if (sessionMiddleware === undefined || cookieNeedle === undefined || sessionless.has(path)) {
      enter(req, res, loaded);
      withLifetime(req, res, next, path);
      return;
    }
    if (anonymous && !needsSession.has(path)) {
      // No cookie, so nobody is logged in: no store read, no new session id, unless the app asks for req.session.
      enter(req, res, deferred);
      dispatch(req, res, next, path);
      return;
    }
    // The app's own paths: the session is read here, and express-session runs only if someone reads req.session (store/session-preload.ts).
    const sid = preload === undefined || anonymous || packagePaths.has(rawPath) || passageOf(req) !== undefined ? undefined : preload.sessionIdOf(req);
    if (preload === undefined || sid === undefined) {
      loadSession(sessionMiddleware, req, res, next, path);
      return;
    }
    preload.read(sid, (err, data) => {
      const failed = err !== undefined && err !== null;
      // express-session's own rule: ENOENT from a store means no session, any other error a failed load
      if (failed && !isNotFound(err)) next(loadFailed(err));
      else if (failed || data === undefined || data === null) loadSession(sessionMiddleware, req, res, next, path, sid);
      // a stored session without its cookie object is express-session's to refuse (it throws making it: 503), as before
      // (typed as always there, but a store holds what it was given)
      else if (!isRecord(data.cookie)) loadSession(sessionMiddleware, req, res, next, path);
      else {
        enterLoaded(req, res, sid, data, ownStore);
        withLifetime(req, res, next, path);
      }
    });
  };
}
