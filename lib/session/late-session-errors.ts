import type { Request } from 'express';
import { describeError, type Logger } from '../logging/logger.js';
import { createRefusalLog } from '../logging/refusal-log.js';
import { errorTypeOf } from '../telemetry/telemetry.js';

const SAVE_FAILED = 'could not save the session after the answer: the changes this request made to it are lost';

/** req.session is typed as always there, but is gone once a logout destroyed it. */
function hasLogin(session: { oidc?: { login?: unknown } } | undefined): boolean {
  return session?.oidc?.login !== undefined;
}

/** Where a save that failed after the answer is reported; one per oidcAuth() instance. */
export interface LateSaveLog {
  failed(req: Request, err: unknown): void;
}

/**
 * A session with a login: one error line per failed save (there are as many as real users'
 * requests). Without one, any visitor's request to a page that writes the session can cause
 * it while the store refuses writes (Redis out of memory): rate-limited, one line a minute.
 */
export function lateSaveLog(logger: Logger): LateSaveLog {
  const anonymous = createRefusalLog(logger, `${SAVE_FAILED} (a session without a login)`, 'error');
  return {
    failed(req, err) {
      if (hasLogin(req.session)) logger.error({ ...describeError(err) }, SAVE_FAILED);
      else anonymous.refused(errorTypeOf(err), describeError(err));
    },
  };
}

/**
 * express-session calls its callback once, when the session is loaded, and again, with the
 * error, when the save, touch or destroy it makes as the response ends fails (`defer(next,
 * err)` after `res.end`). By then the answer has gone out: passing that error on would run
 * the app's error handler a second time, on a response already sent (ERR_HTTP_HEADERS_SENT),
 * and name it a load failure. So the first call goes to `onLoad`; a later error is logged,
 * once, and goes nowhere else.
 */
export function sessionCallback(log: LateSaveLog, req: Request, onLoad: (err?: unknown) => void): (err?: unknown) => void {
  let loaded = false;
  return (err?: unknown) => {
    if (!loaded) {
      loaded = true;
      onLoad(err);
      return;
    }
    if (err !== undefined && err !== null) log.failed(req, err);
  };
}
