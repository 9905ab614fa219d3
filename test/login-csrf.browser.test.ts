import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Cookie, Response } from 'playwright-core';
import { baseOptions, buildApp, clientFor } from './helpers/app.js';
import { chromiumSkip, launchChromium, releaseChromium } from './helpers/chromium.js';
import { httpsServer, selfSignedCert, type HttpsServer } from './helpers/https.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';
import { EVIL_HOST, isolatedContext, PARENT, parentDomainCookie, whoAmI } from './helpers/sibling-hosts.js';

/*
 * Login CSRF by cookie tossing, in headless Chromium. The app is served over HTTPS as
 * app.example.test; a page on a sibling subdomain (evil.example.test) sets the attacker's own
 * pre-login cookies with Domain=example.test and sends the victim through the attacker's
 * unused callback URL. Black-box: whatever cookies the app sets during a login are tossed,
 * so the test holds for any cookie scheme. Only cookies named `__Host-` cannot be planted
 * from a sibling: binding the login to one of those is what defeats the attack.
 */

const APP_HOST = `app.${PARENT}`;
/** tossed next to the app's cookies: a plain one must arrive, a __Host- one must be refused */
const PROBE = 'toss-probe';
const HOST_PROBE = `__Host-${PROBE}`;

function isCallback(url: URL | string): boolean {
  const u = new URL(url);
  return u.hostname === APP_HOST && u.pathname === '/callback';
}

function cookieNames(header: string | undefined): string[] {
  return (header ?? '')
    .split(';')
    .map((pair) => pair.trim().split('=')[0] ?? '')
    .filter((name) => name !== '')
    .sort();
}

function setCookie(cookie: Pick<Cookie, 'name' | 'value' | 'path' | 'sameSite'>): string {
  return parentDomainCookie(cookie.name, cookie.value, cookie.path, cookie.sameSite === 'None' ? 'None' : 'Lax');
}

interface AttackerLogin {
  /** the provider's answer for the attacker's login, never delivered */
  callbackUrl: string;
  /** every cookie the app set before the callback */
  cookies: Cookie[];
}

interface VictimVisit {
  /** the app's answers to the callback, in order */
  callbacks: Response[];
  /** names of the cookies Chromium sent with each callback request */
  sent: string[][];
  /** what the app says about the victim afterwards */
  home: { authenticated?: unknown };
  profile: { status: number; sub?: unknown };
  /** every cookie the victim ends up with */
  cookies: Cookie[];
}

