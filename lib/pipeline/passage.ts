import type { Request, Response } from 'express';
import type { Instance } from '../instance/instance.js';
import { installRequestContextAccessor } from '../request-context.js';
import { installResponseContextAccessor, type ResponseActions, type ResponsePassage } from '../response-context.js';
import type { SessionData } from 'express-session';
import { deferLoadedSession, deferSession, installSessionAccessor, materialize, preloadedSession, setPassage, type Deferral } from '../session/lazy-session.js';

/** One instance's passage, built twice per instance (deferred and loaded), never per request. */
class InstancePassage implements ResponsePassage {
  readonly instance: Instance;
  readonly actions: ResponseActions;
  readonly deferral: Deferral | undefined;
  readonly loaded: InstancePassage;

  constructor(instance: Instance, actions: ResponseActions, deferral: Deferral | undefined, loaded?: InstancePassage) {
    this.instance = instance;
    this.actions = actions;
    this.deferral = deferral;
    this.loaded = loaded ?? this;
  }
}

/**
 * The topmost Express app prototype of `object`: app.request and app.response hold their app
 * as an own property, and a mounted app's inherit from its parent's, so getters put there are
 * seen in the parent's handlers and in every mounted app's. Undefined for a host without Express.
 */
function appPrototype(object: object): object | undefined {
  let found: object | undefined;
  for (
    let proto = Object.getPrototypeOf(object) as object | null;
    proto !== null && Object.hasOwn(proto, 'app');
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    found = proto;
  }
  return found;
}

/**
 * How a request enters an instance's pipeline: one own property, its passage, and for a
 * deferred session the req.session getter. req.oidc and res.oidc are getters on the app's
 * prototypes, put there the first time a request of that prototype comes by (with no Express
 * app prototype, on the request and response themselves): nothing is allocated per request.
 */
export function createEntry(
  instance: Instance,
  actions: ResponseActions,
  deferral: Deferral | undefined,
): {
  loaded: ResponsePassage;
  deferred: ResponsePassage;
  enter: (req: Request, res: Response, passage: ResponsePassage) => void;
  enterLoaded: (req: Request, res: Response, sid: string, data: SessionData, store: unknown) => void;
} {
  const loaded = new InstancePassage(instance, actions, undefined);
  const deferred = deferral === undefined ? loaded : new InstancePassage(instance, actions, deferral, loaded);
  let readyRequest: object | undefined;
  let readyResponse: object | undefined;

  function ready(object: object, install: (target: object) => void): object | undefined {
    const top = appPrototype(object);
    install(top ?? object);
    return top === undefined ? undefined : (Object.getPrototypeOf(object) as object);
  }

  // req.oidc, and req.session while it is deferred, are getters on the app's request prototype
  const installRequest =
    deferral === undefined
      ? installRequestContextAccessor
      : (target: object): void => {
          installRequestContextAccessor(target);
          installSessionAccessor(target);
        };

  function prepare(req: Request, res: Response): void {
    if (Object.getPrototypeOf(req) !== readyRequest) readyRequest = ready(req, installRequest);
    if (Object.getPrototypeOf(res) !== readyResponse) readyResponse = ready(res, installResponseContextAccessor);
    // An earlier instance read this request's session and deferred it: it is made now, from that read, before this instance takes the request over.
    if (preloadedSession(req) !== undefined) materialize(req);
  }

  function enter(req: Request, res: Response, passage: ResponsePassage): void {
    prepare(req, res);
    if (passage.deferral === undefined) setPassage(req, passage);
    else deferSession(req, passage);
  }

  /** A request whose session the pipeline read itself (store/session-preload.ts): req.session is made from it when read. */
  function enterLoaded(req: Request, res: Response, sid: string, data: SessionData, store: unknown): void {
    prepare(req, res);
    deferLoadedSession(req, deferred, sid, data, store);
  }

  return { loaded, deferred, enter, enterLoaded };
}
