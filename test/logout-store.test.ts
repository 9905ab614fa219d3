import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ErrorRequestHandler } from 'express';
import session from 'express-session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { capturingLogger, setup, SESSION_SECRET } from './helpers/app.js';
import { loggedIn, storeHas, WITH_REFRESH_TOKEN } from './helpers/logout.js';
import { requireRedis, startRedis } from './helpers/redis.js';

/** A store whose destroy fails, as a store that lost its backend would. */
class StoreThatCannotDestroy extends session.MemoryStore {
  failing = false;
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    if (this.failing) callback?.(new Error('backend unreachable'));
    else super.destroy(sid, callback);
  }
}

const errorsAsJson: ErrorRequestHandler = (err: { status?: number; code?: string; message?: string }, _req, res, _next) => {
  res.status(err.status ?? 500).json({ code: err.code, message: err.message });
};

describe('logout and the session store', () => {
  test('a store that fails to destroy the session: cookie cleared, failure logged, 503 OIDC_SESSION_STORE_FAILED', async () => {
    const { lines, logger } = capturingLogger();
    const store = new StoreThatCannotDestroy();
    const s = await setup({ options: { logger, session: { secret: SESSION_SECRET, store } } });
    s.app.use(errorsAsJson);
    try {
      const { browser, sessionId } = await loggedIn(s);
      store.failing = true;
      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST', headers: { accept: 'application/json' } });
      assert.equal(answer.status, 503);
      assert.equal((JSON.parse(answer.body) as { code: string }).code, 'OIDC_SESSION_STORE_FAILED');
      assert.match(answer.headers.getSetCookie().join('\n'), /oidc\.sid=;.*Expires=Thu, 01 Jan 1970/);
      assert.ok(lines.some((l) => l.level === 'error' && l.message.includes('failed to destroy')));
      // The session lives on in the store, and the answer says so instead of a silent "logged out".
      assert.ok(await storeHas(store, sessionId));
    } finally {
      await s.close();
    }
  });

  test('with connect-redis on a real redis-server: tokens inactive and no session key left after logout', async (t) => {
    if (!requireRedis(t)) return;
    const redis = await startRedis();
    const client = createClient({ url: redis.url });
    await client.connect();
    const s = await setup({ options: { ...WITH_REFRESH_TOKEN, session: { secret: SESSION_SECRET, store: new RedisStore({ client, prefix: 'sess:' }) } } });
    try {
      const { browser, sessionId, tokens } = await loggedIn(s);
      assert.equal(await client.exists(`sess:${sessionId}`), 1);
      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      assert.equal(answer.status, 303);
      assert.equal(await client.exists(`sess:${sessionId}`), 0);
      assert.deepEqual(await client.keys('sess:*'), []);
      assert.equal((await s.op.introspect(tokens.accessToken)).active, false);
      assert.equal((await s.op.introspect(tokens.refreshToken ?? '')).active, false);
      assert.equal((await browser.get(`${s.appUrl}/profile`, { accept: 'application/json' })).status, 401);
    } finally {
      await s.close();
      await client.quit();
      await redis.close();
    }
  });
});
