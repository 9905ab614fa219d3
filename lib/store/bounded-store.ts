import session, { type SessionData, type Store } from 'express-session';
import type { EndedSessions } from '../ended/ended-marks.js';
import type { AtomicSessionWriter } from '../session-index/session-index.js';
import { writeLogin, type SessionOps } from '../ended/session-write.js';
import { STORE_TIMEOUT_MS } from '../session/store-calls.js';
import { Deadlines, type Pending } from '../timeout.js';
import { errorTypeOf, type StoreOperation, type Telemetry } from '../telemetry/telemetry.js';

type Callback<T> = (err?: unknown, value?: T) => void;

const failureOf = (err: unknown): string | undefined => (err === undefined || err === null ? undefined : errorTypeOf(err));

/**
 * Stands between express-session and the app's store. With `timeoutMs`, every call answers
 * within a bound: with Redis unreachable, a store that queues commands would otherwise hang
 * each request until Redis returns (a call that times out fails; its late answer is
 * ignored). Without touch (see wrapStore) express-session stops rewriting every session
 * on every request.
 */
export class DelegatingStore extends session.Store {
  private readonly deadlines: Deadlines | undefined;
  /** a session the package read already, for express-session's next read of that id in this turn (see handOver) */
  private handoff: { readonly sid: string; readonly data: SessionData | null } | undefined;

  constructor(
    readonly inner: Store,
    private readonly timeoutMs: number | undefined,
    protected readonly ended: EndedSessions,
    private readonly atomic: AtomicSessionWriter | undefined,
    private readonly telemetry: Telemetry,
  ) {
    super();
    this.deadlines = timeoutMs === undefined ? undefined : new Deadlines(timeoutMs);
  }

  protected guard<T>(callback: Callback<T> | undefined, action: StoreOperation, run: (done: Callback<T>) => void): void {
    const measured = this.telemetry.storeCall(action);
    const { deadlines } = this;
    if (deadlines === undefined) {
      run((err, value) => {
        measured(failureOf(err));
        callback?.(err, value);
      });
      return;
    }
    let settled = false;
    const settle = (err: unknown, value: T | undefined, errorType: string | undefined): void => {
      if (settled) return;
      settled = true;
      deadlines.delete(entry);
      measured(errorType);
      callback?.(err, value);
    };
    // The store calls this with whatever arguments it likes: only the first two are read.
    const finish = (err?: unknown, value?: T): void => {
      settle(err, value, failureOf(err));
    };
    const entry: Pending = deadlines.add(() => {
      settle(new Error(`session store ${action}: no answer within ${String(this.timeoutMs)} ms`), undefined, 'timeout');
    });
    try {
      run(finish);
    } catch (err) {
      finish(err);
    }
  }

  private rawGet(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.guard<SessionData | null>(
      (err, value) => {
        callback(err, value);
      },
      'get',
      (done) => {
        this.inner.get(sid, done);
      },
    );
  }

