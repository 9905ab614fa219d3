import type { Request, RequestHandler, Response } from 'express';

/** True when the request may carry the session cookie (a cheap test: a false "yes" only costs a store read). */
export function mayCarryCookie(req: Request, name: string): boolean {
  const header = req.headers.cookie;
  return header !== undefined && header.includes(`${name}=`);
}

/**
 * For a request without a session cookie, express-session would build a session and a
 * random id on every request, anonymous traffic included, and throw them away. Instead
 * `req.session` is left as a getter that runs express-session on first use. For a request
 * without a cookie express-session finishes synchronously (no store read: it only
 * generates a fresh session), so the getter can return the real session at once, with
 * express-session's own cookie and save hooks installed on the response.
 */
export function deferSession(req: Request, res: Response, sessionMiddleware: RequestHandler): void {
  Object.defineProperty(req, 'session', {
    configurable: true,
    enumerable: true,
    get() {
      Reflect.deleteProperty(req, 'session');
      void sessionMiddleware(req, res, () => undefined);
      return req.session;
    },
    set(value: unknown) {
      Object.defineProperty(req, 'session', { configurable: true, enumerable: true, writable: true, value });
    },
  });
}

/** True while req.session is still deferred (nobody asked for it yet). */
export function isDeferred(req: Request): boolean {
  return Object.getOwnPropertyDescriptor(req, 'session')?.get !== undefined;
}
