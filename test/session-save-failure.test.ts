import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ErrorRequestHandler } from 'express';
import session, { type SessionData } from 'express-session';
import { Browser } from './helpers/browser.js';
import { capturingLogger, SESSION_SECRET, setup, type TestSetup } from './helpers/app.js';

/** A store whose writes fail when told, as a Redis that is out of memory refuses SET. */
class StoreThatCannotSave extends session.MemoryStore {
  failing = false;
  override set(sid: string, data: SessionData, callback?: (err?: unknown) => void): void {
    if (this.failing) callback?.(Object.assign(new Error('OOM command not allowed when used memory > maxmemory'), { code: 'OOM' }));
    else super.set(sid, data, callback);
  }
}

const SAVE_FAILED = 'could not save the session after the answer: the changes this request made to it are lost';

describe('a session save that fails after the answer was sent', () => {
  const { lines, logger } = capturingLogger();
  const store = new StoreThatCannotSave();
  /** every error the app's error handler was given, and what answering it threw */
  const handled: unknown[] = [];
  const thrown: unknown[] = [];
  let s: TestSetup;

  const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
    handled.push(err);
    try {
      res.status(500).json({ error: 'handled' });
    } catch (e) {
      thrown.push(e);
    }
  };

  before(async () => {
    s = await setup({
      options: { logger, session: { secret: SESSION_SECRET, store } },
      routes: (app) => {
        // The app's own write to the session: express-session saves it as the response ends.
        app.get('/visit', (req, res) => {
          const data = req.session as unknown as Record<string, unknown>;
          data['visits'] = (typeof data['visits'] === 'number' ? data['visits'] : 0) + 1;
          res.json({ visits: data['visits'] });
        });
        app.use(errorHandler);
      },
    });
  });
  after(async () => {
    await s.close();
  });

  for (const [name, withCookie] of [
    ['with a session cookie (the session was loaded from the store)', true],
    ['without a cookie (the session was made on first use)', false],
  ] as const) {
    test(`${name}: one error line that says so, the answer as sent, no second trip to the error handler`, async () => {
      const browser = new Browser();
      store.failing = false;
      if (withCookie) {
        assert.equal((await browser.get(`${s.appUrl}/visit`)).status, 200);
        assert.ok((await browser.cookie(s.appUrl, 'oidc.sid')) !== undefined, 'a session cookie to send back');
      }
      store.failing = true;
      lines.length = 0;
      handled.length = 0;
      thrown.length = 0;
      const answer = await browser.get(`${s.appUrl}/visit`);
      assert.equal(answer.status, 200, 'the answer went out before the save failed');
      assert.deepEqual(JSON.parse(answer.body) as unknown, { visits: withCookie ? 2 : 1 });
      // The error reaches the log on the next turns of the event loop, after the answer.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(handled, [], 'the app\'s error handler is not called for a response already sent');
      assert.deepEqual(thrown, [], 'no ERR_HTTP_HEADERS_SENT');
      const errors = lines.filter((l) => l.level === 'error' || l.level === 'warn');
      assert.deepEqual(errors.map((l) => l.message), [SAVE_FAILED]);
      assert.equal(errors[0]?.fields['code'], 'OOM');
      assert.doesNotMatch(JSON.stringify(lines), /could not load the session/);
    });
  }
});
