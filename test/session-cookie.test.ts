import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import type { Session } from 'express-session';
import request from 'supertest';
import type { OidcAuthOptions } from '../lib/index.js';
import { pathSuffix } from '../lib/options/session.js';
import { baseOptions, buildApp, capturingLogger, clientFor } from './helpers/app.js';
import { authorize, Browser } from './helpers/browser.js';
import { allSetCookies, setCookiesNamed, type SetCookie } from './helpers/cookies.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';

/*
 * The session cookie's name and attributes, read from Set-Cookie. On https the package names it
 * `__Host-…`: RFC 6265bis §4.1.3.2 has browsers refuse such a cookie unless it is Secure, has
 * Path=/ and no Domain, so a sibling subdomain can never set one (cookie tossing). An app under
 * a path gets Path=/ too, and its path in the name.
 */

const ORIGIN = 'https://app.example.test';
/** RFC 6265 §4.1.1: a cookie name is a token (RFC 2616 §2.2): no separators, "/" among them. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An https app (behind a proxy that says so) with oidcAuth and the test routes mounted under `prefix`. */
function appUnder(prefix: string, options: OidcAuthOptions): express.Express {
  const inner = buildApp(options, {
    jsonErrors: true,
    // The app's own write: the quickest way to make express-session set its cookie.
    routes: (app) =>
      app.post('/note', (req, res) => {
        (req.session as Session & { note?: number }).note = 1;
        res.json({ ok: true });
      }),
  });
  const outer = express();
  outer.set('env', 'test');
  outer.set('trust proxy', true);
  inner.set('trust proxy', true);
  if (prefix === '/') outer.use(inner);
  else outer.use(prefix, inner);
  return outer;
}

/** The one Set-Cookie named `name`, with the attributes that keep a cookie to this host: Secure, Path=/, no Domain. */
function assertHostCookie(cookies: SetCookie[], name: string): SetCookie {
  const named = cookies.filter((c) => c.name === name);
  assert.equal(named.length, 1, `one Set-Cookie for ${name} (got ${cookies.map((c) => c.name).join(', ') || 'none'})`);
  const [cookie] = named;
  assert.ok(cookie !== undefined);
  assert.match(cookie.name, TOKEN, 'the name is an RFC 6265 token');
  assert.equal(cookie.attributes.get('path'), '/', `${name}: Path=/`);
  assert.equal(cookie.attributes.get('secure'), true, `${name}: Secure`);
  assert.equal(cookie.attributes.has('domain'), false, `${name}: no Domain`);
  assert.equal(cookie.attributes.get('httponly'), true, `${name}: HttpOnly`);
  assert.equal(String(cookie.attributes.get('samesite')).toLowerCase(), 'lax', `${name}: SameSite=Lax`);
  return cookie;
}

async function sessionCookieOf(app: express.Express, prefix: string): Promise<SetCookie[]> {
  const res = await request(app)
    .post(`${prefix === '/' ? '' : prefix}/note`)
    .set('X-Forwarded-Proto', 'https');
  assert.equal(res.status, 200, res.text);
  return allSetCookies(res.headers);
}

describe('the session cookie of an https app under a path (behind a proxy, real provider)', () => {
  let op: TestProvider;
  before(async () => {
    op = await startTestProvider({ clients: [clientFor(`${ORIGIN}/app`)] });
  });
  after(async () => {
    await op.close();
  });

  test('the callback sets __Host-oidc.sid.app with Path=/, Secure and no Domain; logout expires it with the same attributes', async () => {
    const app = appUnder('/app', baseOptions(op.issuer, `${ORIGIN}/app`));
    const start = await request(app).get('/app/login').set('X-Forwarded-Proto', 'https');
    assert.equal(start.status, 302, start.text);
    const loginCookies = allSetCookies(start.headers).map((c) => `${c.name}=${c.value}`);
    const answer = new URL((await authorize(new Browser(), start.headers['location'] as string)).location ?? '');
    assert.equal(answer.origin + answer.pathname, `${ORIGIN}/app/callback`);
    const callback = await request(app)
      .get(answer.pathname + answer.search)
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', loginCookies.join('; '));
    assert.equal(callback.status, 302, callback.text);
    const set = allSetCookies(callback.headers);
    assert.deepEqual(setCookiesNamed(callback.headers, 'oidc.sid'), [], 'not the plain name, which a sibling can plant');
    const cookie = assertHostCookie(set, '__Host-oidc.sid.app');
    const sent = `${cookie.name}=${cookie.value}`;

    const profile = await request(app).get('/app/profile').set('X-Forwarded-Proto', 'https').set('Accept', 'application/json').set('Cookie', sent);
    assert.equal(profile.status, 200, profile.text);
    assert.equal((profile.body as { sub?: unknown }).sub, 'alice');

    const logout = await request(app).post('/app/logout').set('X-Forwarded-Proto', 'https').set('Origin', ORIGIN).set('Cookie', sent);
    assert.equal(logout.status, 303, logout.text);
    const [cleared] = setCookiesNamed(logout.headers, cookie.name);
    assert.ok(cleared !== undefined, 'logout expires the session cookie');
    assert.equal(cleared.value, '');
    assert.ok(Date.parse(String(cleared.attributes.get('expires'))) < Date.now(), 'already expired');
    // Browsers ignore a __Host- Set-Cookie without Secure and Path=/, an expiry included.
    assert.equal(cleared.attributes.get('path'), '/');
    assert.equal(cleared.attributes.get('secure'), true);
    assert.equal(cleared.attributes.has('domain'), false);
    const after = await request(app).get('/app/profile').set('X-Forwarded-Proto', 'https').set('Accept', 'application/json').set('Cookie', sent);
    assert.equal(after.status, 401);
  });
});

