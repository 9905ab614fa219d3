import type { SessionData, Store } from 'express-session';
import type { EndedSessions } from './ended-marks.js';
import type { AtomicSessionWriter } from '../session-index/session-index.js';
import type { StoredLogin } from '../session/session.js';

type Done = (err?: unknown) => void;

/** One store's get, set and destroy of one session id, callback style as express-session stores are. */
export interface SessionOps {
  get(done: (err: unknown, data?: SessionData | null) => void): void;
  set(data: SessionData, done: Done): void;
  destroy(done: Done): void;
  /**
   * where the store can: the write, the mark's check and (for an update) the check that the
   * key still exists, in one atomic step (then no check after)
   */
  setUnlessEnded?(data: SessionData, mode: WriteMode, done: (err: unknown, outcome?: 'written' | 'ended') => void): void;
}

/** `create`: the callback's first save of a new login; `update`: every later write, which needs the key to exist (C1 of ended-marks.ts). */
export type WriteMode = 'create' | 'update';

/**
 * Writes a logged-in session the three ways a write must never go:
 * - creating a login that is not new: only the callback's first save creates a login's key
 *   (C1 of ended-marks.ts); any other write of a login whose key is gone (destroyed by a
 *   logout, expired) writes nothing, whether or not its ended mark is still there;
 * - over newer tokens: a request that loaded the session before a refresh and saves it after
 *   (it noted its activity, or the app changed the session) keeps the stored tokens, or with
 *   rotating refresh tokens the next refresh would fail and log the user out (rule 4 of
 *   refresh-once.ts);
 * - over an end: W1 of ended-marks.ts, write then check the mark, destroy again if it is
 *   there, or all in one atomic step where the store allows (a write refused for an ended
 *   or vanished id is done: nothing is stored). A save this instance already knows to be
 *   ended is not even sent.
 * Sessions without a login are written as they are: nobody can be logged in through them.
 */
export function writeLogin(ops: SessionOps, ended: EndedSessions, sid: string, data: SessionData, callback: Done): void {
  const login = data.oidc?.login;
  if (login === undefined) {
    ops.set(data, callback);
    return;
  }
  if (ended.takeCreatePermit(login)) {
    // A new id the callback just regenerated: nothing stored under it to merge with.
    write(ops, ended, sid, data, 'create', callback);
    return;
  }
  if (ended.knownEnded(sid)) {
    callback();
    return;
  }
  ops.get((err, stored) => {
    if (err !== undefined && err !== null) {
      callback(err);
      return;
    }
    const current = stored?.oidc?.login;
    // Gone from the store: ended (mark or no mark), expired or never created by a login here.
    if (current === undefined) {
      callback();
      return;
    }
    const fresher = (current.refreshes ?? 0) > (login.refreshes ?? 0);
    const merged: SessionData = fresher ? { ...data, oidc: { ...data.oidc, login: withLatestActivity(current, login) } } : data;
    write(ops, ended, sid, merged, 'update', callback);
  });
}

function write(ops: SessionOps, ended: EndedSessions, sid: string, data: SessionData, mode: WriteMode, callback: Done): void {
  if (ops.setUnlessEnded !== undefined) {
    ops.setUnlessEnded(data, mode, (setErr) => {
      callback(setErr);
    });
    return;
  }
  ops.set(data, (setErr) => {
    if (setErr !== undefined && setErr !== null) {
      callback(setErr);
      return;
    }
    ended.isEnded(sid).then(
      (isEnded) => {
        if (isEnded) ops.destroy(callback);
        else callback();
      },
      (checkErr: unknown) => {
        callback(checkErr);
      },
    );
  });
}

/** `login` with the later of the two activity notes; none when neither has one (0 would read as "idle since 1970"). */
export function withLatestActivity(login: StoredLogin, other: StoredLogin): StoredLogin {
  const lastSeenAt = Math.max(login.lastSeenAt ?? 0, other.lastSeenAt ?? 0);
  return lastSeenAt > 0 ? { ...login, lastSeenAt } : login;
}

/**
 * With `session: false` the app's own express-session holds its store: its saves go through
 * `req.sessionStore.set` (express-session's Session#save), so the request gets a view of that
 * store whose set is writeLogin, everything else the store's own (generate, regenerate, touch…).
 * The view is a proxy whose methods run on the store itself, not an object inheriting from it:
 * a store with private class fields (connect-pg-simple 10) refuses any other receiver.
 */
export function guardedStoreFactory(ended: EndedSessions, atomicWriterOf: (store: Store) => AtomicSessionWriter | undefined): <S extends Store>(store: S) => S {
  const views = new WeakMap<Store, Store>();
  return <S extends Store>(store: S): S => {
    let view = views.get(store) as S | undefined;
    if (view === undefined) {
      // The app's store may be one the index writes atomically (connect-redis on its client,
      // connect-pg-simple with postgresSessionIndex): then C1 and the mark hold in one step here too.
      const atomic = atomicWriterOf(store);
      const guardedSet: Store['set'] = (sid, data, callback) => {
        const ops: SessionOps = {
          get: (done) => {
            store.get(sid, done);
          },
          set: (next, done) => {
            store.set(sid, next, done);
          },
          destroy: (done) => {
            store.destroy(sid, done);
          },
        };
        if (atomic !== undefined) {
          ops.setUnlessEnded = (next, mode, done) => {
            atomic.setUnlessEnded(sid, next, mode).then((outcome) => {
              done(undefined, outcome);
            }, done);
          };
        }
        writeLogin(ops, ended, sid, data, callback ?? (() => undefined));
      };
      view = new Proxy(store, {
        get(target, property) {
          if (property === 'set') return guardedSet;
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      views.set(store, view);
    }
    return view;
  };
}
