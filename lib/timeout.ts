export const TIMED_OUT: unique symbol = Symbol('timed out');

/** The promise's value, or TIMED_OUT after `ms`; the timer never keeps the process alive. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => {
      resolve(TIMED_OUT);
    }, ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

const SWEEP_MS = 250;

/** One call waiting for its answer, linked into its Deadlines' list. */
export class Pending {
  prev: Pending | undefined = undefined;
  next: Pending | undefined = undefined;
  linked = true;

  constructor(
    readonly deadline: number,
    readonly expire: () => void,
  ) {}
}

/**
 * Deadlines for store calls, checked by one sweeping interval instead of a timer per call:
 * a store call happens on nearly every request, and a timer each is a measurable cost. A
 * call fails at most SWEEP_MS after its deadline. The interval stops once nothing is
 * pending and never keeps the process alive.
 *
 * The calls wait in a linked list, not a Set: a Set that gains and loses an entry on every
 * request keeps reallocating its table, and the benchmark measured that as a third more
 * garbage-collection time per request. All calls of one Deadlines have the same timeout, so
 * the list is in deadline order and a sweep stops at the first call still in time.
 */
export class Deadlines {
  private head: Pending | undefined = undefined;
  private tail: Pending | undefined = undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Registers a call; `expire` runs if delete() has not been called within the timeout. */
  add(expire: () => void): Pending {
    const entry = new Pending(Date.now() + this.timeoutMs, expire);
    entry.prev = this.tail;
    if (this.tail === undefined) this.head = entry;
    else this.tail.next = entry;
    this.tail = entry;
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        this.sweep();
      }, SWEEP_MS);
      this.timer.unref();
    }
    return entry;
  }

  /** `call`'s outcome, or a rejection with `timedOut()` once the deadline has passed (its late answer is ignored). */
  bound<T>(call: Promise<T>, timedOut: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = this.add(() => {
        reject(timedOut());
      });
      call
        .finally(() => {
          this.delete(entry);
        })
        .then(resolve, reject);
    });
  }

  delete(entry: Pending): void {
    if (!entry.linked) return;
    entry.linked = false;
    if (entry.prev === undefined) this.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    while (this.head !== undefined && this.head.deadline <= now) {
      const entry = this.head;
      this.delete(entry);
      entry.expire();
    }
    if (this.head === undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
