import type { Sealer } from '../crypto/sealing.js';
import type { SessionIndex, SessionIndexEntry } from './session-index.js';

/** The keyed hashes (newest secret first) under which the index holds this sub or sid. */
export function indexHashes(sealer: Sealer, issuer: string, kind: 'sub' | 'sid', value: string): readonly string[] {
  return sealer.keyedHashes('index', `${issuer}\u0000${kind}\u0000${value}`);
}

/**
 * The session index sees a keyed hash of each sub and sid, never the value: a dump of Redis
 * names no user. Written with the newest secret; removed and looked up under every secret,
 * so entries written before a rotation are still found by back-channel logout.
 */
export function hashedSessionIndex(index: SessionIndex, sealer: Sealer): SessionIndex {
  const hashes = (issuer: string, kind: 'sub' | 'sid', value: string): readonly string[] => indexHashes(sealer, issuer, kind, value);
  const entries = (e: SessionIndexEntry): SessionIndexEntry[] => {
    const subs = hashes(e.issuer, 'sub', e.sub);
    const sids = e.sid === undefined ? undefined : hashes(e.issuer, 'sid', e.sid);
    return subs.map((sub, i) => ({ issuer: e.issuer, sessionId: e.sessionId, sub, sid: sids?.[i] }));
  };
  return {
    shared: index.shared,
    async add(entry, ttlMs) {
      const [newest] = entries(entry);
      if (newest !== undefined) await index.add(newest, ttlMs);
    },
    async remove(entry) {
      await Promise.all(entries(entry).map((e) => index.remove(e)));
    },
    async lookup(issuer, { sid, sub }) {
      const keys =
        sid !== undefined ? hashes(issuer, 'sid', sid).map((h) => ({ sid: h })) : sub !== undefined ? hashes(issuer, 'sub', sub).map((h) => ({ sub: h })) : [];
      const found = await Promise.all(keys.map((key) => index.lookup(issuer, key)));
      return [...new Set(found.flat())];
    },
    claimOnce: (key, ttlMs) => index.claimOnce(key, ttlMs),
    release: (key) => index.release(key),
    markEnded: (sessionId, ttlMs) => index.markEnded(sessionId, ttlMs),
    isEnded: (sessionId) => index.isEnded(sessionId),
    ...(index.atomicWriter === undefined ? {} : { atomicWriter: index.atomicWriter.bind(index) }),
  };
}
