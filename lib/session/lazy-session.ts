import type { Request, RequestHandler, Response } from 'express';
import { sessionCallback, type LateSaveLog } from './late-session-errors.js';

/**
 * True when the request may carry the session cookie (a cheap test: a false "yes" only costs a
 * store read). `needle` is the cookie's name and "=", made once, not per request.
 */
export function mayCarryCookie(req: Request, needle: string): boolean {
  const header = req.headers.cookie;
  return header !== undefined && header.includes(needle);
}

/**
 * Marks a request whose session is still deferred: a property read is the cheapest test,
 * and it is made several times per request (inspecting the property descriptor allocates).
 */
const DEFERRED: unique symbol = Symbol('express-oidc-auth.deferredSession');
type Marked = Request & { [DEFERRED]?: boolean };

/**
 * For a request without a session cookie, express-session would build a session and a
 * random id on every request, anonymous traffic included, and throw them away. Instead
 * `req.session` is left as a getter that runs express-session on first use. For a request
 * without a cookie express-session finishes synchronously (no store read: it only
 * generates a fresh session), so the getter can return the real session at once, with
 * express-session's own cookie and save hooks installed on the response.
 */
export function deferSession(req: Request, res: Response, sessionMiddleware: RequestHandler, lateSaves: LateSaveLog): void {
  (req as Marked)[DEFERRED] = true;
  Object.defineProperty(req, 'session', {
    configurable: true,
    enumerable: true,
    get() {
      (req as Marked)[DEFERRED] = false;
      Reflect.deleteProperty(req, 'session');
      // Nothing to load (express-session calls back at once); a save that fails at the end is logged.
      void sessionMiddleware(
        req,
        res,
        sessionCallback(lateSaves, req, () => undefined),
      );
      return req.session;
    },
    set(value: unknown) {
      (req as Marked)[DEFERRED] = false;
      Object.defineProperty(req, 'session', { configurable: true, enumerable: true, writable: true, value });
    },
  });
}

/** True while req.session is still deferred (nobody asked for it yet). */
export function isDeferred(req: Request): boolean {
  return (req as Marked)[DEFERRED] === true;
}
