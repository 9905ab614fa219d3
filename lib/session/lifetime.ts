import type { ResolvedOptions } from '../options/resolved.js';

/** The absolute and idle lifetimes, in seconds (undefined: off). */
export type Lifetimes = ResolvedOptions['lifetime'];
/** The clear part of a stored login: the lifetimes are judged without opening anything. */
type LoginTimes = { loggedInAt: number; lastSeenAt?: number };

export type LifetimeVerdict = 'live' | 'expired' | 'touch';

/** Never write the session more than once a minute just to note activity (a store write per request is the cost). */
const MAX_TOUCH_INTERVAL_SEC = 60;

/**
 * Judges a logged-in session against the absolute and idle lifetimes, on the server's
 * clock: a cookie that a browser keeps (or forges an expiry for) proves nothing.
 * 'touch': live, and its last-seen time is old enough to be worth writing.
 */
export function judgeLifetime({ absoluteSec, idleSec }: Lifetimes, login: LoginTimes, nowSec: number): LifetimeVerdict {
  if (absoluteSec !== undefined && nowSec >= login.loggedInAt + absoluteSec) return 'expired';
  if (idleSec === undefined) return 'live';
  const lastSeen = login.lastSeenAt ?? login.loggedInAt;
  if (nowSec >= lastSeen + idleSec) return 'expired';
  return nowSec - lastSeen >= Math.min(MAX_TOUCH_INTERVAL_SEC, Math.ceil(idleSec / 10)) ? 'touch' : 'live';
}

/**
 * How long the session index keeps an entry: as long as the session can live. The entry is
 * written once, at login, while the session's cookie and store expiry are renewed by every
 * activity note and refresh (and by each answer with `rolling`): the cookie's maxAge is no
 * bound on the session, only the absolute lifetime is. Without one, a year.
 */
export function indexTtlMs({ absoluteSec }: Lifetimes): number {
  return absoluteSec === undefined ? 365 * 24 * 3600 * 1000 : absoluteSec * 1000;
}

/**
 * An ended session's mark may only lapse once the session could not be live anyway: a
 * write-back after that carries its original loggedInAt and is refused by the absolute
 * lifetime. The margin covers clocks that differ between instances.
 */
export const ENDED_MARK_MARGIN_MS = 5 * 60 * 1000;

/** How long the ended-mark of a session is kept (see ended-marks.ts). */
export function endedMarkTtlMs(lifetime: Lifetimes, login: LoginTimes | undefined, nowMs: number): number {
  const { absoluteSec } = lifetime;
  if (absoluteSec === undefined || login === undefined) return indexTtlMs(lifetime) + ENDED_MARK_MARGIN_MS;
  return Math.max(0, (login.loggedInAt + absoluteSec) * 1000 - nowMs) + ENDED_MARK_MARGIN_MS;
}
