import { MemoryStore } from 'express-session';
import { entryKeys, type SessionIndex, type SessionIndexEntry } from './session-index.js';

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
  const keysOf = (e: SessionIndexEntry): string[] => entryKeys(e, (kind, value) => `${kind}\u0000${e.issuer}\u0000${value}`);
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
