import type { Request, RequestHandler } from 'express';
import session, { MemoryStore, type Store } from 'express-session';
import type { EndedSessions } from '../ended/ended-marks.js';
import { guardedStoreFactory } from '../ended/session-write.js';
import type { ResolvedOptions } from '../options/resolved.js';
import type { AtomicSessionWriter, SessionIndex } from '../session-index/session-index.js';
import { mountedStoreOf } from '../session/session.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { createSessionPreload, type SessionPreload } from './session-preload.js';
import { wrapStore, type DelegatingStore } from './bounded-store.js';

/** Where one instance's sessions live: express-session as the package mounts it, or the app's own. */
export interface SessionStores {
  /** the store the app gave in `session.store` (a MemoryStore without one); undefined with `session: false` */
  appStore: Store | undefined;
  /** the index's writer for appStore, when it can write sessions atomically with their ended mark */
  atomic: AtomicSessionWriter | undefined;
  /** appStore as express-session is given it: deadlines, ended marks, telemetry */
  ownStore: DelegatingStore | undefined;
  /** reads a request's session without express-session, when the options allow (see session-preload.ts) */
  preload: SessionPreload | undefined;
  /** express-session, mounted by the package on ownStore; undefined with `session: false` */
  middleware: RequestHandler | undefined;
  /** the session cookie's name; undefined with `session: false` */
  cookieName: string | undefined;
  /** the app's own express-session store, seen through a guard that no write brings an ended session back with */
  guarded: <S extends Store>(store: S) => S;
  /** the store holding this request's session: the package's own, or the app's express-session's; undefined when neither ran */
  storeOf: (req: Request) => Store | undefined;
}

export function createSessionStores(opts: ResolvedOptions, ended: EndedSessions, sessionIndex: SessionIndex, telemetry: Telemetry): SessionStores {
  // A store we hold ourselves: back-channel logout destroys sessions without a browser request.
  const appStore = opts.session === false ? undefined : (opts.session.store ?? new MemoryStore());
  const atomic = appStore === undefined ? undefined : sessionIndex.atomicWriter?.(appStore);
  // MemoryStore answers synchronously and cannot hang; every other store gets a deadline on each call.
  const touch = opts.lifetime.idleSec === undefined;
  const ownStore = appStore === undefined ? undefined : wrapStore(appStore, { bounded: !(appStore instanceof MemoryStore), touch, ended, atomic, telemetry });
  const guarded = guardedStoreFactory(ended, (store) => sessionIndex.atomicWriter?.(store));
  return {
    appStore,
    atomic,
    ownStore,
    preload: opts.session === false || ownStore === undefined ? undefined : createSessionPreload(opts.session, ownStore, touch),
    middleware: opts.session === false ? undefined : session({ ...opts.session, store: ownStore }),
    cookieName: opts.session === false ? undefined : opts.session.name,
    guarded,
    storeOf: (req) => {
      const mounted = mountedStoreOf(req);
      return ownStore ?? (mounted === undefined ? undefined : guarded(mounted));
    },
  };
}
