import { MemoryStore, type SessionData, type Store } from 'express-session';
import { Deadlines } from '../timeout.js';

/**
 * Writes a session only while its id carries no ended mark and, for an update, only while
 * its key still exists, in one atomic step with both checks (W1 and C1 of ended-sessions.ts
 * without their window): no write can land after an end, with or without the mark.
 */
export interface AtomicSessionWriter {
  /**
   * `'written'`, or `'ended'` when nothing was written: the id is marked ended, or `mode` is
   * `'update'` and the store no longer holds the key (`'create'` is only the callback's first
   * save of a new login)
   */
  setUnlessEnded(sessionId: string, data: SessionData, mode: 'create' | 'update'): Promise<'written' | 'ended'>;
}
/**
 * Where back-channel and front-channel logout find the sessions of a provider session
 * (`sid`) or of a user (`sub`): an index lookup, never a scan of the session store.
 */
export interface SessionIndexEntry {
  /** the provider's issuer: sessions of two providers never mix */
  issuer: string;
  /** the user, the ID token's `sub` */
  sub: string;
  /** the provider session, the ID token's `sid`, when it sent one */
  sid: string | undefined;
  /** the express-session id of the session to end */
  sessionId: string;
}

/**
 * The session index: where logouts find sessions, where logout token ids are remembered
 * against replay, and where ended sessions are marked. `redisSessionIndex()` and
 * `postgresSessionIndex()` make one shared by every instance; the default is in memory, for
 * one process. A custom one implements these methods.
 */
