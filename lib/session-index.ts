/**
 * Where back-channel and front-channel logout find the sessions of a provider session
 * (`sid`) or of a user (`sub`): an index lookup, never a scan of the session store.
 */
export interface SessionIndexEntry {
  issuer: string;
  sub: string;
  sid: string | undefined;
  sessionId: string;
}

export interface SessionIndex {
  /** true when every app instance sees the same index (Redis); false for one process */
  readonly shared: boolean;
  /** index a session until `ttlMs` from now (the session's own lifetime) */
  add(entry: SessionIndexEntry, ttlMs: number): Promise<void>;
  remove(entry: SessionIndexEntry): Promise<void>;
  /** session ids of that sid, or of that sub when no sid is given */
  lookup(issuer: string, key: { sid?: string | undefined; sub?: string | undefined }): Promise<string[]>;
}

/** One process only: each `oidcAuth()` instance gets its own. */
export function memorySessionIndex(now: () => number = Date.now): SessionIndex {
  const buckets = new Map<string, Map<string, number>>();
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
  };
}
