import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { afterEach, describe, mock, test } from 'node:test';
import session from 'express-session';
import type { PostLogoutContext } from '../lib/index.js';
import { SESSION_SECRET, setup, type TestSetup } from './helpers/app.js';
import { loggedIn, storeHas, WITH_REFRESH_TOKEN } from './helpers/logout.js';

const JSON_ACCEPT = { accept: 'application/json' };

/** A controllable clock: Date (only) set to `offsetSec` after `base`; timers keep real time. */
function clockAt(base: number, offsetSec: number): void {
  mock.timers.reset();
  mock.timers.enable({ apis: ['Date'], now: base + offsetSec * 1000 });
}

afterEach(() => {
  mock.timers.reset();
});

async function withApp(
  lifetime: { absoluteSec?: number | false; idleSec?: number | false },
  run: (s: TestSetup, store: session.MemoryStore, ended: PostLogoutContext[]) => Promise<void>,
): Promise<void> {
  const store = new session.MemoryStore();
  const ended: PostLogoutContext[] = [];
  const s = await setup({
    options: {
      ...WITH_REFRESH_TOKEN,
      lifetime,
      // A month-long cookie: the server's lifetimes must win over what the cookie says.
      session: { secret: SESSION_SECRET, store, cookie: { maxAge: 30 * 24 * 3600 * 1000 } },
      hooks: { postLogout: (ctx) => void ended.push(ctx) },
    },
  });
  try {
    await run(s, store, ended);
  } finally {
    mock.timers.reset();
    await s.close();
  }
}

describe('session lifetimes', () => {
  test('an idle session ends once idleSec passes without a request; activity keeps it alive', async () => {
    await withApp({ absoluteSec: 7200, idleSec: 600 }, async (s, store, ended) => {
      const { browser, sessionId, tokens } = await loggedIn(s);
      const base = Date.now();
      for (const at of [300, 600, 1100]) {
        clockAt(base, at);
        assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200, `active at ${String(at)} s`);
      }
      clockAt(base, 1100 + 601);
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
      assert.equal(await storeHas(store, sessionId), false);
      assert.deepEqual(
        ended.map((c) => [c.trigger, c.user?.sub]),
        [['expired', 'alice']],
      );
      mock.timers.reset();
      assert.equal((await s.op.introspect(tokens.refreshToken ?? '')).active, false, "the ended session's refresh token is revoked");
    });
  });

  test('a session ends at absoluteSec after login however active it is', async () => {
    await withApp({ absoluteSec: 3600, idleSec: false }, async (s, store, ended) => {
      const { browser, sessionId } = await loggedIn(s);
      const base = Date.now();
      for (const at of [1200, 2400, 3590]) {
        clockAt(base, at);
        assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200, `active at ${String(at)} s`);
      }
      clockAt(base, 3601);
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
      assert.equal(await storeHas(store, sessionId), false);
      assert.deepEqual(
        ended.map((c) => c.trigger),
        ['expired'],
      );
    });
  });

  test('with both lifetimes off the session outlives twenty silent days (the defaults would have ended it)', async () => {
    await withApp({ absoluteSec: false, idleSec: false }, async (s) => {
      const { browser } = await loggedIn(s);
      clockAt(Date.now(), 20 * 24 * 3600);
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200);
    });
  });

  test('the defaults end a session after a day without requests', async () => {
    await withApp({}, async (s) => {
      const { browser } = await loggedIn(s);
      clockAt(Date.now(), 24 * 3600 + 1);
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    });
  });

  test('after an expired session a new login works', async () => {
    await withApp({ absoluteSec: 3600 }, async (s) => {
      const { browser } = await loggedIn(s);
      clockAt(Date.now(), 3601);
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
      const again = await loggedIn(s);
      assert.equal((await again.browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200);
    });
  });
});
