import type { Request, Response } from 'express';
import { endSessions } from '../ended/end-sessions.js';
import type { Instance } from '../instance/instance.js';
import { judgeLifetime } from '../session/lifetime.js';
import { materialize } from '../session/lazy-session.js';
import { forgetSession, peekLogin, type StoredLogin } from '../session/session.js';

type Next = (err?: unknown) => void;

/**
 * A loaded login goes on only if no logout ended it (R1 of ended-marks.ts: one index read per
 * request of a logged-in session, made by the package's store alongside the session read, or
 * here for the app's own express-session) and it is within its lifetimes; otherwise the
 * request goes on anonymous.
 */
export function createSettler(instance: Instance): (req: Request, res: Response, next: Next) => void {
  const { opts, ended, storeOf } = instance;
  const { ownStore, guarded } = instance.sessions;

  /** Ends a logged-in session that outlived its lifetimes, then lets the request go on anonymous. */
  function enforceLifetime(req: Request, res: Response, login: StoredLogin, next: Next): void {
    const nowSec = Math.floor(Date.now() / 1000);
    const verdict = judgeLifetime(opts.lifetime, login, nowSec);
    if (verdict === 'touch') {
      // express-session must know the session before it changes, or it sees nothing to save
      materialize(req);
      login.lastSeenAt = nowSec;
    }
    if (verdict !== 'expired' || storeOf(req) === undefined) {
      next();
      return;
    }
    endSessions(instance, req, [req.sessionID], 'expired').then(() => {
      // Only expired: nobody signed this browser out, so its next login may be silent (logout.reauthenticate).
      instance.loginMarker.clear(req, res);
      next();
    }, next);
  }

  return function settleLoadedSession(req, res, next) {
    const login = peekLogin(req);
    if (login === undefined) {
      next();
      return;
    }
    // The package's own store already refused to load an ended login (R1 at the read).
    if (ownStore !== undefined) {
      enforceLifetime(req, res, login, next);
      return;
    }
    req.sessionStore = guarded(req.sessionStore);
    ended.isEnded(req.sessionID).then((isEnded) => {
      if (isEnded) {
        forgetSession(req).then(() => {
          next();
        }, next);
        return;
      }
      enforceLifetime(req, res, login, next);
    }, next);
  };
}
