import type { StoredLogin } from '../session/session.js';
import type { SessionIndex } from '../session-index/session-index.js';
import { STORE_TIMEOUT_MS } from '../session/store-calls.js';

/**
 * The rule: a session's refresh token is spent at most once, however many requests, tabs and
 * instances need a fresh access token at the same moment. With rotating refresh tokens a
 * second use fails, and many providers then revoke the whole grant: the user would be logged
 * out by their own traffic. The rule is kept in four places, which name each other:
 *
 * 1. here, within a process: concurrent refreshes of one session share one promise;
 * 2. here, across instances: the refresh lock, a key in the session index
 *    (`refresh:<session id>`; a Redis key or a PostgreSQL claims row, each with an expiry,
 *    so that a holder that dies frees it when it lapses) that one instance holds for the
 *    time of the grant, while the others wait for the new tokens to appear in the store
 *    (refresh.ts waitForOther);
 * 3. refresh.ts refreshLocked: under the lock, the session is read again, and tokens newer
 *    than the ones the request saw are taken instead of spending the old refresh token;
 * 4. session-write.ts writeLogin: a request that loaded the session before a refresh never
 *    saves the old tokens back over the new ones (the higher `refreshes` count wins).
 */
export interface RefreshOnce {
  /** how long an instance may hold the lock; waiters give up after as long */
  readonly lockTtlMs: number;
  /**
   * `spend` under the session's lock, or `waitForOther` when another instance holds it; a
   * second call for the same session while one runs in this process gets the same promise.
   */
  run(sessionId: string, spend: () => Promise<StoredLogin>, waitForOther: () => Promise<StoredLogin>): Promise<StoredLogin>;
}

/**
 * Longer than the worst case of the work done under the lock (a store read, the token
 * request, a JWKS fetch, a store write), so the lock never lapses while it is in use.
 */
export function refreshLockTtlMs(httpTimeoutMs: number): number {
  return 2 * httpTimeoutMs + 2 * STORE_TIMEOUT_MS + 1000;
}

export function refreshOnce(index: SessionIndex, httpTimeoutMs: number): RefreshOnce {
  const lockTtlMs = refreshLockTtlMs(httpTimeoutMs);
  const inflight = new Map<string, Promise<StoredLogin>>();

  async function underLock(sessionId: string, spend: () => Promise<StoredLogin>, waitForOther: () => Promise<StoredLogin>): Promise<StoredLogin> {
    const lock = `refresh:${sessionId}`;
    if (!(await index.claimOnce(lock, lockTtlMs))) return waitForOther();
    try {
      return await spend();
    } finally {
      // A failed release only delays the next refresh of this session until the lock lapses.
      await index.release(lock).catch(() => undefined);
    }
  }

  return {
    lockTtlMs,
    run(sessionId, spend, waitForOther) {
      let pending = inflight.get(sessionId);
      if (pending === undefined) {
        pending = underLock(sessionId, spend, waitForOther).finally(() => inflight.delete(sessionId));
        inflight.set(sessionId, pending);
      }
      return pending;
    },
  };
}