describe('session cookie names (https, no provider needed)', () => {
  const options = (baseUrl: string, extra: Partial<OidcAuthOptions> = {}): OidcAuthOptions => ({ ...baseOptions('https://127.0.0.1:1', baseUrl), ...extra });

  test('apps at /, /a, /b and /a/b on one host each get their own __Host- cookie at Path=/; /app/ and /app name the same', async () => {
    const names = new Map<string, string>();
    for (const prefix of ['/', '/a', '/b', '/a/b', '/a.b']) {
      const cookies = await sessionCookieOf(appUnder(prefix, options(`${ORIGIN}${prefix}`)), prefix);
      const [cookie] = cookies;
      assert.ok(cookie !== undefined, `a session cookie for the app at ${prefix}`);
      assertHostCookie(cookies, cookie.name);
      names.set(prefix, cookie.name);
    }
    assert.deepEqual(Object.fromEntries(names), {
      '/': '__Host-oidc.sid',
      '/a': '__Host-oidc.sid.a',
      '/b': '__Host-oidc.sid.b',
      '/a/b': '__Host-oidc.sid.a.b',
      '/a.b': '__Host-oidc.sid.a%2Eb',
    });
    const [trailing] = await sessionCookieOf(appUnder('/a', options(`${ORIGIN}/a/`)), '/a');
    assert.equal(trailing?.name, '__Host-oidc.sid.a');
  });

  test('the path part of the name is an RFC 6265 token, and different paths give different names', () => {
    const paths = ['/', '/a/b', '/a.b', '/a%2Fb', '/a%252Fb', '/café', '/a b', '/(x)', '/a:b@c', '/a/b/', '/a//b'];
    const suffixes = paths.map((p) => pathSuffix(new URL(p, ORIGIN).pathname));
    for (const suffix of suffixes.filter((s) => s !== '')) assert.match(`__Host-oidc.sid${suffix}`, TOKEN);
    // "/a/b/" is "/a/b" (trailing slash dropped); every other path is its own app.
    assert.equal(new Set(suffixes).size, paths.length - 1, suffixes.join(' '));
  });

  test("an app's own name, path or domain keeps working as given, with a start-up warning that names cookie tossing", async () => {
    const cases: { extra: OidcAuthOptions['session']; name: string; path: string; domain?: string }[] = [
      { extra: { secret: 'session-secret-for-tests-only-0123456789', name: 'app.sid' }, name: 'app.sid', path: '/app' },
      { extra: { secret: 'session-secret-for-tests-only-0123456789', cookie: { path: '/app' } }, name: 'oidc.sid', path: '/app' },
      {
        extra: { secret: 'session-secret-for-tests-only-0123456789', cookie: { domain: 'example.test' } },
        name: 'oidc.sid',
        path: '/app',
        domain: 'example.test',
      },
    ];
    for (const { extra, name, path, domain } of cases) {
      const { lines, logger } = capturingLogger();
      const cookies = await sessionCookieOf(appUnder('/app', options(`${ORIGIN}/app`, { session: extra, logger })), '/app');
      const [cookie] = cookies;
      assert.equal(cookie?.name, name);
      assert.equal(cookie.attributes.get('path'), path);
      assert.equal(cookie.attributes.get('domain'), domain);
      assert.equal(cookie.attributes.get('secure'), true);
      const warnings = lines.filter((l) => l.level === 'warn').map((l) => l.message);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0] ?? '', /not a __Host- cookie .*cookie tossing/);
    }
  });

  test("a __Host- name of the app's own under a path gets Path=/ and no warning; so does the default", async () => {
    for (const session of [
      { secret: 'session-secret-for-tests-only-0123456789', name: '__Host-shop' },
      { secret: 'session-secret-for-tests-only-0123456789' },
    ]) {
      const { lines, logger } = capturingLogger();
      const cookies = await sessionCookieOf(appUnder('/app', options(`${ORIGIN}/app`, { session, logger })), '/app');
      assertHostCookie(cookies, session.name ?? '__Host-oidc.sid.app');
      assert.deepEqual(
        lines.filter((l) => l.level === 'warn'),
        [],
      );
    }
  });

  test('over http, no __Host- cookie is possible: a warning off loopback, none for local development', () => {
    for (const [baseUrl, expected] of [
      ['http://app.internal:8080/app', 1],
      ['http://localhost:3000/app', 0],
    ] as const) {
      const { lines, logger } = capturingLogger();
      appUnder('/app', options(baseUrl, { allowInsecureRequests: true, logger }));
      const warnings = lines.filter((l) => l.level === 'warn' && /__Host-/.test(l.message));
      assert.equal(warnings.length, expected, `${baseUrl}: ${warnings.map((w) => w.message).join('\n')}`);
    }
  });
});
