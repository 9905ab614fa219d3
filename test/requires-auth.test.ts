import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import express4 from 'express4';
import request from 'supertest';
import { requiresAuth } from '../lib/index.js';
import { FLAVOURS, jsonErrorHandler, setup, type ErrorBody, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, jsonOf } from './helpers/assertions.js';
import { Browser, login, rawLocation } from './helpers/browser.js';

const PROTECTED = '/profile?x=1&y=a%20b';

for (const flavour of FLAVOURS) {
  describe(`requiresAuth (${flavour})`, () => {
    let s: TestSetup;
    before(async () => {
      s = await setup({ flavour, jsonErrors: true });
    });
    after(async () => {
      await s.close();
    });

    test('a browser without a session is redirected to /login with returnTo set to the encoded original URL', async () => {
      const res = await request(s.app).get(PROTECTED).set('Accept', 'text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8');
      assert.equal(res.status, 302);
      const location = res.headers['location'] as string;
      assert.equal(location, `/login?returnTo=${encodeURIComponent(PROTECTED)}`);
      assert.equal(res.headers['cache-control'], 'no-store');
    });

    test('a client asking for JSON gets 401 JSON with a WWW-Authenticate header, not a redirect', async () => {
      const res = await request(s.app).get(PROTECTED).set('Accept', 'application/json');
      assert.equal(res.status, 401);
      assert.equal(res.headers['location'], undefined);
      assert.match(res.headers['content-type'] as string, /^application\/json/);
      assert.ok(typeof res.headers['www-authenticate'] === 'string' && res.headers['www-authenticate'] !== '');
      const body = res.body as { error?: unknown };
      assert.equal(body.error, 'unauthorized');
      assert.equal(res.headers['cache-control'], 'no-store');
    });

    test('following the redirect through the provider lands back on the original URL, logged in', async () => {
      const b = new Browser();
      const guarded = await b.get(`${s.appUrl}${PROTECTED}`, { accept: 'text/html' });
      assert.equal(guarded.status, 302);
      assert.ok(guarded.location !== undefined);
      const callback = await login(b, guarded.location);
      assert.equal(rawLocation(callback), PROTECTED);
      const landed = await b.get(`${s.appUrl}${PROTECTED}`, ACCEPT_JSON);
      assert.equal(landed.status, 200);
      assert.equal((jsonOf(landed) as { sub?: unknown }).sub, 'alice');
    });
  });

  test(`requiresAuth without oidcAuth mounted fails with 500 OIDC_MIDDLEWARE_MISSING (${flavour})`, async () => {
    const app = flavour === 'express4' ? express4() : express();
    app.get('/profile', requiresAuth(), (_req, res) => {
      res.json({ reached: true });
    });
    app.use(jsonErrorHandler);
    const res = await request(app).get('/profile').set('Accept', 'application/json');
    assert.equal(res.status, 500);
    assert.equal((res.body as ErrorBody).code, 'OIDC_MIDDLEWARE_MISSING');
  });
}
