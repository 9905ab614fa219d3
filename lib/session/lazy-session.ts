import type { Request, RequestHandler } from 'express';
import type { SessionData } from 'express-session';
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
  /** runs express-session with the session the package read already (see DelegatingStore.handOver) */
  readonly handOver: ((sid: string, data: SessionData, run: () => void) => void) | undefined;
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
/** The session the package read for a request whose req.session is still deferred (see store/session-preload.ts). */
const PRELOADED: unique symbol = Symbol('express-oidc-auth.preloaded');
type Marked = Request & { [PASSAGE]?: Passage; [PRELOADED]?: SessionData | undefined };

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
 * express-session's own cookie and save hooks installed on the response. The getter sits
 * on the app's request prototype, beside req.oidc's: deferring a request's session adds
 * nothing to the request but its passage (defining an accessor on every request cost about
 * 80,000 instructions, as much again as the rest of the package's anonymous path). So
 * express-session's `req.session = …` meets the setter, which makes the session the
 * request's own property: one definition where express-session runs anyway.
 */
const SESSION_ACCESSOR: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Request): unknown {
    const passage = passageOf(this);
    const deferral = passage?.deferral;
    const res = this.res;
    // Express always links req.res; a host that does not gets no session, rather than a crash.
    if (passage === undefined || deferral === undefined || res === undefined) return undefined;
    const preloaded = (this as Marked)[PRELOADED];
    setPassage(this, passage.loaded);
    const run = (): void => {
      void deferral.sessionMiddleware(this, res, sessionCallback(deferral.lateSaves, this, noLateLoad));
    };
    if (preloaded === undefined || deferral.handOver === undefined) run();
    else {
      (this as Marked)[PRELOADED] = undefined;
      deferral.handOver(this.sessionID, preloaded, run);
    }
    // express-session made it the request's own property (or, refusing, made none: then this getter answers undefined)
    return this.session;
  },
  set(this: Request, value: unknown): void {
    const passage = passageOf(this);
    if (passage?.deferral !== undefined) {
      setPassage(this, passage.loaded);
      (this as Marked)[PRELOADED] = undefined;
    }
    Object.defineProperty(this, 'session', { configurable: true, enumerable: true, writable: true, value });
  },
};

/** Puts the deferred req.session getter on `target`: the app's request prototype (once), or, without one, the request itself. */
export function installSessionAccessor(target: object): void {
  Object.defineProperty(target, 'session', SESSION_ACCESSOR);
}

/**
 * Defers req.session of a request that carries no session cookie (its passage holds the
 * deferral; the getter is on its prototype, see installSessionAccessor).
 */
export function deferSession(req: Request, passage: Passage): void {
  setPassage(req, passage);
}

/**
 * Defers req.session of a request whose session the package read itself (`data`, stored under
 * `sid`, R1 included): express-session runs, with that data, only when someone reads
 * req.session. Until then req.sessionID and req.sessionStore are what express-session sets.
 */
export function deferLoadedSession(req: Request, passage: Passage, sid: string, data: SessionData, store: unknown): void {
  req.sessionID = sid;
  (req as { sessionStore?: unknown }).sessionStore = store;
  (req as Marked)[PRELOADED] = data;
  deferSession(req, passage);
}

/** True while req.session is still deferred (nobody asked for it yet). */
export function isDeferred(req: Request): boolean {
  return passageOf(req)?.deferral !== undefined;
}

/** The session the package read for this request, until req.session is made from it (or set); undefined for any other request. */
export function preloadedSession(req: Request): SessionData | undefined {
  return (req as Marked)[PRELOADED];
}

/** Makes req.session now (express-session runs, if it was deferred): before a change to the session that must be saved. */
export function materialize(req: Request): void {
  // the read itself is the point: the getter runs express-session
  Reflect.get(req, 'session');
}
