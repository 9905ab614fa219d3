import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { baseOptions, buildApp, CLIENT_ID, CLIENT_SECRET, setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, configProblems, jsonOf } from './helpers/assertions.js';
import { authorize, Browser, deliver, login, rawLocation } from './helpers/browser.js';
import { startHostileProvider } from './helpers/hostile-provider.js';
import { lateServer } from './helpers/late-server.js';
import { confirmAtProvider } from './helpers/logout.js';

const HTML = { accept: 'text/html' } as const;

describe("authRequired: every route needs a login but the package's, the post-logout page and publicPaths", () => {
  let s: TestSetup;
  before(async () => {
    s = await setup({
      jsonErrors: true,
      options: { authRequired: true, publicPaths: ['/assets', /^\/health$/] },
      routes: (app) => {
        for (const path of ['/dashboard', '/assets', '/assets/app.css', '/assetsx', '/health', '/healthz']) {
          app.get(path, (req, res) => {
            res.json({ path, sub: req.oidc.user?.sub ?? null });
          });
        }
      },
    });
  });
  after(async () => {
    await s.close();
  });

  test('a browser on a protected route goes to login with returnTo; a JSON client gets 401', async () => {
    const b = new Browser();
    const page = await b.get(`${s.appUrl}/dashboard?tab=1`, HTML);
    assert.equal(page.status, 302);
    assert.equal(rawLocation(page), `/login?returnTo=${encodeURIComponent('/dashboard?tab=1')}`);
    const json = await b.get(`${s.appUrl}/dashboard`, ACCEPT_JSON);
    assert.equal(json.status, 401);
    assert.equal((jsonOf(json) as { error: string }).error, 'unauthorized');
  });

  test('a public path and everything under it is open; a path that only starts with the same letters is not', async () => {
    const b = new Browser();
    assert.equal((await b.get(`${s.appUrl}/assets`, HTML)).status, 200);
    assert.equal((await b.get(`${s.appUrl}/assets/app.css`, HTML)).status, 200);
    assert.equal((await b.get(`${s.appUrl}/assetsx`, HTML)).status, 302);
  });

  test('a RegExp public path is tested against the path, anchors and all', async () => {
    const b = new Browser();
    assert.equal((await b.get(`${s.appUrl}/health`, ACCEPT_JSON)).status, 200);
    assert.equal((await b.get(`${s.appUrl}/healthz`, ACCEPT_JSON)).status, 401);
  });

  test("the package's own routes answer as always: /login goes to the provider, a bad callback is 400, not a login redirect", async () => {
    const b = new Browser();
    const loginPage = await b.get(`${s.appUrl}/login`, HTML);
    assert.equal(new URL(loginPage.location ?? '').origin, new URL(s.op.issuer).origin);
    const callback = await b.get(`${s.appUrl}/callback?code=x&state=${'s'.repeat(43)}`, HTML);
    assert.equal(callback.status, 400);
    const backchannel = await fetch(`${s.appUrl}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(backchannel.status, 400);
  });

  test('logged in, every route is open; after logout the post-logout page is reachable anonymous, not a new login', async () => {
    const b = new Browser();
    const guarded = await b.get(`${s.appUrl}/dashboard`, HTML);
    const callback = await login(b, new URL(guarded.location ?? '', s.appUrl).href);
    assert.equal(rawLocation(callback), '/dashboard');
    assert.deepEqual(jsonOf(await b.get(`${s.appUrl}/dashboard`, ACCEPT_JSON)), { path: '/dashboard', sub: 'alice' });
    const logout = await b.request(`${s.appUrl}/logout`, { method: 'POST', headers: HTML });
    const landed = await confirmAtProvider(b, logout);
    assert.equal(new URL(landed.url).pathname, '/');
    assert.equal(landed.status, 200);
    assert.equal((jsonOf(landed) as { authenticated: boolean }).authenticated, false);
  });
});

describe('attemptSilentLogin', () => {
  let s: TestSetup;
  before(async () => {
    s = await setup({ jsonErrors: true, options: { attemptSilentLogin: true } });
  });
  after(async () => {
    await s.close();
  });

  test('an anonymous page view without a provider session tries prompt=none once, comes back anonymous, and is not tried again', async () => {
    const b = new Browser();
    const first = await b.get(`${s.appUrl}/?page=1`, HTML);
    assert.equal(first.status, 302);
    const authorization = new URL(first.location ?? '');
    assert.equal(authorization.searchParams.get('prompt'), 'none');
    assert.ok(
      first.headers.getSetCookie().some((c) => c.startsWith('oidc.silent=')),
      'the browser is marked as tried',
    );
    const answer = await b.get(first.location ?? '');
    assert.equal(new URL(answer.location ?? '').searchParams.get('error'), 'login_required');
    const back = await b.get(answer.location ?? '', HTML);
    assert.equal(rawLocation(back), '/?page=1');
    const again = await b.get(`${s.appUrl}/?page=1`, HTML);
    assert.equal(again.status, 200, 'not asked again');
    assert.equal((jsonOf(again) as { authenticated: boolean }).authenticated, false);
  });

  test('a visitor with a provider session is logged in without seeing any page', async () => {
    const b = new Browser();
    // A provider session from a login elsewhere (a direct authorization, its answer never delivered to this app).
    await authorize(b, `${s.appUrl}/login`, 'alice');
    const first = await b.get(`${s.appUrl}/`, HTML);
    assert.equal(new URL(first.location ?? '').searchParams.get('prompt'), 'none');
    const answer = await b.get(first.location ?? '');
    const back = await deliver(b, answer);
    assert.equal(rawLocation(back), '/');
    assert.equal((jsonOf(await b.get(`${s.appUrl}/`, ACCEPT_JSON)) as { authenticated: boolean }).authenticated, true);
  });

  test('a JSON request, a fetch and a non-GET are never sent off silently', async () => {
    const b = new Browser();
    assert.equal((await b.get(`${s.appUrl}/`, ACCEPT_JSON)).status, 200);
    assert.equal((await b.request(`${s.appUrl}/`, { headers: { accept: 'text/html', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' } })).status, 200);
    assert.equal((await b.request(`${s.appUrl}/`, { method: 'POST', headers: HTML })).status, 404);
    assert.equal(await b.cookie(s.appUrl, 'oidc.silent'), undefined);
  });

  test('after a logout the browser is marked: no silent login brings the user back', async () => {
    const b = new Browser();
    await login(b, `${s.appUrl}/login`, 'alice');
    const logout = await b.request(`${s.appUrl}/logout`, { method: 'POST', headers: ACCEPT_JSON });
    assert.ok(logout.headers.getSetCookie().some((c) => c.startsWith('oidc.silent=')));
    const page = await b.get(`${s.appUrl}/`, HTML);
    assert.equal(page.status, 200);
    assert.equal((jsonOf(page) as { authenticated: boolean }).authenticated, false);
  });
});

describe("fetch: every call to the provider goes through the app's function", () => {
  test('discovery, JWKS, token, userinfo and revocation all go through it', async () => {
    const seen: string[] = [];
    const s = await setup({
      jsonErrors: true,
      options: {
        fetch: (url, init) => {
          seen.push(`${init.method ?? 'GET'} ${new URL(url).pathname}`);
          return fetch(url, init);
        },
      },
      routes: (app) => {
        app.get('/test/userinfo', (req, res, next) => {
          req.oidc.fetchUserInfo().then((info) => res.json(info), next);
        });
      },
    });
    try {
      const b = new Browser();
      await login(b, `${s.appUrl}/login`, 'alice');
      assert.equal((jsonOf(await b.get(`${s.appUrl}/test/userinfo`, ACCEPT_JSON)) as { sub: string }).sub, 'alice');
      assert.equal((await b.request(`${s.appUrl}/logout`, { method: 'POST', headers: ACCEPT_JSON })).status, 200);
      for (const call of ['GET /.well-known/openid-configuration', 'GET /jwks', 'POST /token', 'GET /me', 'POST /token/revocation']) {
        assert.ok(seen.includes(call), `${call} did not go through the app's fetch (seen: ${seen.join(', ')})`);
      }
    } finally {
      await s.close();
    }
  });
});

