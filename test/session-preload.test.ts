import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, test } from 'node:test';
import type { Request, Response } from 'express';
import session, { type SessionData, type SessionOptions } from 'express-session';
import fc from 'fast-check';
import { cookieValue, signedSessionIdOf } from '../lib/session/session-cookie.js';
import { SESSION_SECRET, setup, type TestSetup } from './helpers/app.js';
import { loggedIn, storeHas } from './helpers/logout.js';

const NAME = 'oidc.sid';
const OLD_SECRET = 'an-older-session-secret-0123456789abcdef';
const OTHER_SECRET = 'nobody-s-session-secret-0123456789abcdef';

/** A signed cookie value as express-session writes it (cookie-signature: HMAC-SHA256, base64 without padding). */
function signed(id: string, secret: string): string {
  return `s:${id}.${createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The session id express-session itself reads from `header`: its middleware runs on a real
 * request, and the id it asks the store for is the answer (undefined: it asked for none).
 */
function expressSessionReads(header: string, secrets: string[]): string | undefined {
  let asked: string | undefined;
  const store = new session.MemoryStore();
  store.get = (sid, callback) => {
    asked = sid;
    callback(null, null);
  };
  const middleware = session({ name: NAME, secret: secrets, store, resave: false, saveUninitialized: false });
  const req = new IncomingMessage(new Socket());
  req.headers.cookie = header;
  req.url = '/';
  const res = new ServerResponse(req);
  let nextCalled = false;
  middleware(req as Request, res as Response, () => {
    nextCalled = true;
  });
  assert.ok(nextCalled, 'express-session answered synchronously');
  return asked;
}

describe('the session cookie as the package reads it', () => {
  test('express-session and the package read the same session id from any Cookie header', () => {
    const ids = ['abc', 'JqK3hN0c2y8xU8fNwq7x1A', 'a.b', ''];
    const value = fc.oneof(
      fc.constantFrom(...ids).map((id) => signed(id, SESSION_SECRET)),
      fc.constantFrom(...ids).map((id) => signed(id, OLD_SECRET)),
      fc.constantFrom(...ids).map((id) => signed(id, OTHER_SECRET)),
      fc.constantFrom(...ids).map((id) => encodeURIComponent(signed(id, SESSION_SECRET))),
      fc.constantFrom(...ids).map((id) => `"${signed(id, SESSION_SECRET)}"`),
      fc.constantFrom(...ids).map((id) => `${signed(id, SESSION_SECRET).slice(0, -1)}%`),
      fc.string({ unit: fc.constantFrom('s', ':', '.', '=', '"', '%', '2', 'A', ' ', '\t', 'x') }),
    );
    const name = fc.constantFrom(NAME, ` ${NAME}`, `${NAME}\t`, 'oidc.si', 'oidc.sid2', 'x', '');
    const pair = fc.oneof(
      fc.tuple(name, value).map(([n, v]) => `${n}=${v}`),
      fc.constantFrom('flag', ' ', '', '=', 'a=b=c'),
    );
    const header = fc.tuple(fc.array(pair, { maxLength: 5 }), fc.constantFrom(';', '; ', ' ;', ';\t')).map(([pairs, separator]) => pairs.join(separator));
    fc.assert(
      fc.property(header, fc.boolean(), (cookie, rotated) => {
        const secrets = rotated ? [OLD_SECRET, SESSION_SECRET] : [SESSION_SECRET];
        assert.equal(signedSessionIdOf(cookie, NAME, secrets), expressSessionReads(cookie, secrets), cookie);
      }),
      { seed: 32, numRuns: 3000 },
    );
  });

  test('the first cookie of a name counts, blanks and one pair of quotes are dropped, %-escapes decoded', () => {
    assert.equal(cookieValue('a=1; oidc.sid=first; oidc.sid=second', NAME), 'first');
    assert.equal(cookieValue(' oidc.sid = "q" ', NAME), 'q');
    assert.equal(cookieValue('oidc.sid=s%3Aid.sig', NAME), 's:id.sig');
    assert.equal(cookieValue('oidc.sid=%E0%A4%A', NAME), '%E0%A4%A', 'an escape that does not decode is kept as sent');
    assert.equal(cookieValue('oidc.sidx=1', NAME), undefined);
    assert.equal(cookieValue('flag; oidc.sid=after-a-pair-without-equals', NAME), 'after-a-pair-without-equals');
  });

  test('a signature by any configured secret holds; any other, or none, does not', () => {
    assert.equal(signedSessionIdOf(`oidc.sid=${encodeURIComponent(signed('abc', OLD_SECRET))}`, NAME, [SESSION_SECRET, OLD_SECRET]), 'abc');
    assert.equal(signedSessionIdOf(`oidc.sid=${encodeURIComponent(signed('abc', OTHER_SECRET))}`, NAME, [SESSION_SECRET, OLD_SECRET]), undefined);
    assert.equal(signedSessionIdOf('oidc.sid=abc', NAME, [SESSION_SECRET]), undefined, 'an unsigned cookie');
    assert.equal(signedSessionIdOf(`oidc.sid=${signed('abc', SESSION_SECRET).slice(0, -2)}`, NAME, [SESSION_SECRET]), undefined, 'a cut signature');
  });
});

/** A MemoryStore that counts the calls made to it. */
class CountingStore extends session.MemoryStore {
  readonly calls = { get: 0, set: 0, destroy: 0 };
  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.calls.get++;
    super.get(sid, callback);
  }
  override set(sid: string, data: SessionData, callback?: (err?: unknown) => void): void {
    this.calls.set++;
    super.set(sid, data, callback);
  }
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.calls.destroy++;
    super.destroy(sid, callback);
  }
}

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
