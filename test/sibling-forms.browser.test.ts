import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { createExampleApp } from '../example-app/app.js';
import { oidcAuth, requiresAuth } from '../lib/index.js';
import { addTestRoutes, baseOptions, capturingLogger, clientFor, CLIENT_SECRET, SESSION_SECRET } from './helpers/app.js';
import { chromiumSkip, launchChromium, releaseChromium } from './helpers/chromium.js';
import { webClient } from './helpers/client-metadata.js';
import { httpsServer, selfSignedCert, type HttpsServer } from './helpers/https.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';
import { autoSubmittingForm, EVIL_HOST, isolatedContext, logIn, PARENT, whoAmI } from './helpers/sibling-hosts.js';

/*
 * "Sign out everywhere" CSRF from a sibling subdomain, in headless Chromium over https. The
 * victim is logged in twice (two browser contexts) at the README's recipe app and at the
 * example app; a page on evil.example.test auto-submits a form to their routes. The sibling is
 * same-site, so Chromium sends the SameSite=Lax session cookie along: only endSessions()'s
 * own check can refuse the form. Each refused form must get 403 and leave both sessions live;
 * the same form from the app's own page ends them, so the test can see an ended session.
 */

const RECIPE_HOST = `readme.${PARENT}`;
const EXAMPLE_HOST = `shop.${PARENT}`;
const EXAMPLE_CLIENT = 'example-app';

/** The README's "Ending a user's sessions from your code" routes, as written there. */
function readmeRecipe(baseUrl: string, issuer: string): express.Express {
  const app = express();
  app.set('env', 'test');
  const auth = oidcAuth(baseOptions(issuer, baseUrl));
  app.use(auth);
  addTestRoutes(app);
  app.get(
    '/account/sessions',
    requiresAuth(async (req, res) => {
      res.json(await auth.listSessions({ sub: req.oidc.user.sub }, { request: req }));
    }),
  );
  app.post(
    '/account/sessions/end',
    requiresAuth(async (req, res) => {
      const session = typeof req.query['session'] === 'string' ? req.query['session'] : '';
      res.json(await auth.endSessions({ sub: req.oidc.user.sub, session }, { request: req }));
    }),
  );
  app.post(
    '/account/sign-out-everywhere',
    requiresAuth(async (req, res) => {
      res.json(await auth.endSessions({ sub: req.oidc.user.sub }, { request: req }));
    }),
  );
  return app;
}

