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

export interface Pending {
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
export class Deadlines {
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
