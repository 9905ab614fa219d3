import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SessionData, SessionOptions } from 'express-session';
import { SESSION_SECRET, setup, type TestSetup } from './helpers/app.js';
import { CountingStore } from './helpers/counting-store.js';
import { loggedIn, storeHas } from './helpers/logout.js';

declare module 'express-session' {
  interface SessionData {
    visits?: number;
  }
}

async function withApp(sessionOptions: Partial<SessionOptions>, run: (s: TestSetup, store: CountingStore) => Promise<void>): Promise<void> {
  const store = new CountingStore();
  const s = await setup({
    options: { session: { secret: SESSION_SECRET, store, ...sessionOptions } },
    routes: (app) => {
      app.get('/who', (req, res) => {
        res.json({ sub: req.oidc.user?.sub, sessionId: req.sessionID });
      });
      app.get('/visit', async (req, res) => {
        // a change made after an await, as an app's handler makes it once its own data is in
        await Promise.resolve();
        req.session.visits = (req.session.visits ?? 0) + 1;
        res.json({ visits: req.session.visits, sub: req.oidc.user?.sub });
      });
      app.get('/forget', (req, res) => {
        (req as { session: unknown }).session = null;
        res.json({ ok: true });
      });
    },
  });
  try {
    await run(s, store);
  } finally {
    await s.close();
  }
}

const JSON_ACCEPT = { accept: 'application/json' };

describe('a logged-in request at the app’s own paths', () => {
  test('that reads only req.oidc: one store read, no write, no cookie, and req.sessionID is the cookie’s id', async () => {
    await withApp({}, async (s, store) => {
      const { browser, sessionId } = await loggedIn(s);
      const before = { ...store.calls };
      const page = await browser.get(`${s.appUrl}/who`, JSON_ACCEPT);
      assert.equal(page.status, 200);
      assert.deepEqual(JSON.parse(page.body), { sub: 'alice', sessionId });
      assert.equal(page.headers.get('set-cookie'), null);
      assert.deepEqual(
        { get: store.calls.get - before.get, set: store.calls.set - before.set, destroy: store.calls.destroy - before.destroy },
        { get: 1, set: 0, destroy: 0 },
      );
    });
  });

  test('that changes req.session: the change is saved, once, and the next request sees it', async () => {
    await withApp({}, async (s, store) => {
      const { browser } = await loggedIn(s);
      const before = { ...store.calls };
      assert.deepEqual(JSON.parse((await browser.get(`${s.appUrl}/visit`, JSON_ACCEPT)).body), { visits: 1, sub: 'alice' });
      assert.deepEqual(JSON.parse((await browser.get(`${s.appUrl}/visit`, JSON_ACCEPT)).body), { visits: 2, sub: 'alice' });
      // a request: one read to load (express-session is handed it, not asking again) and the read before the write (C1 of ended-marks.ts)
      assert.equal(store.calls.get - before.get, 4, 'two reads a request');
      assert.equal(store.calls.set - before.set, 2, 'one write a request');
    });
  });

  test('whose session is gone from the store: anonymous, no new cookie, one read', async () => {
    await withApp({}, async (s, store) => {
      const { browser, sessionId } = await loggedIn(s);
      await new Promise<void>((resolve) => {
        store.destroy(sessionId, () => {
          resolve();
        });
      });
      const before = { ...store.calls };
      const page = await browser.get(`${s.appUrl}/who`, JSON_ACCEPT);
      assert.equal(page.status, 200);
      assert.equal((JSON.parse(page.body) as { sub?: string }).sub, undefined);
      assert.equal(page.headers.get('set-cookie'), null);
      assert.equal(store.calls.get - before.get, 1);
      assert.equal(store.calls.set - before.set, 0);
    });
  });

  test('whose stored session lacks its cookie object: refused with 503, as express-session refuses it', async () => {
    await withApp({}, async (s, store) => {
      const { browser, sessionId } = await loggedIn(s);
      const stored = await new Promise<SessionData>((resolve, reject) => {
        store.get(sessionId, (err, data) => {
          if (data === null || data === undefined) reject(new Error(`no session: ${String(err)}`));
          else resolve(data);
        });
      });
      const { cookie: _dropped, ...withoutCookie } = stored;
      await new Promise<void>((resolve) => {
        store.set(sessionId, withoutCookie as SessionData, () => {
          resolve();
        });
      });
      const page = await browser.get(`${s.appUrl}/who`, JSON_ACCEPT);
      assert.equal(page.status, 503);
      assert.doesNotMatch(page.body, /alice/);
    });
  });

  test('with rolling: true, express-session sends the cookie again on every answer', async () => {
    await withApp({ rolling: true }, async (s) => {
      const { browser } = await loggedIn(s);
      const page = await browser.get(`${s.appUrl}/who`, JSON_ACCEPT);
      assert.equal((JSON.parse(page.body) as { sub?: string }).sub, 'alice');
      assert.match(page.headers.get('set-cookie') ?? '', /^oidc\.sid=/);
    });
  });

  test('with resave: true, express-session writes the session on every request', async () => {
    await withApp({ resave: true }, async (s, store) => {
      const { browser } = await loggedIn(s);
      const before = store.calls.set;
      for (let i = 0; i < 3; i++) assert.equal((await browser.get(`${s.appUrl}/who`, JSON_ACCEPT)).status, 200);
      assert.equal(store.calls.set - before, 3);
    });
  });

  test("with unset: 'destroy', a session the app sets to null is destroyed in the store", async () => {
    await withApp({ unset: 'destroy' }, async (s, store) => {
      const { browser, sessionId } = await loggedIn(s);
      assert.equal((await browser.get(`${s.appUrl}/forget`, JSON_ACCEPT)).status, 200);
      assert.equal(await storeHas(store, sessionId), false);
      assert.equal((JSON.parse((await browser.get(`${s.appUrl}/who`, JSON_ACCEPT)).body) as { sub?: string }).sub, undefined);
    });
  });
});