describe("a sibling subdomain's auto-submitting form cannot end the victim's sessions (headless Chromium)", () => {
  const skip = chromiumSkip();
  if (skip !== false) {
    test('every sibling form browser test, since Chromium is missing', { skip }, () => undefined);
    return;
  }
  let browser: Browser;
  let servers: HttpsServer[];
  let op: TestProvider;
  let recipeUrl: string;
  let exampleUrl: string;
  let evilUrl: string;
  /** what evil.example.test/form answers: the attacker's page */
  let evilPage = '';
  /** the headers of the last POST each app received, as it received them */
  const lastPost = new Map<string, IncomingHttpHeaders>();
  const recording =
    (app: express.Express) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      if (req.method === 'POST') lastPost.set(req.url ?? '', req.headers);
      app(req, res);
    };

  before(async () => {
    const launching = launchChromium();
    try {
      const tls = await selfSignedCert([`*.${PARENT}`, PARENT]);
      servers = await Promise.all([httpsServer(tls), httpsServer(tls), httpsServer(tls)]);
      const [recipe, example, evil] = servers;
      assert.ok(recipe !== undefined && example !== undefined && evil !== undefined);
      recipeUrl = recipe.origin(RECIPE_HOST);
      exampleUrl = example.origin(EXAMPLE_HOST);
      evilUrl = evil.origin(EVIL_HOST);
      op = await startTestProvider({
        clients: [clientFor(recipeUrl), { ...webClient(exampleUrl, EXAMPLE_CLIENT, CLIENT_SECRET), post_logout_redirect_uris: [`${exampleUrl}/`] }],
      });
      recipe.setHandler(recording(readmeRecipe(recipeUrl, op.issuer)));
      const exampleApp = createExampleApp({
        issuer: op.issuer,
        clientId: EXAMPLE_CLIENT,
        clientSecret: CLIENT_SECRET,
        baseUrl: exampleUrl,
        sessionSecret: SESSION_SECRET,
        allowInsecureRequests: true,
        logger: capturingLogger().logger,
      });
      exampleApp.set('env', 'test');
      example.setHandler(recording(exampleApp));
      evil.setHandler((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
        res.end(evilPage);
      });
    } finally {
      browser = await launching;
    }
  });

  after(async () => {
    await releaseChromium();
    await Promise.all([...servers.map((s) => s.close()), op.close()]);
  });

  /** Two browsers (contexts) of the same user, each logged in at the app. */
  async function twoSessions(loginUrl: string, user: string): Promise<[Page, Page]> {
    const pages: Page[] = [];
    for (let i = 0; i < 2; i++) {
      const page = await (await isolatedContext(browser)).newPage();
      await logIn(page, loginUrl, user);
      pages.push(page);
    }
    const [first, second] = pages;
    assert.ok(first !== undefined && second !== undefined);
    return [first, second];
  }

  /** The victim's page opens the attacker's page, which posts `fields` to `action`: the app's answer and the request Chromium sent. */
  async function postFromEvil(
    page: Page,
    action: string,
    fields: Record<string, string> = {},
  ): Promise<{ status: number; headers: IncomingHttpHeaders | undefined; text: string }> {
    evilPage = autoSubmittingForm(action, fields);
    const answered = page.waitForResponse((r) => r.url() === action && r.request().method() === 'POST');
    await page.goto(`${evilUrl}/form`);
    const response = await answered;
    const { pathname, search } = new URL(action);
    const status = response.status();
    // A redirect (the example app's answer when it ended the sessions) has no body to read.
    return {
      status,
      headers: lastPost.get(pathname + search),
      text: status >= 300 && status < 400 ? `redirected to ${response.headers()['location'] ?? '?'}` : await response.text(),
    };
  }

  /**
   * Whether the browser gets the protected page at once, as a logged-in browser does: a
   * logged-out one is redirected to log in (and the provider, whose own session is alive, sends
   * it straight back logged in again, so only the redirect shows it). A navigation, as the
   * example app's CSP allows no fetch.
   */
  async function showsProfile(page: Page, appUrl: string): Promise<{ shown: boolean; body: string }> {
    const response = await page.goto(`${appUrl}/profile`);
    const shown = response?.status() === 200 && response.url() === `${appUrl}/profile` && response.request().redirectedFrom() === null;
    return { shown, body: shown ? await page.innerText('body') : '' };
  }

  /** What the app received with the attacker's form: a same-site POST, from the sibling's origin, with the session cookie. */
  function assertSameSiteWithCookie(headers: IncomingHttpHeaders | undefined, cookieName: string): void {
    assert.ok(headers !== undefined, 'the app received the form');
    assert.equal(headers['sec-fetch-site'], 'same-site', 'the sibling is same-site');
    assert.equal(headers['origin'], evilUrl);
    assert.match(headers['cookie'] ?? '', new RegExp(`(^|; )${cookieName}=`), 'the SameSite=Lax session cookie went along: only endSessions() could refuse');
  }

  test("the README recipe: sign-out-everywhere and sessions/end from the sibling get 403, both sessions stay live; from the app's own page they end", async () => {
    const [first, second] = await twoSessions(`${recipeUrl}/login`, 'victim');
    const listed = await first.evaluate(
      async (url) => (await fetch(url, { headers: { accept: 'application/json' } })).json() as Promise<{ session: string; current: boolean }[]>,
      `${recipeUrl}/account/sessions`,
    );
    const other = listed.find((s) => !s.current);
    assert.ok(other !== undefined && listed.length === 2, 'the victim has two sessions');

    const everywhere = await postFromEvil(first, `${recipeUrl}/account/sign-out-everywhere`);
    assert.equal(everywhere.status, 403, everywhere.text);
    assertSameSiteWithCookie(everywhere.headers, '__Host-oidc.sid');
    const one = await postFromEvil(first, `${recipeUrl}/account/sessions/end?session=${encodeURIComponent(other.session)}`);
    assert.equal(one.status, 403, one.text);
    for (const page of [first, second]) {
      const { shown, body } = await showsProfile(page, recipeUrl);
      assert.ok(shown, 'still logged in');
      assert.equal((JSON.parse(body) as { sub?: unknown }).sub, 'victim');
    }

    // The control: the same POST from the app's own page ends both.
    await first.goto(`${recipeUrl}/`);
    const ended = await first.evaluate(
      async (url) => (await fetch(url, { method: 'POST' })).json() as Promise<unknown>,
      `${recipeUrl}/account/sign-out-everywhere`,
    );
    assert.deepEqual(ended, { ended: 2 });
    assert.equal((await whoAmI(second, `${recipeUrl}/profile`)).status, 401);
    assert.equal((await showsProfile(second, recipeUrl)).shown, false);
  });

  test("the example app: its sessions page's forms posted from the sibling get 403, both sessions stay live; its own button ends them", async () => {
    const [first, second] = await twoSessions(`${exampleUrl}/login`, 'victim');
    await first.goto(`${exampleUrl}/sessions`);
    const handle = await first.locator('input[name="session"]').getAttribute('value');
    assert.ok(handle !== null, 'the sessions page offers to end the other session');

    const all = await postFromEvil(first, `${exampleUrl}/sessions/end-all`);
    assert.equal(all.status, 403, all.text);
    assert.match(all.text, /OIDC_CROSS_SITE_REQUEST|another site/);
    assertSameSiteWithCookie(all.headers, '__Host-oidc.sid');
    const one = await postFromEvil(first, `${exampleUrl}/sessions/end`, { session: handle });
    assert.equal(one.status, 403, one.text);

    // What the victim's browser shows: both sessions still listed, the other one still logged in.
    await first.goto(`${exampleUrl}/sessions`);
    assert.equal(await first.locator('input[name="session"]').count(), 1, 'the other session is still listed');
    assert.ok((await showsProfile(second, exampleUrl)).shown, 'the other browser is still logged in');

    await first.getByRole('button', { name: 'Sign out everywhere' }).click();
    await first.waitForURL((url) => url.origin === new URL(exampleUrl).origin && url.pathname === '/');
    assert.equal((await showsProfile(second, exampleUrl)).shown, false, "the app's own button ends the other session");
    assert.equal((await showsProfile(first, exampleUrl)).shown, false);
  });
});
