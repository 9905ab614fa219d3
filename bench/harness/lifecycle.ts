import { stopAllChildren } from './processes.js';

export interface BenchLifecycle {
  /** a line on stdout, with the seconds since the run started */
  log: (line: string) => void;
  /** something to close after the child processes stop (the topology's Redis) */
  closeAtEnd: (close: () => Promise<void>) => void;
  /** stops every child process, then closes what was registered; once, however often called */
  cleanup: () => Promise<void>;
}

/** A bench entry point's log and cleanup, with Ctrl-C and SIGTERM stopping everything it started. */
export function benchLifecycle(): BenchLifecycle {
  const started = Date.now();
  const closers: (() => Promise<void>)[] = [];
  let cleaning: Promise<void> | undefined;
  const lifecycle: BenchLifecycle = {
    log(line) {
      console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
    },
    closeAtEnd(close) {
      closers.push(close);
    },
    cleanup() {
      cleaning ??= (async () => {
        await stopAllChildren();
        for (const close of closers) await close();
      })();
      return cleaning;
    },
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      lifecycle.log(`${signal}: stopping everything`);
      void lifecycle.cleanup().finally(() => process.exit(130));
    });
  }
  return lifecycle;
}