  /**
   * R1 of ended-marks.ts, at the read itself: a login stored under an ended id loads as no
   * session (and is destroyed again). The mark is asked for in the same tick as the session,
   * so with one Redis client both commands go out in one write and cost one round trip.
   * When the mark cannot be read, a logged-in session does not load (fail closed: 503).
   * Writes that are atomic with the mark never leave an ended session to find: then only
   * this instance's own memory of ended ids is asked, which costs nothing.
   */
  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    const { handoff } = this;
    if (handoff !== undefined && handoff.sid === sid) {
      this.handoff = undefined;
      callback(undefined, handoff.data);
      return;
    }
    if (this.atomic !== undefined) {
      this.rawGet(sid, (err, value) => {
        if (err !== undefined && err !== null) callback(err);
        else callback(undefined, value?.oidc?.login !== undefined && this.ended.knownEnded(sid) ? null : value);
      });
      return;
    }
    let stored: { err: unknown; value: SessionData | null | undefined } | undefined;
    let mark: { err: unknown; ended: boolean } | undefined;
    const settle = (): void => {
      if (stored === undefined || mark === undefined) return;
      if (stored.err !== undefined && stored.err !== null) {
        callback(stored.err);
        return;
      }
      if (stored.value?.oidc?.login === undefined) {
        callback(undefined, stored.value);
        return;
      }
      if (mark.err !== undefined) {
        callback(mark.err);
        return;
      }
      if (mark.ended) {
        this.destroy(sid, () => undefined);
        callback(undefined, null);
        return;
      }
      callback(undefined, stored.value);
    };
    this.rawGet(sid, (err, value) => {
      stored = { err, value };
      settle();
    });
    this.ended.isEnded(sid).then(
      (ended) => {
        mark = { err: undefined, ended };
        settle();
      },
      (err: unknown) => {
        mark = { err: err ?? new Error('the ended mark could not be read'), ended: false };
        settle();
      },
    );
  }

  /**
   * Runs `run` (express-session, for one request) with the session `data` the package already
   * read for `sid` through get() above, R1 included: express-session's read of that id, which
   * it makes at once, answers with it synchronously instead of asking the store again. Only
   * within `run`: JavaScript runs nothing else meanwhile, so no other request can take it.
   */
  handOver(sid: string, data: SessionData | null, run: () => void): void {
    this.handoff = { sid, data };
    try {
      run();
    } finally {
      this.handoff = undefined;
    }
  }

  /** Every save of a logged-in session goes through writeLogin: never over newer tokens, never over an end. */
  override set(sid: string, data: SessionData, callback?: (err?: unknown) => void): void {
    const ops: SessionOps = {
      // the mark is checked after the write (W1): the read before it finds newer tokens, and whether the login is still there (C1)
      get: (done) => {
        this.rawGet(sid, done);
      },
      set: (next, done) => {
        this.guard(done, 'set', (finish) => {
          this.inner.set(sid, next, finish);
        });
      },
      destroy: (done) => {
        this.destroy(sid, done);
      },
    };
    const { atomic } = this;
    if (atomic !== undefined) {
      ops.setUnlessEnded = (next, mode, done) => {
        this.guard(done, 'set', (finish) => {
          atomic.setUnlessEnded(sid, next, mode).then((outcome) => {
            finish(undefined, outcome);
          }, finish);
        });
      };
    }
    writeLogin(ops, this.ended, sid, data, callback ?? (() => undefined));
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
    // A store whose touch re-creates a missing session must not touch one this instance ended.
    if (touch === undefined || this.ended.knownEnded(sid)) {
      callback?.();
      return;
    }
    // touch has no error channel in express-session: a failure or timeout only ends the wait.
    this.guard<undefined>(
      () => callback?.(),
      'touch',
      (done) => {
        touch(sid, data, () => {
          done();
        });
      },
    );
  }
}

export interface StoreWrapping {
  /** bound every call (any store that talks to a server) */
  bounded: boolean;
  /** let express-session touch the session on every request */
  touch: boolean;
  /** the sessions ended by logouts, which no save may bring back */
  ended: EndedSessions;
  /** the index's writer for this store, when it can write sessions atomically with the ended mark */
  atomic?: AtomicSessionWriter | undefined;
  /** times every call (express_oidc_auth.session_store.duration, a span per call) */
  telemetry: Telemetry;
}

/**
 * The store express-session is given. Touch is dropped when the idle lifetime is on: the
 * package then writes the session (and so renews its expiry in the store) at least every
 * minute of activity, and a touch per request would only re-send what the store holds.
 */
export function wrapStore(store: Store, { bounded, touch, ended, atomic, telemetry }: StoreWrapping): DelegatingStore {
  const timeoutMs = bounded ? STORE_TIMEOUT_MS : undefined;
  return touch ? new TouchingStore(store, timeoutMs, ended, atomic, telemetry) : new DelegatingStore(store, timeoutMs, ended, atomic, telemetry);
}
