import assert from 'node:assert/strict';
import type { ErrorBody } from './app.js';
import type { Browser, Page } from './browser.js';

export const ACCEPT_JSON = { accept: 'application/json' } as const;

/** The page's JSON body; fails the test with the body's start when it is not JSON. */
export function jsonOf(page: Page): unknown {
  try {
    return JSON.parse(page.body) as unknown;
  } catch {
    assert.fail(`expected JSON from ${page.url} (${String(page.status)}), got ${page.body.slice(0, 200)}`);
  }
}

/** Asserts an error answer of jsonErrorHandler: this status and this OidcAuthError code. */
export function assertOidcError(page: Page, status: number, code: string): ErrorBody {
  const body = jsonOf(page) as ErrorBody;
  assert.equal(page.status, status, `status of ${page.url}: ${page.body.slice(0, 300)}`);
  assert.equal(body.code, code);
  assert.equal(typeof body.message, 'string');
  return body;
}

/** Asserts that this browser has no logged-in session at the app. */
export async function assertLoggedOut(browser: Browser, appUrl: string): Promise<void> {
  const profile = await browser.get(`${appUrl}/profile`, ACCEPT_JSON);
  assert.equal(profile.status, 401, `expected no logged-in session, /profile answered ${String(profile.status)}`);
}

/** Asserts that this browser is logged in at the app as `sub`. */
export async function assertLoggedInAs(browser: Browser, appUrl: string, sub: string): Promise<void> {
  const profile = await browser.get(`${appUrl}/profile`, ACCEPT_JSON);
  assert.equal(profile.status, 200, `expected a logged-in session, /profile answered ${String(profile.status)}`);
  assert.equal((jsonOf(profile) as { sub?: unknown }).sub, sub);
}

/** Asserts a Location header that stays on the app: origin-relative, and resolving to the app's origin. */
export function assertSameOriginRelative(location: string | undefined, appUrl: string): void {
  assert.ok(location !== undefined, 'expected a Location header');
  assert.match(location, /^\/(?![/\\])/, `Location ${JSON.stringify(location)} is not an origin-relative path`);
  assert.equal(new URL(location, appUrl).origin, new URL(appUrl).origin);
}
