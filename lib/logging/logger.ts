import { fieldOf } from '../values.js';

/**
 * The logging surface the package needs. pino, bunyan, winston and `console` all fit.
 * The package calls it as `log.level({ ...fields }, 'message')` and never passes a token,
 * a code, a cookie or a session id in either argument.
 */
export interface Logger {
  /** each step of a login, refresh or logout, and refused requests from anyone */
  debug(fields: Record<string, unknown>, message: string): void;
  /** start-up facts worth a line */
  info(fields: Record<string, unknown>, message: string): void;
  /** something an operator should look at (at most once a minute for what anyone can cause) */
  warn(fields: Record<string, unknown>, message: string): void;
  /** a failure that lost something (a session that could not be saved…) */
  error(fields: Record<string, unknown>, message: string): void;
}

/** Warnings and errors go to the console, tagged; debug and info stay silent. */
export function quietConsoleLogger(): Logger {
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (fields, message) => {
      console.warn(`[express-oidc-auth] ${message}`, fields);
    },
    error: (fields, message) => {
      console.error(`[express-oidc-auth] ${message}`, fields);
    },
  };
}

/** A short, secret-free description of an error for log fields. */
export function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = fieldOf(err, 'code');
    return typeof code === 'string' ? { err: err.name, code, message: err.message } : { err: err.name, message: err.message };
  }
  return { err: typeof err };
}
