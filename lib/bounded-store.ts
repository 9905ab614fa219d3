import session, { type SessionData, type Store } from 'express-session';
import { STORE_TIMEOUT_MS } from './store.js';

type Callback<T> = (err?: unknown, value?: T) => void;

/**
 * Wraps the app's store so that every call answers within a bound: with Redis unreachable,
 * a store that queues commands would otherwise hang each request until Redis returns.
 * A call that times out fails; its late answer is ignored.
 */
export class BoundedStore extends session.Store {
  constructor(
    readonly inner: Store,
    private readonly timeoutMs: number = STORE_TIMEOUT_MS,
  ) {
    super();
  }

  private guard<T>(callback: Callback<T> | undefined, action: string, run: (done: Callback<T>) => void): void {
    const call = { settled: false };
    const finish = (err?: unknown, value?: T): void => {
      if (call.settled) return;
      call.settled = true;
      clearTimeout(timer);
      callback?.(err, value);
    };
    const timer = setTimeout(() => {
      finish(new Error(`session store ${action}: no answer within ${String(this.timeoutMs)} ms`));
    }, this.timeoutMs);
    timer.unref();
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

  override set(sid: string, data: SessionData, callback?: (err?: unknown) => void): void {
    this.guard(callback, 'set', (done) => {
      this.inner.set(sid, data, done);
    });
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.guard(callback, 'destroy', (done) => {
      this.inner.destroy(sid, done);
    });
  }

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
