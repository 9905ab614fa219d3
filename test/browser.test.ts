import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { silentLogger } from '../example-app/logger.js';
import { startExample, type RunningExample } from '../example-app/start.js';
import { chromiumSkip, launchChromium, releaseChromium, localContext, Steps, type BlockedRequest } from './helpers/chromium.js';
import { REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';

/*
 * The example app in headless Chromium, against its embedded oidc-provider: every page a
 * user sees, clicked through as a user would. Screenshots of each step land in
 * test-artifacts/browser/ (git-ignored); a failing step leaves a -FAILED screenshot.
 * UPDATE_DOCS_SCREENSHOT=1 also rewrites docs/profile.png, the README's picture.
 */

const DOCS_SCREENSHOT = path.resolve(import.meta.dirname, '..', 'docs', 'profile.png');

const SESSION_COOKIE = 'oidc.sid';

function at(page: Page, origin: string, pathname: string | RegExp): Promise<void> {
  return page.waitForURL((url) => url.origin === origin && (typeof pathname === 'string' ? url.pathname === pathname : pathname.test(url.pathname)));
}

const INTERACTION = /^\/interaction\/[^/]+$/;

/** The page body, not its header: both have a "Log in" link and a "Log out" button. */
function main(page: Page) {
  return page.locator('main');
}

async function appCookie(context: BrowserContext, url: string): Promise<string | undefined> {
  return (await context.cookies(url)).find((c) => c.name === SESSION_COOKIE)?.value;
}

/** No page of the app itself asked for anything off this machine (fonts, CDNs). */
function assertAppStayedLocal(blocked: readonly BlockedRequest[], appUrl: string): void {
  const fromApp = blocked.filter((b) => b.from.startsWith(appUrl));
  assert.deepEqual(fromApp, [], 'the example app pages must not load anything from the internet');
}

interface FlowInput {
  page: Page;
  context: BrowserContext;
  steps: Steps;
  running: RunningExample;
  login: string;
  name: string;
  email: string;
  /** how many sessions the store holds, when the test can look (Redis) */
  storedSessions?: () => Promise<number>;
}

/** Home → Log in → provider login → consent → profile → Log out → provider confirm → home → profile asks for login. */
async function loginAndLogout({ page, context, steps, running, login, name, email, storedSessions }: FlowInput): Promise<void> {
  const app = running.url;
  const provider = new URL(running.issuer).origin;

  await steps.step('home page signed out', async () => {
    await page.goto(app);
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    assert.equal(await appCookie(context, app), undefined, 'a visit to the home page makes no session');
  });

  await steps.step('provider login form', async () => {
    await main(page).getByRole('link', { name: 'Log in' }).click();
    await at(page, provider, INTERACTION);
    await page.locator('input[name="login"]').waitFor();
  });

  await steps.step('provider consent', async () => {
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).waitFor();
    assert.match(new URL(page.url()).pathname, INTERACTION);
  });

  await steps.step('profile page', async () => {
    await page.getByRole('button', { name: 'Continue' }).click();
    await at(page, new URL(app).origin, '/profile');
    await main(page).getByRole('heading', { level: 1, name }).waitFor();
    const card = main(page).locator('section.card').first();
    assert.match(await card.innerText(), new RegExp(`Email\\s+${email.replace(/\./g, '\\.')}`));
    const claims = main(page).locator('section.card', { has: page.getByRole('heading', { name: 'Claims' }) });
    assert.match(await claims.innerText(), new RegExp(`sub\\s+${login}`));
    assert.notEqual(await appCookie(context, app), undefined, 'logged in: the session cookie is set');
    if (storedSessions !== undefined) assert.equal(await storedSessions(), 1, 'the session is kept in the store');
  });
  if (process.env['UPDATE_DOCS_SCREENSHOT'] === '1' && storedSessions === undefined) {
    // The header, the user and the claims; the activity card below would date the picture.
    const claims = await main(page).locator('section.card').nth(1).boundingBox();
    assert.ok(claims !== null);
    mkdirSync(path.dirname(DOCS_SCREENSHOT), { recursive: true });
    await page.screenshot({
      path: DOCS_SCREENSHOT,
      fullPage: true,
      clip: { x: 0, y: 0, width: page.viewportSize()?.width ?? 960, height: Math.ceil(claims.y + claims.height + 14) },
    });
  }

  await steps.step('provider logout confirmation', async () => {
    await main(page).getByRole('button', { name: 'Log out' }).click();
    await at(page, provider, /^\/session\/end/);
    await page.getByRole('button', { name: 'Yes, sign me out' }).waitFor();
    // The app ended its session before it sent the browser to the provider.
    assert.equal(await appCookie(context, app), undefined, 'the session cookie is cleared at logout');
    if (storedSessions !== undefined) assert.equal(await storedSessions(), 0, 'the session is gone from the store');
  });

  await steps.step('home page after logout', async () => {
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await at(page, new URL(app).origin, '/');
    await main(page).getByRole('heading', { name: 'You have been signed out' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Log out' }).count(), 0, 'no logout button once signed out');
    assert.equal(await page.getByText(email).count(), 0, 'nothing about the user is left on the page');
  });

  await steps.step('profile sends the browser to login again', async () => {
    await page.goto(`${app}/profile`);
    // The provider's session ended too: it asks for a login, it does not sign the user straight back in.
    await at(page, provider, INTERACTION);
    await page.locator('input[name="login"]').waitFor();
  });
}

/** Logs this context in at the example app through the embedded provider's pages, landing on the profile. */
async function logIn(page: Page, running: RunningExample, login: string): Promise<void> {
  await page.goto(`${running.url}/profile`);
  await at(page, new URL(running.issuer).origin, INTERACTION);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await at(page, new URL(running.url).origin, '/profile');
}

describe('the example app in headless Chromium', () => {
  const skip = chromiumSkip();
  if (skip !== false) {
    // A skipped test rather than a skipped suite, so the run's summary counts it.
    test('every browser test, since Chromium is missing', { skip }, () => undefined);
    return;
  }
  let browser: Browser;

  before(async () => {
    browser = await launchChromium();
  });

  after(async () => {
    await releaseChromium();
  });

  describe('with sessions in memory', () => {
    let running: RunningExample;

    before(async () => {
      running = await startExample({ port: 0, providerPort: 0, logger: silentLogger() });
    });

    after(async () => {
      await running.close();
    });

    test('a user logs in, sees their name and email on the profile page, logs out at the app and the provider, and must log in again', async () => {
      const { context, blocked } = await localContext(browser);
      try {
        const page = await context.newPage();
        const steps = new Steps(page, 'memory');
        await loginAndLogout({ page, context, steps, running, login: 'alice', name: 'Alice', email: 'alice@example.com' });
        assertAppStayedLocal(blocked, running.url);
      } finally {
        await context.close();
      }
    });

    test('cancelling at the provider shows the error page with the package error code and message', async () => {
      const { context, blocked } = await localContext(browser);
      try {
        const page = await context.newPage();
        const steps = new Steps(page, 'error-page');
        await steps.step('provider login form', async () => {
          await page.goto(`${running.url}/login`);
          await at(page, new URL(running.issuer).origin, INTERACTION);
        });
        await steps.step('error page after cancel', async () => {
          await page.getByRole('link', { name: '[ Cancel ]' }).click();
          await at(page, new URL(running.url).origin, '/callback');
          const card = main(page).locator('section.card');
          await card.getByRole('heading', { name: 'Something went wrong' }).waitFor();
          const text = await card.innerText();
          assert.match(text, /403 Forbidden/);
          assert.match(text, /OIDC_AUTHORIZATION_ERROR/);
          assert.match(text, /The identity provider did not log you in: access_denied/);
          await card.getByRole('link', { name: 'Log in again' }).waitFor();
        });
        assertAppStayedLocal(blocked, running.url);
      } finally {
        await context.close();
      }
    });

    test('a login name made of markup is shown as text, never as markup', async () => {
      const { context } = await localContext(browser);
      try {
        const page = await context.newPage();
        const steps = new Steps(page, 'escaping');
        const login = '<img src=x alt=injected>';
        await steps.step('profile of a markup login', async () => {
          await page.goto(`${running.url}/profile`);
          await page.locator('input[name="login"]').fill(login);
          await page.locator('input[name="password"]').fill('any password');
          await page.getByRole('button', { name: 'Sign-in' }).click();
          await page.getByRole('button', { name: 'Continue' }).click();
          await at(page, new URL(running.url).origin, '/profile');
          assert.equal(await main(page).locator('h1').innerText(), login.charAt(0).toUpperCase() + login.slice(1));
          assert.match(await main(page).innerText(), /sub\s+<img src=x alt=injected>/);
          assert.equal(await page.locator('img').count(), 0, 'no element was made from the login name');
        });
      } finally {
        await context.close();
      }
    });
    test('the "your sessions" page lists the sessions of two browsers, and ending the other one logs that browser out', async () => {
      const first = await localContext(browser);
      const second = await localContext(browser);
      try {
        const page = await first.context.newPage();
        const other = await second.context.newPage();
        const steps = new Steps(page, 'sessions');
        await steps.step('signed in from two browsers', async () => {
          await logIn(page, running, 'carol');
          await logIn(other, running, 'carol');
        });
        await steps.step('your sessions lists both', async () => {
          await page.goto(`${running.url}/sessions`);
          await main(page).getByRole('heading', { name: 'Your sessions' }).waitFor();
          const items = main(page).locator('ul.plain li');
          assert.equal(await items.count(), 2);
          // Both are headless Chromium on Linux, told apart by the "this browser" badge.
          assert.equal(await main(page).getByText('Chrome on Linux', { exact: true }).count(), 2);
          assert.equal(await main(page).getByText('this browser', { exact: true }).count(), 1);
        });
        await steps.step('the other session ended', async () => {
          await main(page).getByRole('button', { name: 'End this session' }).click();
          await at(page, new URL(running.url).origin, '/sessions');
          await main(page).getByText('1 session ended').waitFor();
          assert.equal(await main(page).locator('ul.plain li').count(), 1);
        });
        await steps.step('the other browser is signed out, this one is not', async () => {
          await other.goto(running.url);
          await main(other).getByRole('heading', { name: 'You are signed out' }).waitFor();
          await page.goto(`${running.url}/profile`);
          await at(page, new URL(running.url).origin, '/profile');
        });
        assertAppStayedLocal(first.blocked, running.url);
      } finally {
        await first.context.close();
        await second.context.close();
      }
    });
  });

  describe('with sessions in Redis', { skip: REDIS_SUITE_SKIP }, () => {
    let redis: RedisServer;
    let client: RedisClient;
    let running: RunningExample;

    before(async () => {
      ({ redis, client } = await startRedisWithClient());
      running = await startExample({ port: 0, providerPort: 0, redisUrl: redis.url, logger: silentLogger() });
    });

    after(async () => {
      await running.close();
      await client.close();
      await redis.close();
    });

    test('the same login and logout keep the session in Redis and remove it from there', async () => {
      const { context, blocked } = await localContext(browser);
      try {
        const page = await context.newPage();
        const steps = new Steps(page, 'redis');
        const storedSessions = async (): Promise<number> => (await client.keys('example-app:sess:*')).length;
        await loginAndLogout({ page, context, steps, running, login: 'bob', name: 'Bob', email: 'bob@example.com', storedSessions });
        assertAppStayedLocal(blocked, running.url);
      } finally {
        await context.close();
      }
    });
  });
});
