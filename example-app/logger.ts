import type { Logger } from '../lib/index.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(value: string): value is LogLevel {
  return value in RANK;
}

/**
 * A one-line-per-event console logger with the shape oidcAuth() expects
 * (pino or winston fit the same slot). Lines below `minLevel` are dropped.
 */
export function consoleLogger(minLevel: LogLevel = 'info'): Logger {
  const at =
    (level: LogLevel) =>
    (fields: Record<string, unknown>, message: string): void => {
      if (RANK[level] < RANK[minLevel]) return;
      const time = new Date().toISOString().slice(11, 19);
      const extra = Object.keys(fields).length === 0 ? '' : ` ${JSON.stringify(fields)}`;
      const line = `${time} ${level.padEnd(5)} ${message}${extra}`;
      if (level === 'error' || level === 'warn') console.error(line);
      else console.log(line);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** For tests and embedding: says nothing. */
export function silentLogger(): Logger {
  const none = (): void => undefined;
  return { debug: none, info: none, warn: none, error: none };
}
