import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { oidcAuth } from '../lib/index.js';
import { baseOptions, buildApp, SESSION_SECRET, setup } from './helpers/app.js';
import { CountingStore } from './helpers/counting-store.js';
import { loggedIn } from './helpers/logout.js';

const ISSUER = 'https://idp.example.test';
const APP = 'http://127.0.0.1:3999';

describe('what a session costs', () => {
  test('an anonymous request to a public route reads no store, writes none, and sets no cookie', async () => {
    const store = new CountingStore();
    const app = buildApp({ ...baseOptions(ISSUER, APP), allowInsecureRequests: false, session: { secret: SESSION_SECRET, store } });
    const res = await request(app).get('/').expect(200);
    assert.equal(res.headers['set-cookie'], undefined);
    assert.deepEqual(store.calls, { get: 0, set: 0, touch: 0, destroy: 0 });
    assert.equal((res.body as { authenticated: boolean }).authenticated, false);
  });

  test('an anonymous request to a protected route is sent to login without touching the store', async () => {
    const store = new CountingStore();
    const app = buildApp({ ...baseOptions(ISSUER, APP), session: { secret: SESSION_SECRET, store } });
    const res = await request(app).get('/profile').set('accept', 'application/json').expect(401);
    assert.equal(res.headers['set-cookie'], undefined);
    assert.deepEqual(store.calls, { get: 0, set: 0, touch: 0, destroy: 0 });
  });

  test('an app that uses req.session for anonymous visitors still gets a working session', async () => {
    const store = new CountingStore();
    const app = buildApp(
      { ...baseOptions(ISSUER, APP), session: { secret: SESSION_SECRET, store } },
      {
        routes: (a) => {
          a.get('/visits', (req, res) => {
            const visits = (req.session as { visits?: number }).visits ?? 0;
            (req.session as { visits?: number }).visits = visits + 1;
            res.json({ visits: visits + 1, id: req.sessionID });
          });
        },
      },
    );
    const agent = request.agent(app);
    const first = await agent.get('/visits').expect(200);
    assert.match(String(first.headers['set-cookie']), /oidc\.sid=/);
    const second = await agent.get('/visits').expect(200);
    assert.equal((second.body as { visits: number }).visits, 2);
    assert.equal((second.body as { id: string }).id, (first.body as { id: string }).id);
  });

  test('with the idle lifetime on, a logged-in request does not make the store rewrite the session', async () => {
    const store = new CountingStore();
    const s = await setup({ options: { session: { secret: SESSION_SECRET, store } } });
    try {
      const { browser } = await loggedIn(s);
      const before = { ...store.calls };
      for (let i = 0; i < 5; i++) assert.equal((await browser.get(`${s.appUrl}/profile`, { accept: 'application/json' })).status, 200);
      assert.equal(store.calls.get - before.get, 5, 'one read per request');
      assert.equal(store.calls.touch - before.touch, 0, 'no touch: activity is written at most once a minute');
      assert.equal(store.calls.set - before.set, 0, 'no write');
    } finally {
      await s.close();
    }
  });

  test('with the idle lifetime off, express-session touches the session as usual', async () => {
    const store = new CountingStore();
    const s = await setup({ options: { lifetime: { idleSec: false }, session: { secret: SESSION_SECRET, store } } });
    try {
      const { browser } = await loggedIn(s);
      const before = store.calls.touch;
      for (let i = 0; i < 3; i++) await browser.get(`${s.appUrl}/profile`, { accept: 'application/json' });
      assert.equal(store.calls.touch - before, 3);
    } finally {
      await s.close();
    }
  });

  test('oidcAuth() itself needs no provider to start: discovery waits for the first request that needs it', () => {
    assert.equal(typeof oidcAuth({ ...baseOptions(ISSUER, APP), allowInsecureRequests: false }), 'function');
  });
});
