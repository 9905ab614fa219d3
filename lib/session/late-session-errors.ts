import type { Logger } from '../logging/logger.js';
import { describeError } from '../logging/logger.js';

/**
 * express-session calls its callback once, when the session is loaded, and again, with the
 * error, when the save, touch or destroy it makes as the response ends fails (`defer(next,
 * err)` after `res.end`). By then the answer has gone out: passing that error on would run
 * the app's error handler a second time, on a response already sent (ERR_HTTP_HEADERS_SENT),
 * and name it a load failure. So the first call goes to `onLoad`; a later error is logged,
 * once, and goes nowhere else.
 */
export function sessionCallback(logger: Logger, onLoad: (err?: unknown) => void): (err?: unknown) => void {
  let loaded = false;
  return (err?: unknown) => {
    if (!loaded) {
      loaded = true;
      onLoad(err);
      return;
    }
    if (err === undefined || err === null) return;
    logger.error({ ...describeError(err) }, 'could not save the session after the answer: the changes this request made to it are lost');
  };
}
