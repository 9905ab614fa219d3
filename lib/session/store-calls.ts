import type { SessionData, Store } from 'express-session';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import { TIMED_OUT, within } from '../timeout.js';

/** Bound on one session store or session index call: Redis down must answer 503 quickly, not hang. */
export const STORE_TIMEOUT_MS = 3000;

/** The one error for a store that failed: 503, so the browser (or the provider) tries again. */
export function storeFailed(action: string, cause: unknown): OidcAuthError {
  return new OidcAuthError(OidcAuthErrorCode.SESSION_STORE_FAILED, 503, `The session store failed to ${action} the session; try again shortly.`, { cause });
}

/** A store call with a deadline: an unreachable Redis must give a clear 503, never a hung request. */
function bounded<T>(action: string, timeoutMs: number, run: (done: (err: unknown, value?: T) => void) => void): Promise<T | undefined> {
  const call = new Promise<T | undefined>((resolve, reject) => {
    run((err, value) => {
      if (err !== undefined && err !== null) reject(storeFailed(action, err));
      else resolve(value);
    });
  });
  return within(call, timeoutMs).then((result) => {
    if (result === TIMED_OUT) throw storeFailed(action, new Error(`no answer within ${String(timeoutMs)} ms`));
    return result;
  });
}

export function storeGet(store: Store, id: string, timeoutMs: number): Promise<SessionData | null | undefined> {
  return bounded<SessionData | null>('read', timeoutMs, (done) => {
    store.get(id, done);
  });
}

export async function storeSet(store: Store, id: string, data: SessionData, timeoutMs: number): Promise<void> {
  await bounded<undefined>('save', timeoutMs, (done) => {
    store.set(id, data, done);
  });
}

export async function storeDestroy(store: Store, id: string, timeoutMs: number): Promise<void> {
  await bounded<undefined>('destroy', timeoutMs, (done) => {
    store.destroy(id, done);
  });
}
