import type { SessionIndex } from '../session-index/session-index.js';

/**
 * Logout is final: once a logout (of any trigger) has ended a session id, no write can make
 * that id a live session again, whichever instance writes and in whatever order writes land.
 *
 * express-session writes a session back at the end of every request that loaded it (and the
 * refresher writes new tokens), so a request still running when the session ends would
 * otherwise re-create it. Three rules close that, with a plain store (MemoryStore,
 * connect-redis) and an index shared by every instance:
 *
 *   E1 (end)   mark the id ended in the index, THEN destroy it in the store;
 *   W1 (write) write the session, THEN read the mark, and destroy again if it is there;
 *   R1 (read)  a loaded session whose id is marked is treated as absent (and destroyed).
 *
 * Why W1 suffices for the store: take an end E (mark m, then destroy d) and a write W (set s,
 * then check c). Each step finishes before the next starts, and the store and the index are
 * each linearizable. If c comes after m, c sees the mark and destroys after s. Otherwise
 * s < c < m < d, so the destroy d comes after the write s. Either way the last word on the
 * id is a destroy. Between s and W's own destroy another request could load the written
 * session: R1 makes that load worthless, because the mark exists from m on, before any s
 * that needs undoing. The mark must outlive every write that may still come: it lives as
 * long as the session could have lived (see endedMarkTtlMs), after which a write-back would
 * be refused by the lifetime check anyway.
 *
 * W1 in one step: where the index can write the session and check the mark atomically (a
 * Redis script, with connect-redis on the index's own client), a write after the mark is
 * refused and a write before it is undone by the end's destroy. No write ever lands after
 * d, so the store never holds an ended session for R1 to catch, and reads skip the mark
 * (one Redis command per request instead of two).
 *
 * This instance also remembers the ids it ended, so its own requests still in flight see the
 * end at once (isAuthenticated() turns false) and skip their write entirely.
 */
export interface EndedSessions {
  /** E1's first step: the mark, here and in the shared index. Call before destroying. */
  end(sessionId: string, ttlMs: number): Promise<void>;
  /** true when this instance ended the id (no index call) */
  knownEnded(sessionId: string): boolean;
  /** the index's answer (W1, R1): true when any instance ended the id */
  isEnded(sessionId: string): Promise<boolean>;
}

/** Bounds this instance's own memory of ended ids; the index remains the authority. */
const LOCAL_LIMIT = 10_000;

export function createEndedSessions(index: SessionIndex, now: () => number = Date.now): EndedSessions {
  const local = new Map<string, number>();
  return {
    async end(sessionId, ttlMs) {
      local.delete(sessionId);
      local.set(sessionId, now() + ttlMs);
      if (local.size > LOCAL_LIMIT) {
        const oldest = local.keys().next();
        if (oldest.done !== true) local.delete(oldest.value);
      }
      await index.markEnded(sessionId, ttlMs);
    },
    knownEnded(sessionId) {
      if (local.size === 0) return false;
      const expiresAt = local.get(sessionId);
      return expiresAt !== undefined && expiresAt > now();
    },
    async isEnded(sessionId) {
      return this.knownEnded(sessionId) || (await index.isEnded(sessionId));
    },
  };
}
