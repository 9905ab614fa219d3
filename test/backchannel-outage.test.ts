import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import session from 'express-session';
import { SESSION_SECRET, setup } from './helpers/app.js';
import { loggedIn } from './helpers/logout.js';
import { logoutClaims, otherRsaKey, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';

/** A store that can be told to fail, as one whose backend went away. */
class FlakyStore extends session.MemoryStore {
  failing = false;
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    if (this.failing) callback?.(new Error('backend unreachable'));
    else super.destroy(sid, callback);
  }
}

const JSON_ACCEPT = { accept: 'application/json' };

describe('back-channel logout during an outage', () => {
  test('a store failure answers 503, and the provider retrying the same token then succeeds (the jti is not burnt)', async () => {
    const store = new FlakyStore();
    const s = await setup({ options: { session: { secret: SESSION_SECRET, store } } });
    try {
      const { browser, tokens } = await loggedIn(s);
      const token = await signLogoutToken(s.op, logoutClaims(s.op, 'alice', sidOf(tokens.idToken)));
      store.failing = true;
      const first = await postLogoutToken(s.appUrl, token);
      assert.equal(first.status, 503);
      assert.equal(((await first.json()) as { error: string }).error, 'temporarily_unavailable');
      store.failing = false;
      const retry = await postLogoutToken(s.appUrl, token);
      assert.equal(retry.status, 200);
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    } finally {
      await s.close();
    }
  });

  test('provider keys that cannot be fetched answer 503 (the provider retries), not 400', async () => {
    const s = await setup();
    try {
      const { browser, tokens } = await loggedIn(s);
      const token = await signLogoutToken(s.op, logoutClaims(s.op, 'alice', sidOf(tokens.idToken)), {
        key: await otherRsaKey(),
        header: { kid: 'rotated-key' },
      });
      await s.op.server.stop();
      const res = await postLogoutToken(s.appUrl, token);
      assert.equal(res.status, 503);
      await s.op.server.start();
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200, 'no session was touched');
    } finally {
      await s.close();
    }
  });
});
