import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requiresAuth } from '../lib/index.js';
import { setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, assertOidcError, jsonOf } from './helpers/assertions.js';
import { authorize, Browser, deliver, login, rawLocation } from './helpers/browser.js';
import { Gate } from './helpers/gates.js';

const HTML = { accept: 'text/html' } as const;

describe("res.oidc.login(): a login started from the app's own handler", () => {
  let s: TestSetup;
  let gate: Gate | undefined;
  before(async () => {
    s = await setup({
      jsonErrors: true,
      routes: (app) => {
        app.get('/signup', (_req, res, next) => {
          res.oidc.login({ returnTo: '/welcome?new=1', authorizationParams: { screen_hint: 'signup', login_hint: 'alice@example.test' } }).catch(next);
        });
        app.get('/hostile-return', (_req, res, next) => {
          res.oidc.login({ returnTo: '//evil.example/steal' }).catch(next);
        });
        app.get('/reserved', (_req, res, next) => {
          res.oidc.login({ authorizationParams: { redirect_uri: 'https://evil.example/cb' } }).catch(next);
        });
        app.get('/mode', (_req, res, next) => {
          res.oidc.login({ authorizationParams: { response_mode: 'form_post' } }).catch(next);
        });
        app.get('/silent', (_req, res, next) => {
          res.oidc.login({ returnTo: '/after-silent', authorizationParams: { prompt: 'none' } }).catch(next);
        });
        app.get(
          '/held',
          requiresAuth(async (req, res) => {
            await gate?.hold();
            res.json({ sub: req.oidc.user.sub, authenticated: req.oidc.isAuthenticated() });
          }),
        );
      },
    });
  });
  after(async () => {
    await s.close();
  });

  test("sends the browser to the provider with the login's own parameters over the configured ones, and back to its returnTo", async () => {
    const b = new Browser();
    const start = await b.get(`${s.appUrl}/signup`, HTML);
    assert.equal(start.status, 302);
    const url = new URL(start.location ?? '');
    assert.equal(url.searchParams.get('screen_hint'), 'signup');
    assert.equal(url.searchParams.get('login_hint'), 'alice@example.test');
    assert.equal(url.searchParams.get('redirect_uri'), `${s.appUrl}/callback`);
    const callback = await deliver(b, await authorize(b, start.location ?? '', 'alice'));
    assert.equal(rawLocation(callback), '/welcome?new=1');
  });

  test("a returnTo that leaves the app falls back to the app's base path", async () => {
    const b = new Browser();
    const start = await b.get(`${s.appUrl}/hostile-return`, HTML);
    const callback = await deliver(b, await authorize(b, start.location ?? '', 'alice'));
    assert.equal(rawLocation(callback), '/');
  });

  test('a protocol parameter or response_mode is refused: OIDC_CONFIG_INVALID through next(), no login cookie set', async () => {
    for (const path of ['/reserved', '/mode']) {
      const b = new Browser();
      const page = await b.get(`${s.appUrl}${path}`, HTML);
      assertOidcError(page, 500, 'OIDC_CONFIG_INVALID');
      assert.deepEqual(page.headers.getSetCookie(), [], path);
    }
  });

  test('a request that is not a top-level navigation gets 401 JSON and no cookie, as GET /login does', async () => {
    const b = new Browser();
    const page = await b.request(`${s.appUrl}/signup`, { headers: { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' } });
    assert.equal(page.status, 401);
    assert.equal((jsonOf(page) as { error: string }).error, 'login_required');
    assert.deepEqual(page.headers.getSetCookie(), []);
  });

  test("prompt=none is a silent login: without a provider session the provider's login_required brings the browser back, anonymous", async () => {
    const b = new Browser();
    const start = await b.get(`${s.appUrl}/silent`, HTML);
    assert.equal(new URL(start.location ?? '').searchParams.get('prompt'), 'none');
    const answer = await b.get(start.location ?? '');
    assert.equal(new URL(answer.location ?? '').searchParams.get('error'), 'login_required');
    const back = await b.get(answer.location ?? '', HTML);
    assert.equal(back.status, 302);
    assert.equal(rawLocation(back), '/after-silent');
    assert.equal((await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 401);
  });

  test('prompt=none with a provider session logs in without any page', async () => {
    const b = new Browser();
    await login(b, `${s.appUrl}/login`, 'alice');
    // A new app session, the provider's one still there: the app's cookies are dropped (its login marker with the
    // session cookie, as a browser that closes drops both; with the marker alone the app would ask for a fresh login), the provider's kept.
    const appCookies = await b.jar.getCookies(`${s.appUrl}/`);
    for (const c of appCookies) if (c.key === 'oidc.sid' || c.key === 'oidc.seen') await b.jar.setCookie(`${c.key}=; Max-Age=0`, `${s.appUrl}/`);
    assert.equal((await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 401);
    const start = await b.get(`${s.appUrl}/silent`, HTML);
    const answer = await b.get(start.location ?? '');
    assert.equal(new URL(answer.location ?? '').searchParams.get('error'), null);
    const back = await b.get(answer.location ?? '', HTML);
    assert.equal(rawLocation(back), '/after-silent');
    assert.equal((jsonOf(await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)) as { sub: string }).sub, 'alice');
  });

  test('behind requiresAuth(handler), req.oidc.user stays the user let in even when a logout lands while the handler runs', async () => {
    const b = new Browser();
    await login(b, `${s.appUrl}/login`, 'alice');
    gate = new Gate('held');
    const held = b.get(`${s.appUrl}/held`, ACCEPT_JSON);
    await gate.arrived;
    const logout = await b.request(`${s.appUrl}/logout`, { method: 'POST', headers: { accept: 'application/json' } });
    assert.equal(logout.status, 200);
    gate.open();
    const page = await held;
    gate = undefined;
    assert.equal(page.status, 200);
    assert.deepEqual(jsonOf(page), { sub: 'alice', authenticated: false });
  });
});

describe('routes turned off: the app mounts its own handlers and calls res.oidc', () => {
  let s: TestSetup;
  const seen: string[] = [];
  before(async () => {
    s = await setup({
      jsonErrors: true,
      options: { routes: { login: false, callback: false, logout: false } },
      routes: (app) => {
        app.get('/sign-in', (_req, res, next) => {
          seen.push('sign-in');
          res.oidc.login({ returnTo: '/profile' }).catch(next);
        });
        app.get('/callback', (_req, res, next) => {
          seen.push('callback');
          res.oidc.callback().catch((err: unknown) => {
            seen.push('callback failed');
            next(err);
          });
        });
        app.post('/sign-out', (_req, res, next) => {
          seen.push('sign-out');
          res.oidc.logout().catch(next);
        });
      },
    });
  });
  after(async () => {
    await s.close();
  });

  test("GET /login and POST /logout are no longer the package's: they fall through to the app (404)", async () => {
    const b = new Browser();
    assert.equal((await b.get(`${s.appUrl}/login`, HTML)).status, 404);
    assert.equal((await b.request(`${s.appUrl}/logout`, { method: 'POST', headers: ACCEPT_JSON })).status, 404);
  });

  test("requiresAuth() without a login route starts the login itself, with returnTo; the app's callback finishes it", async () => {
    seen.length = 0;
    const b = new Browser();
    const guarded = await b.get(`${s.appUrl}/profile?tab=2`, HTML);
    assert.equal(guarded.status, 302);
    assert.equal(new URL(guarded.location ?? '').origin, new URL(s.op.issuer).origin, 'straight to the provider');
    const callback = await deliver(b, await authorize(b, guarded.location ?? '', 'alice'));
    assert.equal(rawLocation(callback), '/profile?tab=2');
    assert.deepEqual(seen, ['callback']);
    assert.equal((jsonOf(await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)) as { sub: string }).sub, 'alice');
  });

  test("res.oidc.login() from the app's own sign-in route, res.oidc.logout() from its sign-out route", async () => {
    seen.length = 0;
    const b = new Browser();
    const start = await b.get(`${s.appUrl}/sign-in`, HTML);
    await deliver(b, await authorize(b, start.location ?? '', 'alice'));
    assert.equal((await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 200);
    const out = await b.request(`${s.appUrl}/sign-out`, { method: 'POST', headers: ACCEPT_JSON });
    assert.equal(out.status, 200);
    assert.ok(typeof (jsonOf(out) as { redirectTo?: unknown }).redirectTo === 'string');
    assert.equal((await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 401);
    assert.deepEqual(seen, ['sign-in', 'callback', 'sign-out']);
  });

  test('res.oidc.callback() rejects a callback that matches no login (OIDC_STATE_MISMATCH) and leaves the answer to the app', async () => {
    seen.length = 0;
    const b = new Browser();
    const page = await b.get(`${s.appUrl}/callback?code=x&state=${'s'.repeat(43)}`, HTML);
    assertOidcError(page, 400, 'OIDC_STATE_MISMATCH');
    assert.deepEqual(seen, ['callback', 'callback failed']);
  });

  test('res.oidc.logout() keeps the cross-site check: a POST from another site is refused and the session lives', async () => {
    const b = new Browser();
    const start = await b.get(`${s.appUrl}/sign-in`, HTML);
    await deliver(b, await authorize(b, start.location ?? '', 'alice'));
    const out = await b.request(`${s.appUrl}/sign-out`, {
      method: 'POST',
      headers: { ...ACCEPT_JSON, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    assertOidcError(out, 403, 'OIDC_CROSS_SITE_REQUEST');
    assert.equal((await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 200);
  });
});

describe('a login requiresAuth() starts itself is, like GET /login, only for a top-level navigation', () => {
  let s: TestSetup;
  before(async () => {
    s = await setup({
      jsonErrors: true,
      options: { routes: { login: false } },
      routes: (app) => {
        app.get('/mfa', requiresAuth({ acr: 'mfa' }), (_req, res) => {
          res.json({ ok: true });
        });
      },
    });
  });
  after(async () => {
    await s.close();
  });

  test("a page's fetch of a protected route gets 401 login_required and no cookie, with or without a login route", async () => {
    for (const path of ['/profile', '/mfa']) {
      const b = new Browser();
      const page = await b.request(`${s.appUrl}${path}`, { headers: { accept: 'text/html', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' } });
      assert.equal(page.status, 401, path);
      assert.equal((jsonOf(page) as { error: string }).error, 'login_required');
      assert.deepEqual(page.headers.getSetCookie(), [], path);
    }
  });
});
