import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import type { Browser, Cookie } from 'playwright-core';
import type { OidcAuthOptions } from '../lib/index.js';
import { baseOptions, buildApp, capturingLogger, clientFor, SESSION_SECRET } from './helpers/app.js';
import { chromiumSkip, launchChromium, releaseChromium } from './helpers/chromium.js';
import { httpsServer, selfSignedCert, type HttpsServer } from './helpers/https.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';
import { EVIL_HOST, isolatedContext, logIn, PARENT, parentDomainCookie, whoAmI } from './helpers/sibling-hosts.js';

/*
 * Cookie tossing against an app under a path, in headless Chromium over https. The attacker logs
 * in at https://app.example.test/app and keeps every cookie the app gave it; a page on
 * evil.example.test plants them all for the parent domain (each under its own name and path,
 * and under the names an app under a path used to read), then sends the victim to the app.
 * The app must still show the victim no account, or the victim's own. The app at /legacy sets
 * session.cookie.path itself, so its cookie is no __Host- one: the same attack logs the victim
 * in as the attacker there, which shows that the attack works in this setup, and what the
 * README says such options give up.
 */

const APP_HOST = `app.${PARENT}`;

describe('cookie tossing from a sibling subdomain against an https app under a path (headless Chromium)', () => {
  const skip = chromiumSkip();
  if (skip !== false) {
    test('every cookie tossing browser test, since Chromium is missing', { skip }, () => undefined);
    return;
  }
  let browser: Browser;
  let appServer: HttpsServer;
  let evilServer: HttpsServer;
  let op: TestProvider;
  let origin: string;
  const legacyLog = capturingLogger();
  /** what evil.example.test/toss answers: Set-Cookie lines, then a redirect */
  let toss: { cookies: string[]; location: string } = { cookies: [], location: '/' };

  before(async () => {
    const launching = launchChromium();
    try {
      const tls = await selfSignedCert([`*.${PARENT}`, PARENT]);
      [appServer, evilServer] = await Promise.all([httpsServer(tls), httpsServer(tls)]);
      origin = appServer.origin(APP_HOST);
      const paths = ['/app', '/legacy'];
      op = await startTestProvider({
        clients: [
          {
            ...clientFor(`${origin}/app`),
            redirect_uris: paths.map((p) => `${origin}${p}/callback`),
            post_logout_redirect_uris: paths.map((p) => `${origin}${p}/`),
          },
        ],
      });
      const mount = (path: string, options: Partial<OidcAuthOptions>): express.Express =>
        buildApp({ ...baseOptions(op.issuer, `${origin}${path}`), ...options }, { jsonErrors: true });
      const outer = express();
      outer.set('env', 'test');
      outer.use('/app', mount('/app', {}));
      outer.use('/legacy', mount('/legacy', { session: { secret: SESSION_SECRET, cookie: { path: '/legacy' } }, logger: legacyLog.logger }));
      appServer.setHandler(outer);
      evilServer.setHandler((req, res) => {
        if (req.url !== '/toss') {
          res.statusCode = 404;
          res.end();
          return;
        }
        res.writeHead(302, { 'set-cookie': toss.cookies, location: toss.location, 'cache-control': 'no-store' });
        res.end();
      });
    } finally {
      browser = await launching;
    }
  });

  after(async () => {
    await releaseChromium();
    await Promise.all([appServer.close(), evilServer.close(), op.close()]);
  });

  /** The attacker logs in at the app under `path` and keeps every cookie the app set for its host. */
  async function attackerCookies(path: string): Promise<Cookie[]> {
    const context = await isolatedContext(browser);
    try {
      const page = await context.newPage();
      await logIn(page, `${origin}${path}/login`, 'attacker');
      assert.equal((await whoAmI(page, `${origin}${path}/profile`)).sub, 'attacker', 'the attacker is logged in');
      return (await context.cookies()).filter((c) => c.domain.replace(/^\./, '') === APP_HOST);
    } finally {
      await context.close();
    }
  }

  /**
   * Every way a sibling could hand the victim the attacker's session: each cookie under its
   * own name for the parent domain, at its path and one longer (Chromium sends the cookie with
   * the longer path first, so it goes before a victim's own); a __Host- one also without its
   * prefix, as the name an app under a path read before (oidc.sid at its path), and as a
   * nameless cookie whose value spells the name (which Chromium must refuse).
   */
  function plantable(cookies: Cookie[], path: string): string[] {
    const lines: string[] = [];
    const atPaths = (name: string, value: string, at: string): string[] => [at, `${at.replace(/\/$/, '')}/`].map((p) => parentDomainCookie(name, value, p));
    for (const c of cookies) {
      if (!c.name.startsWith('__Host-')) {
        lines.push(...atPaths(c.name, c.value, c.path));
        continue;
      }
      lines.push(parentDomainCookie(c.name, c.value, c.path), parentDomainCookie('', `${c.name}=${c.value}`, '/'));
      lines.push(...atPaths(c.name.slice('__Host-'.length), c.value, path));
      if (c.name.startsWith('__Host-oidc.sid')) lines.push(...atPaths('oidc.sid', c.value, path));
    }
    return lines;
  }

  interface Visit {
    home: { authenticated?: unknown };
    profile: { status: number; sub?: unknown };
    /** the cookies the victim holds for the parent domain (planted) */
    planted: Cookie[];
  }

  /** The victim (logged in as `victim` first, or not) follows the attacker's link, then asks the app who they are. */
  async function victimAfterToss(path: string, victim: string | undefined): Promise<Visit> {
    const context = await isolatedContext(browser);
    try {
      const page = await context.newPage();
      if (victim !== undefined) await logIn(page, `${origin}${path}/login`, victim);
      await page.goto(`${evilServer.origin(EVIL_HOST)}/toss`);
      assert.equal(new URL(page.url()).pathname, `${path}/`, 'the toss sent the victim to the app');
      const home = JSON.parse(await page.innerText('body')) as Visit['home'];
      const profile = await whoAmI(page, `${origin}${path}/profile`);
      const planted = (await context.cookies()).filter((c) => c.domain.replace(/^\./, '') === PARENT);
      return { home, profile, planted };
    } finally {
      await context.close();
    }
  }

  test("the app under /app sets a __Host- session cookie at Path=/, and a sibling's planted copy of the attacker's session logs nobody in", async (t) => {
    const cookies = await attackerCookies('/app');
    toss = { cookies: plantable(cookies, '/app'), location: `${origin}/app/` };

    const victim = await victimAfterToss('/app', undefined);
    t.diagnostic(`planted for ${PARENT}: ${victim.planted.map((c) => `${c.name || '(nameless)'} (path ${c.path})`).join(', ')}`);
    // The setup really tossed: Chromium took the plain names, and no __Host- one, nameless or not.
    assert.ok(
      victim.planted.some((c) => c.name === 'oidc.sid' && c.path === '/app'),
      'a plain oidc.sid for the parent domain at /app was accepted',
    );
    assert.deepEqual(
      victim.planted.filter((c) => c.name.toLowerCase().startsWith('__host-') || c.value.toLowerCase().startsWith('__host-')),
      [],
      'no __Host- cookie can be set from a sibling',
    );

    assert.notEqual(victim.profile.sub, 'attacker', 'the victim is logged in as the attacker');
    assert.equal(victim.home.authenticated, false, 'the victim is not logged in at all');
    assert.equal(victim.profile.status, 401);
    const session = cookies.find((c) => c.name === '__Host-oidc.sid.app');
    assert.ok(session !== undefined, `the session cookie is __Host-oidc.sid.app (got ${cookies.map((c) => c.name).join(', ')})`);
    assert.equal(session.path, '/');
    assert.equal(session.secure, true);
  });

  test('a victim logged in at /app stays themselves after the toss', async () => {
    toss = { cookies: plantable(await attackerCookies('/app'), '/app'), location: `${origin}/app/` };
    const victim = await victimAfterToss('/app', 'victim');
    assert.equal(victim.profile.status, 200);
    assert.equal(victim.profile.sub, 'victim');
    assert.equal(victim.home.authenticated, true);
  });

  test('logout at /app removes the __Host- session cookie from Chromium (its expiry carries Secure and Path=/, or the browser ignores it)', async () => {
    const context = await isolatedContext(browser);
    try {
      const page = await context.newPage();
      await logIn(page, `${origin}/app/login`, 'victim');
      const names = async (): Promise<string[]> => (await context.cookies()).map((c) => c.name);
      assert.ok((await names()).includes('__Host-oidc.sid.app'));
      const status = await page.evaluate(
        async (url) => (await fetch(url, { method: 'POST', headers: { accept: 'application/json' } })).status,
        `${origin}/app/logout`,
      );
      assert.equal(status, 200);
      assert.ok(!(await names()).includes('__Host-oidc.sid.app'), `the session cookie is gone (cookies: ${(await names()).join(', ')})`);
    } finally {
      await context.close();
    }
  });

  test('control: the app that set session.cookie.path itself (oidc.sid, Path=/legacy) is logged in as the attacker, as its start-up warning said', async () => {
    const warnings = legacyLog.lines.filter((l) => l.level === 'warn' && /not a __Host- cookie/.test(l.message));
    assert.equal(warnings.length, 1, 'oidcAuth() warned at start that the cookie can be planted');
    const cookies = await attackerCookies('/legacy');
    assert.ok(
      cookies.some((c) => c.name === 'oidc.sid' && c.path === '/legacy'),
      'the legacy cookie is the plain oidc.sid at /legacy',
    );
    toss = { cookies: plantable(cookies, '/legacy'), location: `${origin}/legacy/` };
    const victim = await victimAfterToss('/legacy', undefined);
    assert.equal(victim.profile.sub, 'attacker', 'with a plantable cookie, the toss works: this test can see the attack');
  });
});
