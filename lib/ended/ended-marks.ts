import type { SessionIndex } from '../session-index/session-index.js';
import { describeError, type Logger } from '../logging/logger.js';
import type { StoredLogin } from '../session/session.js';

/**
 * Logout is final: once a logout (of any trigger) has ended a session id, no write can make
 * that id a live session again, whichever instance writes, in whatever order writes land,
 * and whether or not the store kept the mark an end leaves behind.
 *
 * express-session writes a session back at the end of every request that loaded it (and the
 * refresher writes new tokens), so a request still running when the session ends would
 * otherwise re-create it. The rules:
 *
 *   C1 (create) only the callback's first save of a new login may create a login's key;
 *              every later write of that login is an update, and an update succeeds only
 *              while the key still exists (connect-redis: a check in the same script;
 *              connect-pg-simple: the same UPDATE's WHERE; a MemoryStore: the same turn;
 *              any other store: read just before the write).
 *              A destroyed login stays destroyed even when its mark is gone (evicted,
 *              expired, never written because the store was full).
 *   E1 (end)   mark the id ended in the index, THEN destroy it in the store. A mark that
 *              cannot be written does not stop the destroy: C1 already keeps the destroyed
 *              key from coming back; the mark only narrows what is left below.
 *   W1 (write) write the session, THEN read the mark, and destroy again if it is there;
 *   R1 (read)  a loaded session whose id is marked is treated as absent (and destroyed).
 *
 * Who can make marks: only an end of a loaded login (a logout without one ends nothing), so
 * an anonymous flood writes none. What is left when a mark is gone: on a store without an
 * atomic write, the few milliseconds between an update's read and its write (C1's read
 * found the key, the end destroyed it, the write lands); W1 undoes that while the mark is
 * there, and the lifetime check refuses it once the session's own lifetime is over.
 *
 * Why W1 suffices for the store while the mark is there: take an end E (mark m, then destroy
 * d) and a write W (set s, then check c). If c comes after m, c sees the mark and destroys
 * after s. Otherwise s < c < m < d, so the destroy d comes after the write s. Either way the
 * last word on the id is a destroy. R1 makes a load between s and W's own destroy worthless.
 *
 * With an atomic writer (connect-redis on the index's own client, connect-pg-simple with the
 * PostgreSQL index, MemoryStore with the in-memory index) C1 and the mark's check are one step
 * with the write: no write ever lands after d, so reads skip the mark (one Redis command or
 * SQL query per request instead of two).
 *
 * This instance also remembers the ids it ended, so its own requests still in flight see the
 * end at once (isAuthenticated() turns false) and skip their write entirely.
 */
export interface EndedSessions {
  /**
   * E1: the mark, here and in the shared index, then `destroy()`. A mark the index refuses
   * (Redis full, unreachable) is logged and the destroy still runs; only a failed destroy rejects.
   */
  end(sessionId: string, ttlMs: number, destroy: () => Promise<void>): Promise<void>;
  /** true when this instance ended the id (no index call) */
  knownEnded(sessionId: string): boolean;
  /** the index's answer (W1, R1): true when any instance ended the id */
  isEnded(sessionId: string): Promise<boolean>;
  /** C1: the callback's new login, whose first save may create its key */
  permitCreate(login: StoredLogin): void;
  /** C1: true, once, for a login the callback permitted; every other write is an update */
  takeCreatePermit(login: StoredLogin): boolean;
}

/** Bounds this instance's own memory of ended ids; the index remains the authority. */
const LOCAL_LIMIT = 10_000;

export function createEndedSessions(index: SessionIndex, logger: Logger, now: () => number = Date.now): EndedSessions {
  const local = new Map<string, number>();
  // Keyed by the sealed login object the callback made: a login read back from the store is a
  // new object, so no request but the callback's own save can hold a permit.
  const creations = new WeakSet<StoredLogin>();
  return {
    async end(sessionId, ttlMs, destroy) {
      local.delete(sessionId);
      local.set(sessionId, now() + ttlMs);
      if (local.size > LOCAL_LIMIT) {
        const oldest = local.keys().next();
        if (oldest.done !== true) local.delete(oldest.value);
      }
      await index.markEnded(sessionId, ttlMs).catch((err: unknown) => {
        logger.warn(
          { ...describeError(err) },
          'the ended mark could not be written (is the session index full or unreachable?); the session is destroyed all the same, and no write can re-create it',
        );
      });
      await destroy();
    },
    knownEnded(sessionId) {
      if (local.size === 0) return false;
      const expiresAt = local.get(sessionId);
      return expiresAt !== undefined && expiresAt > now();
    },
    async isEnded(sessionId) {
      return this.knownEnded(sessionId) || (await index.isEnded(sessionId));
    },
    permitCreate(login) {
      creations.add(login);
    },
    takeCreatePermit(login) {
      return creations.delete(login);
    },
  };
}
