import type { Logger } from './logger.js';

/** At most one warning per this window: junk requests must not flood the default log. */
export const REFUSAL_WARNING_INTERVAL_MS = 60 * 1000;
/** Distinct reasons kept per window; the rest are counted as "other". */
const MAX_REASONS = 20;

export interface RefusalLog {
  /**
   * Logs the refusal at debug, and at the log's level when none went out in the last minute.
   * `fields` (never a token, code, cookie or session id) go with those two lines, not the summary.
   */
  refused(reason: string, fields?: Record<string, unknown>): void;
}

/**
 * Everything a request without a session can make the package log goes through here: a
 * back-channel logout POST needs no credential to reach the route, a stray cookie costs
 * nothing to send, and a provider or store outage turns every anonymous request into a
 * failure. Each is logged at debug. The first of a window is also logged at `level` (a
 * warning unless said otherwise), so an operator sees a misconfigured provider at once; the
 * others of that window are summed up in one line at that level when it closes (counts by
 * reason), so a flood costs two lines a minute.
 */
export function createRefusalLog(logger: Logger, message: string, level: 'warn' | 'error' = 'warn'): RefusalLog {
  let windowOpen = false;
  let counts = new Map<string, number>();

  const close = (): void => {
    windowOpen = false;
    if (counts.size === 0) return;
    const reasons = Object.fromEntries(counts);
    const refused = [...counts.values()].reduce((sum, n) => sum + n, 0);
    counts = new Map();
    logger[level]({ refused, reasons, perSeconds: REFUSAL_WARNING_INTERVAL_MS / 1000 }, `${message} (summary)`);
    // The summary opens the next window: at most one warning per interval, whatever the rate.
    open();
  };
  const open = (): void => {
    windowOpen = true;
    // unref: a pending summary must not keep the process alive
    setTimeout(close, REFUSAL_WARNING_INTERVAL_MS).unref();
  };

  return {
    refused(reason, fields = {}) {
      logger.debug({ ...fields, reason }, message);
      if (!windowOpen) {
        logger[level]({ ...fields, reason, note: 'further ones within a minute are summed up in one line' }, message);
        open();
        return;
      }
      const key = counts.has(reason) || counts.size < MAX_REASONS ? reason : 'other';
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
  };
}
