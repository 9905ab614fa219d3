import { Deadlines } from '../timeout.js';
import type { SessionIndex } from './session-index.js';

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