describe('login CSRF by cookie tossing from a sibling subdomain (HTTPS, headless Chromium)', () => {
  const skip = chromiumSkip();
  if (skip !== false) {
    test('every login CSRF browser test, since Chromium is missing', { skip }, () => undefined);
    return;
  }
  let browser: Browser;
  let appServer: HttpsServer;
  let evilServer: HttpsServer;
  let op: TestProvider;
  let appUrl: string;
  /** what evil.example.test/toss answers: Set-Cookie lines, then a redirect */
  let toss: { cookies: string[]; location: string } = { cookies: [], location: '/' };

  before(async () => {
    // Chromium starts while the certificate, servers and provider are made; assigned even if those fail, so after() closes it.
    const launching = launchChromium();
    try {
      const tls = await selfSignedCert([`*.${PARENT}`, PARENT]);
      [appServer, evilServer] = await Promise.all([httpsServer(tls), httpsServer(tls)]);
      appUrl = appServer.origin(APP_HOST);
      op = await startTestProvider({ clients: [clientFor(appUrl)] });
      // jsonErrors: a refused callback answers its status as JSON, without Express's stack trace on stderr.
      appServer.setHandler(buildApp({ ...baseOptions(op.issuer, appUrl), allowInsecureRequests: true }, { jsonErrors: true }));
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

  /**
   * The attacker logs in at the provider, keeps the callback URL unused and the app's pre-login
   * cookies. page.route never sees a redirect hop, and the provider reaches the callback by
   * redirects only (consent POST → /auth/:uid → /callback), so the consent POST is routed and
   * its redirects are walked from the test (127.0.0.1, the context's cookies) until the next
   * hop would be the app's callback; that request is then aborted unsent.
   */
  async function attackerLogin(): Promise<AttackerLogin> {
    const context = await isolatedContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${appUrl}/login?returnTo=/profile`);
      await page.locator('input[name="login"]').fill('attacker');
      await page.locator('input[name="password"]').fill('any password');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      const consent = page.getByRole('button', { name: 'Continue' });
      await consent.waitFor();
      const callbackUrl = new Promise<string>((resolve, reject) => {
        void page.route(
          (url) => url.origin === new URL(op.issuer).origin,
          async (route) => {
            let res = await route.fetch({ maxRedirects: 0 });
            for (let hop = 0; hop < 5; hop++) {
              const location = res.headers()['location'];
              if (location === undefined) break;
              const next = new URL(location, res.url());
              if (isCallback(next)) {
                resolve(next.href);
                await route.abort('aborted');
                return;
              }
              res = await context.request.get(next.href, { maxRedirects: 0 });
            }
            reject(new Error(`the provider did not answer with the callback: ${res.url()} (${res.status()})`));
            await route.abort('failed');
          },
        );
      });
      await consent.click({ noWaitAfter: true });
      const url = await callbackUrl;
      const cookies = (await context.cookies()).filter((c) => c.domain.replace(/^\./, '') === APP_HOST);
      return { callbackUrl: url, cookies };
    } finally {
      await context.close();
    }
  }

  /** A fresh victim opens `start` (evil's /toss, or the callback itself), then asks the app who they are. */
  async function victimVisits(start: string): Promise<VictimVisit> {
    const context = await isolatedContext(browser);
    try {
      const page = await context.newPage();
      const callbacks: Response[] = [];
      page.on('response', (response) => {
        if (isCallback(response.url())) callbacks.push(response);
      });
      await page.goto(start);
      const sent = await Promise.all(callbacks.map(async (r) => cookieNames((await r.request().allHeaders())['cookie'])));
      await page.goto(`${appUrl}/`);
      const home = JSON.parse(await page.innerText('body')) as VictimVisit['home'];
      const profile = await whoAmI(page, `${appUrl}/profile`);
      const cookies = await context.cookies();
      return { callbacks, sent, home, profile, cookies };
    } finally {
      await context.close();
    }
  }

  test('cookies planted by a sibling subdomain do not log the victim in as the attacker', async (t) => {
    const attacker = await attackerLogin();
    assert.ok(attacker.cookies.length > 0, 'the app set at least one cookie when the login started');
    // Every captured cookie is tossed with its name and value, its path narrowed to the
    // callback's: a planted Path=/ cookie would also shadow the session cookie the callback
    // then sets (Chromium sends the older of two equal-path cookies first), so the victim would
    // look logged out for a reason that is no defence. __Host- cookies keep Path=/, so only their
    // Domain breaks the prefix's rules; every other name is also tossed under that prefix.
    const callbackPath = new URL(attacker.callbackUrl).pathname;
    const narrow = (p: string): string => (callbackPath.startsWith(p) ? callbackPath : p);
    const planted = [...attacker.cookies, { name: PROBE, value: '1', path: '/', sameSite: 'Lax' as const }].map((c) =>
      c.name.startsWith('__Host-') ? c : { ...c, path: narrow(c.path) },
    );
    const hostNamed = planted.filter((c) => !c.name.startsWith('__Host-')).map((c) => ({ ...c, name: `__Host-${c.name}`, path: '/' }));
    toss = { cookies: [...planted, ...hostNamed].map(setCookie), location: attacker.callbackUrl };

    const victim = await victimVisits(`${evilServer.origin(EVIL_HOST)}/toss`);
    const sent = victim.sent[0] ?? [];
    t.diagnostic(`app set before the callback: ${attacker.cookies.map((c) => `${c.name} (path ${c.path})`).join(', ')}`);
    t.diagnostic(`Chromium sent to the callback: ${sent.join(', ') || '(no cookie)'}`);

    // The setup really tossed: the browser took the plain names and refused every __Host- one.
    const accepted = victim.cookies.filter((c) => c.domain.replace(/^\./, '') === PARENT).map((c) => c.name);
    assert.ok(accepted.includes(PROBE), `a plain Domain=${PARENT} cookie from ${EVIL_HOST} was accepted`);
    assert.deepEqual(
      accepted.filter((name) => name.startsWith('__Host-')),
      [],
      'no __Host- cookie can be set with a Domain',
    );
    assert.equal(victim.callbacks.length, 1, 'the victim reached the callback once');
    const reachable = planted.filter((c) => !c.name.startsWith('__Host-')).map((c) => c.name);
    for (const name of reachable) assert.ok(sent.includes(name), `the planted cookie ${name} was sent with the callback`);
    assert.ok(!sent.includes(HOST_PROBE), 'the planted __Host- probe was not sent');

    assert.notEqual(victim.profile.sub, 'attacker', `the victim is logged in as the attacker (GET /profile answered ${victim.profile.status})`);
    assert.equal(victim.home.authenticated, false, 'the victim is not logged in at all');
    assert.equal(victim.profile.status, 401, 'the profile asks the victim to log in');
    const callback = victim.callbacks[0];
    assert.ok(callback !== undefined);
    assert.equal(callback.status(), 400, `the callback refused the tossed login (answered ${callback.status()} ${callback.headers()['location'] ?? ''})`);
  });

  test("control: the attacker's callback URL alone, with no planted cookie, is refused", async () => {
    const attacker = await attackerLogin();
    const victim = await victimVisits(attacker.callbackUrl);
    assert.deepEqual(victim.sent, [[]], 'the victim sent no cookie with the callback');
    assert.equal(victim.callbacks[0]?.status(), 400, 'the callback answered 400');
    assert.equal(victim.home.authenticated, false);
    assert.equal(victim.profile.status, 401);
    assert.notEqual(victim.profile.sub, 'attacker');
  });
});
