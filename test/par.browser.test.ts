import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser as Chromium, Page } from 'playwright-core';
import { setup, type TestSetup } from './helpers/app.js';
import { chromiumSkip, launchChromium, releaseChromium, localContext } from './helpers/chromium.js';
import { recordProviderRequests, type ProviderRequest } from './helpers/provider-requests.js';

/*
 * With PAR on, only a browser's top-level navigation pushes (README "Pushed authorization
 * requests"). The test clients of par.test.ts play the browser with headers; here Chromium
 * itself follows requiresAuth()'s redirect and an app route calling res.oidc.login(), sending
 * the Fetch Metadata it always sends, and each login pushes once and completes.
 */

const pushes = (seen: readonly ProviderRequest[]): number => seen.filter(({ method, url }) => method === 'POST' && url.pathname === '/request').length;

async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

describe('PAR in headless Chromium: requiresAuth() and res.oidc.login() still log in', () => {
  const skip = chromiumSkip();
  if (skip !== false) {
    test('every PAR browser test, since Chromium is missing', { skip }, () => undefined);
    return;
  }
  let s: TestSetup;
  let chromium: Chromium;
  before(async () => {
    chromium = await launchChromium();
    s = await setup({
      provider: { features: { pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true } } },
      routes: (app) => {
        // The app's own sign-in page, starting the login itself.
        app.get('/sign-in', (_req, res, next) => {
          res.oidc.login({ returnTo: '/profile' }).catch(next);
        });
      },
    });
  });
  after(async () => {
    await releaseChromium();
    await s.close();
  });

  for (const [name, start, user] of [
    ['a protected page: requiresAuth() redirects to /login', '/profile', 'alice'],
    ["the app's sign-in route: res.oidc.login()", '/sign-in', 'bob'],
  ] as const) {
    test(`${name}; the login pushes once and lands on the profile`, async () => {
      const { context } = await localContext(chromium);
      try {
        const page = await context.newPage();
        const seen = recordProviderRequests(s.op);
        await page.goto(`${s.appUrl}${start}`);
        await signInAtProvider(page, user);
        await page.waitForURL(`${s.appUrl}/profile`);
        assert.equal((JSON.parse((await page.locator('body').textContent()) ?? '{}') as { sub?: string }).sub, user);
        assert.equal(pushes(seen), 1);
      } finally {
        await context.close();
      }
    });
  }

  test("a page's fetch of /login does not push", async () => {
    const { context } = await localContext(chromium);
    try {
      const page = await context.newPage();
      await page.goto(`${s.appUrl}/`);
      const seen = recordProviderRequests(s.op);
      const status = await page.evaluate(async (url) => (await fetch(url)).status, `${s.appUrl}/login`);
      assert.equal(status, 401);
      assert.equal(pushes(seen), 0);
    } finally {
      await context.close();
    }
  });
});