describe("clockToleranceSec: how far the provider's clock may be from ours", () => {
  /**
   * Logs in once at a provider whose ID tokens are shifted in time (a positive shift: its clock
   * is ahead, a token issued "in the future"; negative: behind, a token already expired by
   * that much when its lifetime is shorter); answers the callback's status.
   */
  async function loginWithShift(shiftSec: number, options: { clockToleranceSec?: number }, lifetimeSec?: number): Promise<number> {
    const appServer = await lateServer();
    const hp = await startHostileProvider({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: `${appServer.url}/callback` });
    try {
      hp.misbehave({
        idTokenClaims: (c) => ({ ...c, iat: (c.iat ?? 0) + shiftSec, exp: (c.iat ?? 0) + shiftSec + (lifetimeSec ?? (c.exp ?? 0) - (c.iat ?? 0)) }),
      });
      appServer.setHandler(buildApp({ ...baseOptions(hp.issuer, appServer.url), ...options }, { jsonErrors: true }));
      const b = new Browser();
      const start = await b.get(`${appServer.url}/login`);
      const answer = await b.get(start.location ?? '');
      return (await b.get(answer.location ?? '', ACCEPT_JSON)).status;
    } finally {
      await appServer.close();
      await hp.close();
    }
  }

  test("by default 30 s, as openid-client's documented default: a token from 20 s ahead passes, one from 45 s ahead does not", async () => {
    assert.equal(await loginWithShift(20, {}), 302);
    assert.equal(await loginWithShift(45, {}), 400);
  });

  test('clockToleranceSec: 60 lets a token from 45 s ahead in, and one from 90 s ahead still not', async () => {
    assert.equal(await loginWithShift(45, { clockToleranceSec: 60 }), 302);
    assert.equal(await loginWithShift(90, { clockToleranceSec: 60 }), 400);
  });

  test('a 10 s token from a clock 55 s behind (expired 45 s ago here) is refused by default and taken with clockToleranceSec: 60', async () => {
    assert.equal(await loginWithShift(-55, {}, 10), 400);
    assert.equal(await loginWithShift(-55, { clockToleranceSec: 60 }, 10), 302);
  });
});

