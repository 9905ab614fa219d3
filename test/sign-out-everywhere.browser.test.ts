import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { silentLogger } from '../example-app/logger.js';
import { startExample, type RunningExample } from '../example-app/start.js';
import { chromiumSkip, launchChromium, releaseChromium, localContext, Steps } from './helpers/chromium.js';

/*
 * The issue this answers: "Sign out everywhere" ended every app session, yet another
 * browser opened /profile a second later, went to the provider and came straight back signed
 * in: the provider's own session in that browser had survived. Now that browser's next visit
 * must ask for the password. Two Chromium contexts (two browsers, each with its cookies).
 */

/** A User-Agent of another browser on another system, so the Sessions page has two browsers to tell apart. */
const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0';

const INTERACTION = /^\/interaction\/[^/]+$/;

function at(page: Page, origin: string, pathname: string | RegExp): Promise<void> {
  return page.waitForURL((url) => url.origin === origin && (typeof pathname === 'string' ? url.pathname === pathname : pathname.test(url.pathname)));
}

async function logIn(page: Page, running: RunningExample, login: string): Promise<void> {
  await page.goto(`${running.url}/profile`);
  await at(page, new URL(running.issuer).origin, INTERACTION);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await at(page, new URL(running.url).origin, '/profile');
}

describe('"Sign out everywhere" in the example app, in headless Chromium', () => {
  const skip = chromiumSkip();
  if (skip !== false) {
    test('the sign-out-everywhere flow, since Chromium is missing', { skip }, () => undefined);
    return;
  }
  let browser: Browser;
  let running: RunningExample;

  before(async () => {
    browser = await launchChromium();
    running = await startExample({ port: 0, providerPort: 0, logger: silentLogger() });
  });

  after(async () => {
    await running.close();
    await releaseChromium();
  });

  test('the Sessions page tells the two browsers apart; signing out everywhere makes the other browser give its password again', async () => {
    const first = await localContext(browser);
    const second = await localContext(browser, FIREFOX_ON_WINDOWS);
    const app = new URL(running.url).origin;
    const provider = new URL(running.issuer).origin;
    try {
      const page = await first.context.newPage();
      const other = await second.context.newPage();
      const steps = new Steps(page, 'sign-out-everywhere');
      await steps.step('signed in from two browsers', async () => {
        await logIn(page, running, 'dana');
        await logIn(other, running, 'dana');
      });
      await steps.step('the sessions page names each browser and its last activity', async () => {
        await page.goto(`${running.url}/sessions`);
        const items = page.locator('main ul.plain li');
        assert.equal(await items.count(), 2);
        const text = await page.locator('main').innerText();
        assert.match(text, /Chrome on Linux\s+this browser/);
        assert.match(text, /Firefox on Windows/);
        assert.match(text, /last active \d{4}-\d\d-\d\d/);
      });
      await steps.step('sign out everywhere: the page says what ended, and what the provider was (not) asked', async () => {
        await page.getByRole('button', { name: 'Sign out everywhere' }).click();
        await at(page, app, '/');
        await page.getByRole('heading', { name: 'You have been signed out' }).waitFor();
        assert.match(await page.locator('main').innerText(), /ended in every browser[\s\S]*was not asked to end its own sessions/);
      });
      await steps.step("the other browser's next visit asks for the password", async () => {
        await other.goto(`${running.url}/profile`);
        await at(other, provider, INTERACTION);
        await other.locator('input[name="password"]').waitFor();
        assert.equal(new URL(other.url()).origin, provider, 'not silently back at the app');
      });
      await steps.step('after giving it, that browser is signed in again, and this one is asked too', async () => {
        await other.locator('input[name="login"]').fill('dana');
        await other.locator('input[name="password"]').fill('any password');
        await other.getByRole('button', { name: 'Sign-in' }).click();
        await at(other, app, '/profile');
        await page.goto(`${running.url}/profile`);
        await at(page, provider, INTERACTION);
        await page.locator('input[name="password"]').waitFor();
      });
    } finally {
      await first.context.close();
      await second.context.close();
    }
  });
});
