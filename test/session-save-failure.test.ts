import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ErrorRequestHandler } from 'express';
import session, { type SessionData } from 'express-session';
import { Browser } from './helpers/browser.js';
import { capturingLogger, SESSION_SECRET, setup, type Captured, type TestSetup } from './helpers/app.js';
import { loggedIn } from './helpers/logout.js';

/** A store whose writes fail when told, as a Redis that is out of memory refuses SET. */
class StoreThatCannotSave extends session.MemoryStore {
  failing = false;
  override set(sid: string, data: SessionData, callback?: (err?: unknown) => void): void {
    if (this.failing) callback?.(Object.assign(new Error('OOM command not allowed when used memory > maxmemory'), { code: 'OOM' }));
    else super.set(sid, data, callback);
  }
}

const SAVE_FAILED = /^could not save the session after the answer/;
/** What the default logger prints: warnings and errors. */
const shown = (lines: readonly Captured[]): Captured[] => lines.filter((l) => l.level === 'warn' || l.level === 'error');
/** A bound for failing only, never for ordering: a lost report fails the test instead of holding the run. */
async function withinBound(reported: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const lost = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error('the failed save was neither logged nor handed to the error handler within 10 s'));
    }, 10_000);
  });
  try {
    await Promise.race([reported, lost]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a session save that fails after the answer was sent', () => {
  const captured = capturingLogger();
  const { lines } = captured;
  /**
   * Opened by what a failed save leads to, whichever comes: the app logs that it failed, or
   * its error handler is called. express-session reports the failure on a later turn of the
   * event loop, after the answer went out; the test waits for it on this gate, not a delay.
   */
  let settled: (() => void) | undefined;
  const report = (level: Captured['level']) => (fields: Record<string, unknown>, message: string) => {
    captured.logger[level](fields, message);
    if (SAVE_FAILED.test(message)) settled?.();
  };
  const logger = { debug: report('debug'), info: report('info'), warn: report('warn'), error: report('error') };
  const store = new StoreThatCannotSave();
  /** every error the app's error handler was given, and what answering it threw */
  const handled: unknown[] = [];
  const thrown: unknown[] = [];
  let s: TestSetup;

  const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
    handled.push(err);
    settled?.();
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

  /** A visit whose save fails: the answer the browser got. */
  async function failingVisit(browser: Browser): Promise<unknown> {
    const reported = new Promise<void>((resolve) => {
      settled = resolve;
    });
    store.failing = true;
    try {
      const answer = await browser.get(`${s.appUrl}/visit`);
      assert.equal(answer.status, 200, 'the answer went out before the save failed');
      await withinBound(reported);
      return JSON.parse(answer.body) as unknown;
    } finally {
      store.failing = false;
      settled = undefined;
    }
  }

  test("a logged-in session: one error line that says the save failed after the answer, no trip to the app's error handler, no ERR_HTTP_HEADERS_SENT", async () => {
    const { browser } = await loggedIn(s);
    lines.length = 0;
    assert.deepEqual(await failingVisit(browser), { visits: 1 });
    assert.deepEqual(handled, [], "the app's error handler is not called for a response already sent");
    assert.deepEqual(thrown, [], 'no ERR_HTTP_HEADERS_SENT');
    const errors = shown(lines);
    assert.equal(errors.length, 1);
    const [line] = errors;
    assert.ok(line !== undefined);
    assert.equal(line.level, 'error');
    assert.match(line.message, SAVE_FAILED);
    assert.match(String(line.fields['message']), /failed to save/, 'what went wrong, for the operator');
    assert.doesNotMatch(JSON.stringify(lines), /could not load the session/);
  });

  test('sessions without a login (loaded from a cookie, or made on first use): the same, and 100 of them give one line (README: at most one a minute)', async () => {
    const returning = new Browser();
    assert.equal((await returning.get(`${s.appUrl}/visit`)).status, 200);
    assert.ok((await returning.cookie(s.appUrl, 'oidc.sid')) !== undefined, 'a session cookie to send back');
    lines.length = 0;
    for (let i = 0; i < 50; i++) {
      assert.deepEqual(await failingVisit(returning), { visits: 2 }, 'the failed save changed nothing in the store');
      assert.deepEqual(await failingVisit(new Browser()), { visits: 1 });
    }
    assert.deepEqual(handled, []);
    assert.deepEqual(thrown, []);
    const errors = shown(lines);
    assert.equal(errors.length, 1, errors.map((l) => l.message).join('\n'));
    const [line] = errors;
    assert.ok(line !== undefined);
    assert.equal(line.level, 'error');
    assert.match(line.message, SAVE_FAILED);
    assert.equal(line.fields['code'], 'OOM');
    assert.equal(lines.filter((l) => l.level === 'debug' && SAVE_FAILED.test(l.message)).length, 100, 'each at debug');
  });
});
