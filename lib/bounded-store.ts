import session, { type SessionData, type Store } from 'express-session';
import { STORE_TIMEOUT_MS } from './store.js';

type Callback<T> = (err?: unknown, value?: T) => void;

interface Pending {
  deadline: number;
  expire(): void;
}

const SWEEP_MS = 250;

/**
 * Deadlines for store calls, checked by one sweeping interval instead of a timer per call:
 * a store call happens on nearly every request, and a timer each is a measurable cost. A
 * call fails at most SWEEP_MS after its deadline. The interval stops once nothing is
 * pending and never keeps the process alive.
 */
class Deadlines {
  private readonly pending = new Set<Pending>();
  private timer: NodeJS.Timeout | undefined;

  add(entry: Pending): void {
    this.pending.add(entry);
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.sweep();
    }, SWEEP_MS);
    this.timer.unref();
  }

  delete(entry: Pending): void {
    this.pending.delete(entry);
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of this.pending) {
      if (entry.deadline <= now) {
        this.pending.delete(entry);
        entry.expire();
      }
    }
    if (this.pending.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * Stands between express-session and the app's store. With `timeoutMs`, every call answers
 * within a bound: with Redis unreachable, a store that queues commands would otherwise hang
 * each request until Redis returns (a call that times out fails; its late answer is
 * ignored). Without touch (see wrapStore) express-session stops rewriting every session
 * on every request.
 */
class DelegatingStore extends session.Store {
  private readonly deadlines = new Deadlines();

  constructor(
    readonly inner: Store,
    private readonly timeoutMs: number | undefined,
  ) {
    super();
  }

  protected guard<T>(callback: Callback<T> | undefined, action: string, run: (done: Callback<T>) => void): void {
    if (this.timeoutMs === undefined) {
      run((err, value) => callback?.(err, value));
      return;
    }
    const ms = this.timeoutMs;
    const call = { settled: false };
    const finish = (err?: unknown, value?: T): void => {
      if (call.settled) return;
      call.settled = true;
      this.deadlines.delete(entry);
      callback?.(err, value);
    };
    const entry: Pending = {
      deadline: Date.now() + ms,
      expire: () => {
        finish(new Error(`session store ${action}: no answer within ${String(ms)} ms`));
      },
    };
    this.deadlines.add(entry);
    try {
      run(finish);
    } catch (err) {
      finish(err);
    }
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.guard<SessionData | null>((err, value) => {
      callback(err, value);
    }, 'get', (done) => {
      this.inner.get(sid, done);
    });
  }

  /**
   * A request that loaded the session before a refresh and saves it after (it noted its
   * activity, or the app changed the session) would write the old tokens back, and with
   * rotating refresh tokens the next refresh would fail and log the user out. So a save
   * whose tokens are older than the stored ones keeps the stored tokens.
   */
  override set(sid: string, data: SessionData, callback?: (err?: unknown) => void): void {
    const login = data.oidc?.login;
    if (login === undefined) {
      this.guard(callback, 'set', (done) => {
        this.inner.set(sid, data, done);
      });
      return;
    }
    this.get(sid, (err, stored) => {
      if (err !== undefined && err !== null) {
        callback?.(err);
        return;
      }
      const current = stored?.oidc?.login;
      const fresher = current !== undefined && (current.refreshes ?? 0) > (login.refreshes ?? 0);
      const merged: SessionData = fresher ? { ...data, oidc: { ...data.oidc, login: { ...current, lastSeenAt: Math.max(login.lastSeenAt ?? 0, current.lastSeenAt ?? 0) } } } : data;
      this.guard(callback, 'set', (done) => {
        this.inner.set(sid, merged, done);
      });
    });
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.guard(callback, 'destroy', (done) => {
      this.inner.destroy(sid, done);
    });
  }
}

class TouchingStore extends DelegatingStore {
  override touch(sid: string, data: SessionData, callback?: () => void): void {
    const touch = this.inner.touch?.bind(this.inner);
    if (touch === undefined) {
      callback?.();
      return;
    }
    // touch has no error channel in express-session: a failure or timeout only ends the wait.
    this.guard<undefined>(() => callback?.(), 'touch', (done) => {
      touch(sid, data, () => {
        done();
      });
    });
  }
}

export interface StoreWrapping {
  /** bound every call (any store that talks to a server) */
  bounded: boolean;
  /** let express-session touch the session on every request */
  touch: boolean;
}

/**
 * The store express-session is given. Touch is dropped when the idle lifetime is on: the
 * package then writes the session (and so renews its expiry in the store) at least every
 * minute of activity, and a touch per request would only re-send what the store holds.
 */
export function wrapStore(store: Store, { bounded, touch }: StoreWrapping): Store {
  const timeoutMs = bounded ? STORE_TIMEOUT_MS : undefined;
  return touch ? new TouchingStore(store, timeoutMs) : new DelegatingStore(store, timeoutMs);
}
