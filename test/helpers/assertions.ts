import assert from 'node:assert/strict';
import { oidcAuth, OidcAuthError, type OidcAuthOptions } from '../../lib/index.js';
import type { ErrorBody } from './app.js';
import type { Browser, Page } from './browser.js';
import { loginCookieNames, setCookiesNamed, type SetCookie } from './cookies.js';

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

/** The 10 minutes the README gives a login to finish, as a cookie Max-Age (seconds). */
const LOGIN_COOKIE_MAX_AGE = String(10 * 60);

export interface LoginCookieExpectation {
  /** the state of the login's authorization request */
  state: string;
  /** baseUrl is https: Secure, and the binding cookie named __Host-oidc.bind.<id> */
  https: boolean;
  callbackPath?: string;
  sameSite?: 'lax' | 'none';
}

/**
 * Asserts the two cookies a /login answer sets for the login of `state`: the sealed
 * transaction `oidc.tx.<id>` on the callback path and the binding cookie on `/`, both
 * HttpOnly, SameSite as expected, Secure exactly on https, Max-Age 10 minutes, no Domain.
 */
export function assertLoginCookies(headers: Headers | Record<string, unknown>, expected: LoginCookieExpectation): { tx: SetCookie; bind: SetCookie } {
  const { state, https, callbackPath = '/callback', sameSite = 'lax' } = expected;
  const names = loginCookieNames(state, https);
  const check = (name: string, path: string): SetCookie => {
    const set = setCookiesNamed(headers, name);
    assert.equal(set.length, 1, `expected one Set-Cookie for ${name}`);
    const [cookie] = set;
    assert.ok(cookie !== undefined);
    assert.notEqual(cookie.value, '', `${name} has a value`);
    assert.equal(cookie.attributes.get('path'), path, `${name} Path`);
    assert.equal(cookie.attributes.get('httponly'), true, `${name} HttpOnly`);
    assert.equal(String(cookie.attributes.get('samesite')).toLowerCase(), sameSite, `${name} SameSite`);
    assert.equal(cookie.attributes.has('secure'), https, `${name} ${https ? 'Secure expected' : 'no Secure expected'}`);
    assert.equal(cookie.attributes.get('max-age'), LOGIN_COOKIE_MAX_AGE, `${name} Max-Age`);
    assert.equal(cookie.attributes.has('domain'), false, `${name} has no Domain`);
    return cookie;
  };
  const tx = check(names.tx, callbackPath);
  const bind = check(names.bind, '/');
  const [created = '', random = ''] = bind.value.split('.');
  assert.ok(Math.abs(parseInt(created, 36) - Date.now()) < 60_000, `the binding cookie starts with its creation time in base 36 (got ${bind.value})`);
  assert.match(random, /^[\w-]{16,}$/, 'then a random part');
  return { tx, bind };
}

/** The problems oidcAuth() reports for these options, or none when it accepts them. */
export function configProblems(options: OidcAuthOptions): readonly string[] {
  try {
    oidcAuth(options);
  } catch (err) {
    if (err instanceof OidcAuthError) return err.problems;
    throw err;
  }
  return [];
}