describe('the new options are validated at oidcAuth()', () => {
  const base = baseOptions('https://idp.example.com', 'https://app.example.com');
  function problemsOf(extra: Record<string, unknown>): readonly string[] {
    return configProblems({ ...base, ...extra });
  }

  test('each bad value is named with the rule it breaks', () => {
    assert.deepEqual(problemsOf({ authRequired: 'yes' }), ['"authRequired" must be a boolean (got "yes")']);
    assert.deepEqual(problemsOf({ attemptSilentLogin: 1 }), ['"attemptSilentLogin" must be a boolean (got 1)']);
    assert.deepEqual(problemsOf({ publicPaths: ['/x'] }), [
      '"publicPaths" only applies with "authRequired: true"; without it every route is public unless it uses requiresAuth()',
    ]);
    assert.deepEqual(problemsOf({ authRequired: true, publicPaths: '/x' }), ['"publicPaths" must be an array of paths and regular expressions (got "/x")']);
    assert.deepEqual(problemsOf({ authRequired: true, publicPaths: [/x/g] }), ['"publicPaths[0]" must not have the g or y flag (got /x/g)']);
    assert.match(problemsOf({ authRequired: true, publicPaths: ['/ok', 'relative'] }).join('\n'), /^"publicPaths\[1\]" must be a path that starts with "\/"/);
    assert.deepEqual(problemsOf({ clockToleranceSec: 301 }), ['"clockToleranceSec" must be a whole number of seconds between 0 and 300 (got 301)']);
    assert.deepEqual(problemsOf({ clockToleranceSec: -1 }), ['"clockToleranceSec" must be a whole number of seconds between 0 and 300 (got -1)']);
    assert.deepEqual(problemsOf({ clockToleranceSec: 0 }), []);
    assert.deepEqual(problemsOf({ clockToleranceSec: 300 }), []);
    assert.deepEqual(problemsOf({ fetch: 'https://proxy' }), ['"fetch" must be a function (got "https://proxy")']);
  });
});