export interface SessionIndex {
  /** true when every app instance sees the same index (Redis, PostgreSQL); false for one process */
  readonly shared: boolean;
  /** index a session until `ttlMs` from now (the session's own lifetime) */
  add(entry: SessionIndexEntry, ttlMs: number): Promise<void>;
  /** drop a session from the index (at its end) */
  remove(entry: SessionIndexEntry): Promise<void>;
  /** session ids of that sid, or of that sub when no sid is given */
  lookup(issuer: string, key: { sid?: string | undefined; sub?: string | undefined }): Promise<string[]>;
  /**
   * Holds `key` for `ttlMs`: true for the one caller that got it, false while it is held. The
   * package builds two things on it: the logout-token jti replay memory (logout-token.ts) and
   * the refresh lock (refresh-once.ts).
   */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** gives a held key back before its ttl: the refresh lock once the refresh is done, a jti whose logout failed (so the provider's retry is not refused) */
  release(key: string): Promise<void>;
  /**
   * Remembers for `ttlMs` that this session id was ended by a logout: written before the
   * session is destroyed, read after every write of that session (see ended-sessions.ts).
   */
  markEnded(sessionId: string, ttlMs: number): Promise<void>;
  /** true while an ended-marker for this session id is held */
  isEnded(sessionId: string): Promise<boolean>;
  /**
   * Optional: a writer for `store` when this index can write its sessions atomically with the
   * ended mark (the store and the index in one database); undefined otherwise. With one, a
   * session read needs no mark check (see ended-sessions.ts).
   */
  atomicWriter?(store: Store): AtomicSessionWriter | undefined;
}

/**
 * MemoryStore's own record of its sessions (`sessions`, an object keyed by id, in every
 * express-session release): read synchronously, so the key check and the write share one turn.
 */
function heldSessions(store: MemoryStore): object | undefined {
  const sessions: unknown = Reflect.get(store, 'sessions');
  return typeof sessions === 'object' && sessions !== null ? sessions : undefined;
}

/** Below this many entries a map of the memory index is never swept: small enough to keep. */
const SWEEP_FLOOR = 1024;

/** One process only: each `oidcAuth()` instance gets its own. */
export function memorySessionIndex(now: () => number = Date.now): SessionIndex {
  const buckets = new Map<string, Map<string, number>>();
  const claims = new Map<string, number>();
  const ended = new Map<string, number>();
  let adds = 0;
  // Expired entries are swept once a map has doubled since the last sweep (at least 1024): a
  // sweep that finds everything still live (ended marks live as long as their sessions) must
  // not run again at the next call, or many logouts would cost O(n²).
  let sweepClaimsAt = SWEEP_FLOOR;
  let sweepEndedAt = SWEEP_FLOOR;
  const sweep = (map: Map<string, number>, t: number): number => {
    for (const [k, expiresAt] of map) if (expiresAt <= t) map.delete(k);
    return Math.max(SWEEP_FLOOR, 2 * map.size);
  };
  const keysOf = (e: SessionIndexEntry): string[] =>
    e.sid === undefined ? [`sub\u0000${e.issuer}\u0000${e.sub}`] : [`sub\u0000${e.issuer}\u0000${e.sub}`, `sid\u0000${e.issuer}\u0000${e.sid}`];
  const live = (key: string): string[] => {
    const bucket = buckets.get(key);
    if (bucket === undefined) return [];
    const t = now();
    for (const [id, expiresAt] of bucket) if (expiresAt <= t) bucket.delete(id);
    if (bucket.size === 0) buckets.delete(key);
    return [...bucket.keys()];
  };
  return {
    shared: false,
    add(entry, ttlMs) {
      // Abandoned sessions are never looked up again: sweep now and then, or their entries stay forever.
      if (++adds % 1024 === 0) for (const key of [...buckets.keys()]) live(key);
      for (const key of keysOf(entry)) {
        let bucket = buckets.get(key);
        if (bucket === undefined) {
          bucket = new Map<string, number>();
          buckets.set(key, bucket);
        }
        bucket.set(entry.sessionId, now() + ttlMs);
      }
      return Promise.resolve();
    },
    remove(entry) {
      for (const key of keysOf(entry)) {
        const bucket = buckets.get(key);
        bucket?.delete(entry.sessionId);
        if (bucket?.size === 0) buckets.delete(key);
      }
      return Promise.resolve();
    },
    lookup(issuer, { sid, sub }) {
      if (sid !== undefined) return Promise.resolve(live(`sid\u0000${issuer}\u0000${sid}`));
      if (sub !== undefined) return Promise.resolve(live(`sub\u0000${issuer}\u0000${sub}`));
      return Promise.resolve([]);
    },
    claimOnce(key, ttlMs) {
      const t = now();
      if (claims.size >= sweepClaimsAt) sweepClaimsAt = sweep(claims, t);
      const held = claims.get(key);
      if (held !== undefined && held > t) return Promise.resolve(false);
      claims.set(key, t + ttlMs);
      return Promise.resolve(true);
    },
    release(key) {
      claims.delete(key);
      return Promise.resolve();
    },
    markEnded(sessionId, ttlMs) {
      const t = now();
      if (ended.size >= sweepEndedAt) sweepEndedAt = sweep(ended, t);
      ended.set(sessionId, Math.max(ended.get(sessionId) ?? 0, t + ttlMs));
      return Promise.resolve();
    },
    isEnded(sessionId) {
      const expiresAt = ended.get(sessionId);
      return Promise.resolve(expiresAt !== undefined && expiresAt > now());
    },
    atomicWriter(store) {
      // express-session's MemoryStore writes synchronously (only its callback is deferred), so
      // the check and the write below run in one turn of this process: nothing comes between.
      if (!(store instanceof MemoryStore) || heldSessions(store) === undefined) return undefined;
      return {
        setUnlessEnded(sessionId, data, mode) {
          const expiresAt = ended.get(sessionId);
          if (expiresAt !== undefined && expiresAt > now()) return Promise.resolve('ended');
          // Read at each write: MemoryStore.clear() replaces the object.
          const held = heldSessions(store);
          if (mode === 'update' && (held === undefined || !Object.hasOwn(held, sessionId))) return Promise.resolve('ended');
          return new Promise((resolve, reject) => {
            store.set(sessionId, data, (err?: unknown) => {
              if (err === undefined || err === null) resolve('written');
              else reject(new Error('MemoryStore failed to save the session', { cause: err }));
            });
          });
        },
      };
    },
  };
}

/**
 * Every index call bounded in time, every failure translated: an unreachable index fails
 * fast, with one clear error, instead of hanging a request.
 */
export function boundedSessionIndex(index: SessionIndex, timeoutMs: number, failure: (what: string, cause: unknown) => Error): SessionIndex {
  // One sweeping interval, not a timer per call: without atomic writes the ended-mark check runs on every request of a logged-in session.
  const deadlines = new Deadlines(timeoutMs);
  const bound = <T>(what: string, call: Promise<T>): Promise<T> =>
    deadlines.bound(
      call.catch((err: unknown) => {
        throw failure(what, err);
      }),
      () => failure(what, new Error(`no answer within ${String(timeoutMs)} ms`)),
    );
  return {
    shared: index.shared,
    add: (entry, ttlMs) => bound('add', index.add(entry, ttlMs)),
    remove: (entry) => bound('remove', index.remove(entry)),
    lookup: (issuer, key) => bound('lookup', index.lookup(issuer, key)),
    claimOnce: (key, ttlMs) => bound('claimOnce', index.claimOnce(key, ttlMs)),
    release: (key) => bound('release', index.release(key)),
    markEnded: (sessionId, ttlMs) => bound('markEnded', index.markEnded(sessionId, ttlMs)),
    isEnded: (sessionId) => bound('isEnded', index.isEnded(sessionId)),
    // The session store's own deadline bounds these writes (bounded-store.ts).
    ...(index.atomicWriter === undefined ? {} : { atomicWriter: index.atomicWriter.bind(index) }),
  };
}
