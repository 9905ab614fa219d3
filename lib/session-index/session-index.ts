import type { SessionData, Store } from 'express-session';

/**
 * Writes a session only while its id carries no ended mark and, for an update, only while
 * its key still exists, in one atomic step with both checks (W1 and C1 of ended-marks.ts
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

/** The keys an entry is found by: its user's, and its provider session's when it has one. */
export function entryKeys(entry: SessionIndexEntry, keyOf: (kind: 'sub' | 'sid', value: string) => string): string[] {
  return entry.sid === undefined ? [keyOf('sub', entry.sub)] : [keyOf('sub', entry.sub), keyOf('sid', entry.sid)];
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
   * session is destroyed, read after every write of that session (see ended-marks.ts).
   */
  markEnded(sessionId: string, ttlMs: number): Promise<void>;
  /** true while an ended-marker for this session id is held */
  isEnded(sessionId: string): Promise<boolean>;
  /**
   * Optional: a writer for `store` when this index can write its sessions atomically with the
   * ended mark (the store and the index in one database); undefined otherwise. With one, a
   * session read needs no mark check (see ended-marks.ts).
   */
  atomicWriter?(store: Store): AtomicSessionWriter | undefined;
}
