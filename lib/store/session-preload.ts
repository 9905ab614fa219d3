import type { Request } from 'express';
import type { SessionData } from 'express-session';
import type { ResolvedSession } from '../options/resolved.js';
import type { DelegatingStore } from './bounded-store.js';
import { signedSessionIdOf } from '../session/session-cookie.js';

/**
 * A request with a session cookie, read by the package itself: the cookie's id (as
 * express-session reads it), one store read (R1 included), and express-session itself only
 * when someone reads req.session. On a request that only asks req.oidc, express-session would
 * build a Session and a Cookie, hash the whole session twice (once to remember it, once to
 * see whether it changed) and wrap res.end, all for nothing.
 */
export interface SessionPreload {
  /** the id of the request's session cookie when its signature holds and express-session would read this one; else undefined */
  sessionIdOf: (req: Request) => string | undefined;
  read: (sid: string, callback: (err: unknown, data?: SessionData | null) => void) => void;
  /** runs express-session for one request with the session read already (DelegatingStore.handOver) */
  handOver: (sid: string, data: SessionData | null, run: () => void) => void;
}

function secretsOf(secret: unknown): readonly string[] | undefined {
  if (typeof secret === 'string') return [secret];
  return Array.isArray(secret) && secret.length > 0 && secret.every((s) => typeof s === 'string') ? secret : undefined;
}

/**
 * Undefined when express-session must run on every request the cookie comes with: it touches
 * the store (no idle lifetime), saves (`resave`), sends the cookie again (`rolling`), destroys a
 * session set to null (`unset: 'destroy'`), or only serves part of the paths (a cookie path
 * other than "/", or cookie options made per request).
 */
export function createSessionPreload(session: ResolvedSession, store: DelegatingStore, touches: boolean): SessionPreload | undefined {
  const secrets = secretsOf(session.secret);
  const { cookie } = session;
  const path = typeof cookie === 'function' ? undefined : (cookie?.path ?? '/');
  if (touches || secrets === undefined || session.resave === true || session.rolling === true || session.unset === 'destroy' || path !== '/') {
    return undefined;
  }
  const { name } = session;
  return {
    sessionIdOf: (req) => {
      const header = req.headers.cookie;
      // express-session serves a request only when its path starts with the cookie's path
      if (header === undefined || !req.originalUrl.startsWith('/')) return undefined;
      return signedSessionIdOf(header, name, secrets);
    },
    read: (sid, callback) => {
      store.get(sid, callback);
    },
    handOver: (sid, data, run) => {
      store.handOver(sid, data, run);
    },
  };
}
