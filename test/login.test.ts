import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import session from 'express-session';
import request from 'supertest';
import {
  baseOptions,
  buildApp,
  capturingLogger,
  clientFor,
  FLAVOURS,
  SESSION_SECRET,
  setup,
  setupProviderLater,
  type ErrorBody,
  type TestSetup,
} from './helpers/app.js';
import { ACCEPT_JSON, assertLoggedInAs, assertLoginCookies, assertOidcError, assertSameOriginRelative, jsonOf } from './helpers/assertions.js';
import { authorize, Browser, deliver, login, rawLocation } from './helpers/browser.js';
import { allSetCookies, SESSION_COOKIE as COOKIE, setCookiesNamed, stateOf, type SetCookie } from './helpers/cookies.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';

/** Values of returnTo that a browser could read as another origin, or as script. */
const HOSTILE_RETURN_TO = [
  'https://evil.example',
  '//evil.example',
  '/\\evil.example',
  '/%2F%2Fevil.example',
  '%2F%2Fevil.example',
  '/%5Cevil.example',
  '/\t/evil.example',
  'javascript:alert(1)',
  '///evil.example',
  '\\\\evil.example',
  '/\\/evil.example',
  'http:evil.example',
  '/%252F%252Fevil.example',
  '/\n/evil.example',
  '/%09/evil.example',
  '/.//evil.example',
  '/%2e%2e//evil.example',
  ' //evil.example',
  'evil.example',
];

function assertSessionCookie(cookies: SetCookie[], secure: boolean): void {
  assert.equal(cookies.length, 1, `expected one ${cookies[0]?.name ?? COOKIE} Set-Cookie`);
  const [cookie] = cookies;
  assert.ok(cookie !== undefined);
  assert.equal(cookie.attributes.get('httponly'), true, 'HttpOnly');
  assert.equal(String(cookie.attributes.get('samesite')).toLowerCase(), 'lax', 'SameSite=Lax');
  assert.equal(cookie.attributes.has('secure'), secure, secure ? 'Secure expected' : 'no Secure expected');
}

async function authorizationEndpoint(issuer: string): Promise<string> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  return ((await res.json()) as { authorization_endpoint: string }).authorization_endpoint;
}

