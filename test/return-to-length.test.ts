import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setup, type TestSetup } from './helpers/app.js';
import { authorize, Browser, deliver, rawLocation } from './helpers/browser.js';

/** README, "What is validated where": returnTo is "at most 2048 characters". */
const MAX_CHARACTERS = 2048;
/** RFC 6265 §6.1: browsers keep at least 4096 bytes per cookie (name, value and attributes); more is dropped. */
const COOKIE_LIMIT_BYTES = 4096;

/** 2,047 `"` after the "/": 2048 characters as given, three times that once percent-encoded (`%22`). */
const QUOTES = `/${'"'.repeat(MAX_CHARACTERS - 1)}`;

describe("returnTo is bounded once normalised, as the login cookie carries it (the rule's edges: open-redirect.test.ts)", () => {
  describe('at /login, against the provider', () => {
    let s: TestSetup;
    before(async () => {
      s = await setup();
    });
    after(async () => {
      await s.close();
    });

    /** Starts a login with this returnTo; the login cookie's whole Set-Cookie line, and where the finished login lands. */
    async function loginWith(returnTo: string): Promise<{ cookieBytes: number; landing: string | undefined }> {
      const browser = new Browser();
      const start = await browser.get(`${s.appUrl}/login?returnTo=${encodeURIComponent(returnTo)}`);
      assert.equal(start.status, 302);
      const tx = start.headers.getSetCookie().filter((line) => line.startsWith('oidc.tx.'));
      assert.equal(tx.length, 1, 'one login cookie');
      const cookieBytes = Buffer.byteLength(tx[0] ?? '');
      const callback = await deliver(browser, await authorize(browser, start.location ?? ''));
      assert.equal(callback.status, 302, callback.body);
      return { cookieBytes, landing: rawLocation(callback) };
    }

    test('2,047 `"`: the login cookie stays under the browser\'s 4096 bytes, and the login lands at "/" (the documented fallback)', async () => {
      const { cookieBytes, landing } = await loginWith(QUOTES);
      assert.ok(cookieBytes < COOKIE_LIMIT_BYTES, `${String(cookieBytes)} bytes`);
      assert.equal(landing, '/');
    });

    test('the longest returnTo kept: its login cookie still fits, and the login lands there', async () => {
      const longest = `/${'a'.repeat(MAX_CHARACTERS - 4)}"`;
      const { cookieBytes, landing } = await loginWith(longest);
      assert.ok(cookieBytes < COOKIE_LIMIT_BYTES, `${String(cookieBytes)} bytes`);
      assert.equal(landing, `/${'a'.repeat(MAX_CHARACTERS - 4)}%22`);
    });
  });
});
