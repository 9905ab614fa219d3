import type { Request, RequestHandler } from 'express';
import { sessionCallback, type LateSaveLog } from './late-session-errors.js';

/**
 * True when the request may carry the session cookie (a cheap test: a false "yes" only costs a
 * store read). `needle` is the cookie's name and "=", made once, not per request.
 */
export function mayCarryCookie(req: Request, needle: string): boolean {
  const header = req.headers.cookie;
  return header !== undefined && header.includes(needle);
}

/** What a request's session is made from when the app first reads req.session: express-session, run then. */
export interface Deferral {
  readonly sessionMiddleware: RequestHandler;
  readonly lateSaves: LateSaveLog;
}

/**
 * What oidcAuth() leaves on a request it passed, in one own property (the only one it adds
 * to a request nobody asks about): built once per instance, never per request. req.session
 * and req.oidc are getters on the app's request prototype that read it.
 */
export interface Passage {
  /** set while req.session is deferred (no session cookie, nobody read it yet) */
  readonly deferral: Deferral | undefined;
  /** the same passage once the session is loaded (its `deferral` undefined) */
  readonly loaded: Passage;
}

export const PASSAGE: unique symbol = Symbol('express-oidc-auth.passage');
type Marked = Request & { [PASSAGE]?: Passage };

/** This request's passage, or undefined when no oidcAuth() passed it. */
export function passageOf(req: Request): Passage | undefined {
  return (req as Marked)[PASSAGE];
}

export function setPassage(req: Request, passage: Passage): void {
  (req as Marked)[PASSAGE] = passage;
}

function noLateLoad(): void {
  // Nothing to load: express-session calls back at once for a request without a cookie.
}

/**
 * For a request without a session cookie, express-session would build a session and a
 * random id on every request, anonymous traffic included, and throw them away. Instead
 * `req.session` is a getter that runs express-session on first use. For a request
 * without a cookie express-session finishes synchronously (no store read: it only
 * generates a fresh session), so the getter can return the real session at once, with
 * express-session's own cookie and save hooks installed on the response. One descriptor for
 * all requests (it reads `this`): deferring allocates nothing. It goes on the request itself,
 * not on a prototype: a setter there would make express-session's `req.session = …` of every
 * logged-in request a property definition.
 */
const SESSION_ACCESSOR: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Request): unknown {
    const passage = passageOf(this);
    const deferral = passage?.deferral;
    const res = this.res;
    Reflect.deleteProperty(this, 'session');
    // Express always links req.res; a host that does not gets no session, rather than a crash.
    if (passage === undefined || deferral === undefined || res === undefined) return undefined;
    setPassage(this, passage.loaded);
    void deferral.sessionMiddleware(this, res, sessionCallback(deferral.lateSaves, this, noLateLoad));
    return this.session;
  },
  set(this: Request, value: unknown): void {
    const passage = passageOf(this);
    if (passage?.deferral !== undefined) setPassage(this, passage.loaded);
    Object.defineProperty(this, 'session', { configurable: true, enumerable: true, writable: true, value });
  },
};

/** Defers req.session of a request that carries no session cookie (its passage holds the deferral). */
export function deferSession(req: Request, passage: Passage): void {
  setPassage(req, passage);
  Object.defineProperty(req, 'session', SESSION_ACCESSOR);
}

/** True while req.session is still deferred (nobody asked for it yet). */
export function isDeferred(req: Request): boolean {
  return passageOf(req)?.deferral !== undefined;
}