for (const flavour of FLAVOURS) {
  describe(`login (${flavour})`, () => {
    let s: TestSetup;
    before(async () => {
      s = await setup({
        flavour,
        jsonErrors: true,
        routes: (app) => {
          app.get('/token', (req, res) => {
            res.json({ token: req.oidc.accessToken?.token ?? null });
          });
        },
      });
    });
    after(async () => {
      await s.close();
    });

    test('a full login with the provider ends at "/" and GET /profile then answers 200 with sub and name', async () => {
      const b = new Browser();
      const callback = await login(b, `${s.appUrl}/login`);
      assert.equal(callback.status, 302);
      assert.equal(rawLocation(callback), '/');
      const profile = await b.get(`${s.appUrl}/profile`, ACCEPT_JSON);
      assert.equal(profile.status, 200);
      const body = jsonOf(profile) as { sub: string; user: { name?: string }; hasAccessToken: boolean };
      assert.equal(body.sub, 'alice');
      assert.equal(body.user.name, 'User alice');
      assert.equal(body.hasAccessToken, true);
    });

    test('req.oidc.accessToken holds a token that the provider reports active for the user and this client', async () => {
      const b = new Browser();
      await login(b, `${s.appUrl}/login`, 'bob');
      const { token } = jsonOf(await b.get(`${s.appUrl}/token`)) as { token: string | null };
      assert.ok(token !== null && token.length > 0, 'req.oidc.accessToken is present');
      const seen = await s.op.introspect(token);
      assert.equal(seen.active, true);
      assert.equal(seen['sub'], 'bob');
      assert.equal(seen['client_id'], clientFor(s.appUrl).client_id);
    });

    test('/login redirects to the authorization endpoint with a code flow request, PKCE S256, state and nonce', async () => {
      const b = new Browser();
      const [first, second] = [await b.get(`${s.appUrl}/login`), await b.get(`${s.appUrl}/login`)];
      assert.equal(first.status, 302);
      assert.equal(first.headers.get('cache-control'), 'no-store');
      const url = new URL(first.location ?? '');
      assert.equal(url.origin + url.pathname, await authorizationEndpoint(s.op.issuer));
      const q = url.searchParams;
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('client_id'), clientFor(s.appUrl).client_id);
      assert.equal(q.get('redirect_uri'), `${s.appUrl}/callback`);
      assert.deepEqual(q.get('scope')?.split(' ').sort(), ['email', 'openid', 'profile']);
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('code_challenge') ?? '', /^[\w-]{43}$/);
      const again = new URL(second.location ?? '').searchParams;
      for (const name of ['state', 'nonce', 'code_challenge']) {
        assert.ok((q.get(name) ?? '').length >= 16, `${name} is present`);
        assert.notEqual(again.get(name), q.get(name), `${name} is new for every login`);
      }
    });

    test('returnTo is honoured: /login?returnTo=/profile?x=1 ends at /profile?x=1', async () => {
      const b = new Browser();
      const callback = await login(b, `${s.appUrl}/login?returnTo=/profile?x=1`);
      assert.equal(rawLocation(callback), '/profile?x=1');
      const landed = await b.follow(callback);
      assert.equal(landed.status, 200);
      assert.equal(landed.url, `${s.appUrl}/profile?x=1`);
    });

    for (const hostile of HOSTILE_RETURN_TO) {
      test(`a hostile returnTo ${JSON.stringify(hostile)} is ignored and the login ends at "/"`, async () => {
        const callback = await login(new Browser(), `${s.appUrl}/login?returnTo=${encodeURIComponent(hostile)}`);
        assert.equal(callback.status, 302);
        assertSameOriginRelative(rawLocation(callback), s.appUrl);
        assert.equal(rawLocation(callback), '/');
      });
    }

    test('a returnTo given twice is ignored and the login ends at "/"', async () => {
      const callback = await login(new Browser(), `${s.appUrl}/login?returnTo=%2Fprofile&returnTo=%2F%2Fevil.example`);
      assert.equal(rawLocation(callback), '/');
    });

    test('/login sets no session cookie, only the login cookies; the callback sets the session cookie HttpOnly and SameSite=Lax, without Secure on an http baseUrl', async () => {
      const b = new Browser();
      const start = await b.get(`${s.appUrl}/login`);
      assert.equal(start.status, 302);
      assert.deepEqual(setCookiesNamed(start.headers, COOKIE), [], '/login sets no session cookie');
      const { tx, bind } = assertLoginCookies(start.headers, { state: stateOf(start.location), https: false });
      assert.deepEqual(
        allSetCookies(start.headers)
          .map((c) => c.name)
          .sort(),
        [bind.name, tx.name].sort(),
        'and no other cookie',
      );
      const callback = await deliver(b, await authorize(b, start.location ?? ''));
      assert.equal(callback.status, 302);
      assertSessionCookie(setCookiesNamed(callback.headers, COOKIE), false);
    });

    for (const order of ['the later tab first', 'the earlier tab first'] as const) {
      test(`two logins started in parallel tabs of one browser both succeed, completing ${order}`, async () => {
        const b = new Browser();
        const tab1 = await b.get(`${s.appUrl}/login?returnTo=%2Fprofile%3Ftab%3D1`);
        const tab2 = await b.get(`${s.appUrl}/login?returnTo=%2Fprofile%3Ftab%3D2`);
        const tabs = [
          { answer: await authorize(b, tab1.location ?? ''), returnTo: '/profile?tab=1' },
          { answer: await authorize(b, tab2.location ?? ''), returnTo: '/profile?tab=2' },
        ];
        if (order === 'the later tab first') tabs.reverse();
        for (const { answer, returnTo } of tabs) {
          const callback = await deliver(b, answer);
          assert.equal(callback.status, 302, callback.body);
          assert.equal(rawLocation(callback), returnTo);
        }
        await assertLoggedInAs(b, s.appUrl, 'alice');
      });
    }
  });

  describe(`login when the provider is down at start (${flavour})`, () => {
    test('GET /login answers 503 OIDC_PROVIDER_UNAVAILABLE, the app keeps serving, and login works once the provider is back', async () => {
      const s = await setupProviderLater({ flavour, jsonErrors: true });
      try {
        const b = new Browser();
        for (let attempt = 0; attempt < 2; attempt++) {
          // A navigation (a JSON client gets 401 login_required before the provider is asked); jsonErrors answers JSON.
          const down = await b.get(`${s.appUrl}/login`);
          assertOidcError(down, 503, 'OIDC_PROVIDER_UNAVAILABLE');
          assert.equal(down.headers.get('cache-control'), 'no-store');
          assert.deepEqual(down.headers.getSetCookie(), [], 'a login that cannot start sets no cookie');
        }
        const home = await b.get(`${s.appUrl}/`);
        assert.equal(home.status, 200);
        assert.equal((jsonOf(home) as { authenticated?: unknown }).authenticated, false);

        const op = await s.startProvider();
        const up = await b.get(`${s.appUrl}/login`);
        assert.equal(up.status, 302);
        const target = new URL(up.location ?? '');
        assert.equal(target.origin + target.pathname, await authorizationEndpoint(op.issuer));
        const callback = await login(b, `${s.appUrl}/login`);
        assert.equal(callback.status, 302);
        await assertLoggedInAs(b, s.appUrl, 'alice');
      } finally {
        await s.close();
      }
    });
  });

  describe(`session: false (${flavour})`, () => {
    test('without express-session mounted, the first request fails with 500 OIDC_SESSION_MISSING', async () => {
      const app = buildApp(
        { ...baseOptions('http://127.0.0.1:9/', 'http://127.0.0.1:8/'), session: false, secret: SESSION_SECRET },
        { flavour, jsonErrors: true },
      );
      for (const path of ['/', '/login']) {
        // No Accept: application/json, since /login answers a JSON client 401 login_required; jsonErrors answers JSON anyway.
        const res = await request(app).get(path);
        assert.equal(res.status, 500, path);
        assert.equal((res.body as ErrorBody).code, 'OIDC_SESSION_MISSING', path);
      }
    });

    test("with the app's own express-session mounted before oidcAuth, login works", async () => {
      const s = await setup({
        flavour,
        jsonErrors: true,
        options: { session: false, secret: SESSION_SECRET },
        beforeOidc: (app) => app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false })),
      });
      try {
        const b = new Browser();
        const callback = await login(b, `${s.appUrl}/login?returnTo=%2Fprofile`);
        assert.equal(rawLocation(callback), '/profile');
        await assertLoggedInAs(b, s.appUrl, 'alice');
      } finally {
        await s.close();
      }
    });
  });
}

