import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import session from 'express-session';
import { FLAVOURS, setup, SESSION_SECRET, type TestSetup } from './helpers/app.js';
import { Browser } from './helpers/browser.js';
import { confirmAtProvider, loggedIn, storeHas, WITH_REFRESH_TOKEN } from './helpers/logout.js';

const JSON_ACCEPT = { accept: 'application/json' };

for (const flavour of FLAVOURS) {
  describe(`logout (${flavour})`, () => {
    let s: TestSetup;
    const store = new session.MemoryStore();
    before(async () => {
      s = await setup({ flavour, options: { ...WITH_REFRESH_TOKEN, session: { secret: SESSION_SECRET, store } } });
    });
    after(async () => {
      await s.close();
    });

    test("Kong's how-to replayed: login works, logout through the provider ends 200 on the app, then the route is closed", async () => {
      const { browser } = await loggedIn(s);
      assert.equal((await browser.get(`${s.appUrl}/profile`)).status, 200);

      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      assert.equal(answer.status, 303);
      const end = await confirmAtProvider(browser, answer);
      assert.equal(new URL(end.url).origin, s.appUrl);
      assert.equal(end.status, 200);
      assert.equal((JSON.parse(end.body) as { logoutCompleted: boolean }).logoutCompleted, true);

      const api = await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT);
      assert.equal(api.status, 401);
      const page = await browser.get(`${s.appUrl}/profile`, { accept: 'text/html' });
      assert.equal(page.status, 302);
      assert.equal(new URL(page.location ?? '').pathname, '/login');
    });

    test('right after logout the provider says both tokens are inactive and the session is gone from the store', async () => {
      const { browser, sessionId, tokens } = await loggedIn(s);
      assert.ok(tokens.refreshToken !== undefined, 'the provider issued a refresh token');
      assert.equal((await s.op.introspect(tokens.accessToken)).active, true);
      assert.equal(await storeHas(store, sessionId), true);

      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      assert.equal(answer.status, 303);
      assert.equal((await s.op.introspect(tokens.accessToken)).active, false);
      assert.equal((await s.op.introspect(tokens.refreshToken)).active, false);
      assert.equal(await storeHas(store, sessionId), false);
    });

    test('the end_session redirect carries id_token_hint, client_id, post_logout_redirect_uri and state, with no-store', async () => {
      const { browser, tokens } = await loggedIn(s);
      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      const url = new URL(answer.location ?? '');
      assert.equal(url.origin + url.pathname, `${s.op.issuer}/session/end`);
      assert.equal(url.searchParams.get('id_token_hint'), tokens.idToken);
      assert.equal(url.searchParams.get('client_id'), 'test-app');
      assert.equal(url.searchParams.get('post_logout_redirect_uri'), `${s.appUrl}/`);
      assert.match(url.searchParams.get('state') ?? '', /^[\w-]{20,}$/);
      assert.equal(answer.headers.get('cache-control'), 'no-store');
      assert.equal(await browser.cookie(s.appUrl, 'oidc.logout'), url.searchParams.get('state'));
      assert.match(answer.headers.getSetCookie().join('\n'), /oidc\.sid=;.*Expires=Thu, 01 Jan 1970/);
    });

    test('a return with a wrong or a missing state is not a finished logout; the right one is, once', async () => {
      const { browser } = await loggedIn(s);
      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      const state = new URL(answer.location ?? '').searchParams.get('state') ?? '';

      const wrong = await browser.get(`${s.appUrl}/?state=not-the-state`);
      assert.equal((JSON.parse(wrong.body) as { logoutCompleted: boolean }).logoutCompleted, false);
      const missing = await browser.get(`${s.appUrl}/`);
      assert.equal((JSON.parse(missing.body) as { logoutCompleted: boolean }).logoutCompleted, false);
      assert.equal(await browser.cookie(s.appUrl, 'oidc.logout'), state, 'the state cookie survives a wrong return');

      const right = await browser.get(`${s.appUrl}/?state=${state}`);
      assert.equal((JSON.parse(right.body) as { logoutCompleted: boolean }).logoutCompleted, true);
      assert.equal(await browser.cookie(s.appUrl, 'oidc.logout'), undefined, 'the state is consumed');
      const replay = await browser.get(`${s.appUrl}/?state=${state}`);
      assert.equal((JSON.parse(replay.body) as { logoutCompleted: boolean }).logoutCompleted, false);
    });

    test('logout without a session still sends the browser to the provider with client_id and no id_token_hint', async () => {
      const browser = new Browser();
      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      assert.equal(answer.status, 303);
      const url = new URL(answer.location ?? '');
      assert.equal(url.searchParams.get('client_id'), 'test-app');
      assert.equal(url.searchParams.has('id_token_hint'), false);
      const again = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      assert.equal(again.status, 303);
    });

    test('a client that asks for JSON gets 200 { redirectTo } instead of a redirect', async () => {
      const { browser } = await loggedIn(s);
      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST', headers: JSON_ACCEPT });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('cache-control'), 'no-store');
      const { redirectTo } = JSON.parse(answer.body) as { redirectTo: string };
      assert.equal(new URL(redirectTo).origin, s.op.issuer);
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    });

    test('GET /logout with the default methods gets 405 and the session still works', async () => {
      const { browser } = await loggedIn(s);
      const answer = await browser.get(`${s.appUrl}/logout`);
      assert.equal(answer.status, 405);
      assert.equal(answer.headers.get('allow'), 'POST');
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200);
    });

    test('a cross-site logout POST is refused with 403 and the session still works', async () => {
      const { browser } = await loggedIn(s);
      const fromElsewhere = await browser.request(`${s.appUrl}/logout`, { method: 'POST', headers: { origin: 'https://evil.example' } });
      assert.equal(fromElsewhere.status, 403);
      const crossSite = await browser.request(`${s.appUrl}/logout`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } });
      assert.equal(crossSite.status, 403);
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200);
      const sameOrigin = await browser.request(`${s.appUrl}/logout`, { method: 'POST', headers: { origin: s.appUrl, 'sec-fetch-site': 'same-origin' } });
      assert.equal(sameOrigin.status, 303);
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    });
  });
}

describe('logout with GET allowed', () => {
  test('logout.methods ["GET", "POST"] accepts a GET', async () => {
    const s = await setup({ options: { logout: { methods: ['GET', 'POST'] } } });
    try {
      const { browser } = await loggedIn(s);
      const answer = await browser.get(`${s.appUrl}/logout`);
      assert.equal(answer.status, 303);
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    } finally {
      await s.close();
    }
  });
});
