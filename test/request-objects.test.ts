import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import express from 'express';
import express4 from 'express4';
import type { Request, Response } from 'express';
import request from 'supertest';
import { oidcAuth } from '../lib/index.js';
import { baseOptions } from './helpers/app.js';

const ISSUER = 'https://idp.example.test';
const APP = 'http://127.0.0.1:3999';

/** What a handler saw of the request objects oidcAuth() gives it. */
function seen(req: Request, res: Response): { oidc: boolean; resOidc: boolean; authenticated: boolean | undefined } {
  const oidc = (req as { oidc?: Request['oidc'] }).oidc;
  const resOidc = (res as { oidc?: unknown }).oidc;
  return { oidc: oidc !== undefined, resOidc: resOidc !== undefined, authenticated: oidc?.isAuthenticated() };
}

for (const [flavour, make] of [
  ['Express 5', express],
  ['Express 4', express4],
] as const) {
  describe(`req.oidc, res.oidc and req.session, built when first read (${flavour})`, () => {
    test('an anonymous request sees them in the app, in a mounted app and after it, and not before oidcAuth()', async () => {
      const app = make();
      app.get('/before', (req, res) => res.json(seen(req, res)));
      app.use(oidcAuth(baseOptions(ISSUER, APP)));
      const sub = make();
      sub.get('/page', (req, res) => res.json(seen(req, res)));
      sub.get('/visit', (req, res) => {
        const session = req.session as unknown as { visits?: number };
        session.visits = (session.visits ?? 0) + 1;
        res.json({ visits: session.visits });
      });
      app.use('/sub', sub);
      app.get('/sub/after', (req, res) => res.json(seen(req, res)));
      app.get('/page', (req, res) => res.json(seen(req, res)));

      assert.deepEqual((await request(app).get('/before').expect(200)).body, { oidc: false, resOidc: false });
      for (const path of ['/page', '/sub/page', '/sub/after']) {
        const res = await request(app).get(path).expect(200);
        assert.deepEqual(res.body, { oidc: true, resOidc: true, authenticated: false }, path);
        assert.equal(res.headers['set-cookie'], undefined, path);
      }
      const visit = await request(app).get('/sub/visit').expect(200);
      assert.deepEqual(visit.body, { visits: 1 });
      assert.match(String(visit.headers['set-cookie']), /oidc\.sid=/);
    });

    test('an anonymous request gets one own property, its passage: req.session is no own property until read', async () => {
      const app = make();
      const own = (req: Request): { names: string[]; symbols: number } => ({
        names: Object.getOwnPropertyNames(req).sort(),
        symbols: Object.getOwnPropertySymbols(req).length,
      });
      app.get('/before', (req, res) => res.json(own(req)));
      app.use(oidcAuth(baseOptions(ISSUER, APP)));
      app.get('/page', (req, res) => res.json(own(req)));
      app.get('/read', (req, res) => {
        const session = req.session as unknown as { visits?: number };
        res.json({ read: session.visits === undefined, ownSession: Object.hasOwn(req, 'session') });
      });
      const before = (await request(app).get('/before').expect(200)).body as ReturnType<typeof own>;
      const page = (await request(app).get('/page').expect(200)).body as ReturnType<typeof own>;
      assert.deepEqual(page, { names: before.names, symbols: before.symbols + 1 });
      assert.deepEqual((await request(app).get('/read').expect(200)).body, { read: true, ownSession: true });
    });

    test('with two instances in one app, a request gets the req.oidc of the last one it passed', async () => {
      const app = make();
      app.use(oidcAuth(baseOptions(ISSUER, APP)));
      let first: unknown;
      app.use((req, _res, next) => {
        first = req.oidc;
        next();
      });
      app.use('/b', oidcAuth({ ...baseOptions(ISSUER, `${APP}/b`), session: { secret: 'another-session-secret-for-tests-0123456789', name: 'b.sid' } }));
      app.get('/b/page', (req, res) => res.json({ same: req.oidc === first, stable: req.oidc === req.oidc, authenticated: req.oidc.isAuthenticated() }));
      app.get('/a', (req, res) => res.json({ same: req.oidc === first }));
      assert.deepEqual((await request(app).get('/b/page').expect(200)).body, { same: false, stable: true, authenticated: false });
      assert.deepEqual((await request(app).get('/a').expect(200)).body, { same: true });
    });
  });
}