describe('login cookies with an https baseUrl (route level)', () => {
  const baseUrl = 'https://app.example.test';
  let op: TestProvider;
  before(async () => {
    op = await startTestProvider({ clients: [clientFor(baseUrl)] });
  });
  after(async () => {
    await op.close();
  });

  for (const flavour of FLAVOURS) {
    test(`behind a proxy that forwards https, /login sets Secure, HttpOnly, SameSite=Lax login cookies, the binding one __Host-, and no session cookie (${flavour})`, async () => {
      const app = buildApp(baseOptions(op.issuer, baseUrl), { flavour, jsonErrors: true });
      app.set('trust proxy', true);
      const res = await request(app).get('/login').set('X-Forwarded-Proto', 'https');
      assert.equal(res.status, 302, res.text);
      const location = res.headers['location'] as string;
      assert.equal(new URL(location).searchParams.get('redirect_uri'), `${baseUrl}/callback`);
      const { tx, bind } = assertLoginCookies(res.headers, { state: stateOf(location), https: true });
      assert.match(bind.name, /^__Host-oidc\.bind\./);
      assert.deepEqual(
        allSetCookies(res.headers)
          .map((c) => c.name)
          .sort(),
        [bind.name, tx.name].sort(),
        'no session cookie, no other cookie',
      );
    });

    test(`with response_mode=form_post over https, the login cookies are SameSite=None so the provider's cross-site POST brings them, the session cookie stays SameSite=Lax, and nothing is warned (${flavour})`, async () => {
      const { lines, logger } = capturingLogger();
      const app = buildApp({ ...baseOptions(op.issuer, baseUrl), authorizationParams: { response_mode: 'form_post' }, logger }, { flavour, jsonErrors: true });
      app.set('trust proxy', true);
      assert.deepEqual(
        lines.filter((l) => l.level === 'warn').map((l) => l.message),
        [],
        'no start-up warning about form_post',
      );
      const start = await request(app).get('/login').set('X-Forwarded-Proto', 'https');
      assert.equal(start.status, 302, start.text);
      const location = start.headers['location'] as string;
      assertLoginCookies(start.headers, { state: stateOf(location), https: true, sameSite: 'none' });
      const page = await authorize(new Browser(), location);
      assert.equal(page.status, 200, 'the provider answers with its auto-submitting form');
      const fields = Object.fromEntries([...page.body.matchAll(/<input\b[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
      assert.ok(typeof fields['code'] === 'string' && typeof fields['state'] === 'string', 'the form carries code and state');
      const loginCookies = allSetCookies(start.headers).map((c) => `${c.name}=${c.value}`);
      const callback = await request(app).post('/callback').set('X-Forwarded-Proto', 'https').set('Cookie', loginCookies.join('; ')).type('form').send(fields);
      assert.equal(callback.status, 302, callback.text);
      const [sessionCookie] = setCookiesNamed(callback.headers, `__Host-${COOKIE}`);
      assert.ok(sessionCookie !== undefined, 'the session cookie is set');
      assert.equal(String(sessionCookie.attributes.get('samesite')).toLowerCase(), 'lax');
    });

    test(`with response_mode=form_post over plain http, a start-up warning says the login needs https (${flavour})`, () => {
      const { lines, logger } = capturingLogger();
      buildApp({ ...baseOptions(op.issuer, 'http://localhost:3000'), authorizationParams: { response_mode: 'form_post' }, logger }, { flavour });
      const warnings = lines.filter((l) => l.level === 'warn' && /form_post/.test(l.message));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]?.message ?? '', /https/);
    });

    test(`behind a proxy that forwards https, the callback sets the session cookie __Host-oidc.sid, Secure, HttpOnly and SameSite=Lax (${flavour})`, async () => {
      const app = buildApp(baseOptions(op.issuer, baseUrl), { flavour, jsonErrors: true });
      app.set('trust proxy', true);
      const start = await request(app).get('/login').set('X-Forwarded-Proto', 'https');
      assert.equal(start.status, 302, start.text);
      const loginCookies = allSetCookies(start.headers).map((c) => `${c.name}=${c.value}`);
      assert.equal(loginCookies.length, 2);
      // The provider's answer goes to https://app.example.test/callback: deliver it through the "proxy" by hand.
      const answer = new URL((await authorize(new Browser(), start.headers['location'] as string)).location ?? '');
      assert.equal(answer.origin + answer.pathname, `${baseUrl}/callback`);
      const callback = await request(app)
        .get(answer.pathname + answer.search)
        .set('X-Forwarded-Proto', 'https')
        .set('Cookie', loginCookies.join('; '));
      assert.equal(callback.status, 302, callback.text);
      assert.deepEqual(setCookiesNamed(callback.headers, COOKIE), [], `not the http name ${COOKIE}`);
      const cookies = setCookiesNamed(callback.headers, `__Host-${COOKIE}`);
      assertSessionCookie(cookies, true);
      const [cookie] = cookies;
      assert.ok(cookie !== undefined);
      assert.equal(cookie.attributes.get('path'), '/');
      assert.equal(cookie.attributes.has('domain'), false);
    });

    test(`over plain http, an app with an https baseUrl refuses /login with a clear error instead of losing the cookie (${flavour})`, async () => {
      const app = buildApp(baseOptions(op.issuer, baseUrl), { flavour, jsonErrors: true });
      const res = await request(app).get('/login');
      assert.equal(res.status, 500);
      assert.equal((res.body as { code: string }).code, 'OIDC_CONFIG_INVALID');
      assert.match((res.body as { message: string }).message, /trust proxy/);
      assert.deepEqual(allSetCookies(res.headers), [], 'no cookie at all');
    });
  }
});
