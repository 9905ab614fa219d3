import type { Store } from 'express-session';
import { Browser, login, type Page } from './browser.js';
import type { TestSetup } from './app.js';

/** Options that make oidc-provider issue a refresh token (offline_access with a consent prompt). */
export const WITH_REFRESH_TOKEN = {
  scope: 'openid profile email offline_access',
  authorizationParams: { prompt: 'consent' },
} as const;

/** The session id inside an express-session cookie value ("s:<id>.<signature>", URL-encoded). */
export function sessionIdFromCookie(value: string | undefined): string {
  if (value === undefined) throw new Error('no session cookie');
  const decoded = decodeURIComponent(value);
  const match = /^s:([^.]+)\./.exec(decoded);
  if (match?.[1] === undefined) throw new Error('not a signed express-session cookie');
  return match[1];
}

export function storeHas(store: Store, id: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    store.get(id, (err: unknown, session) => {
      if (err !== undefined && err !== null) reject(err instanceof Error ? err : new Error('store.get failed'));
      else resolve(session !== null && session !== undefined);
    });
  });
}

export interface LoggedIn {
  browser: Browser;
  sessionId: string;
  tokens: { accessToken: string; refreshToken: string | undefined; idToken: string };
}

/** Logs in through the provider and reads back the tokens the app stored (through a test-only route). */
export async function loggedIn(s: TestSetup, user = 'alice'): Promise<LoggedIn> {
  const browser = new Browser();
  const callback = await login(browser, `${s.appUrl}/login`, user);
  if (callback.status !== 302) throw new Error(`login failed: ${String(callback.status)} ${callback.body}`);
  const tokens = (await browser.get(`${s.appUrl}/test/tokens`)).body;
  return { browser, sessionId: sessionIdFromCookie(await browser.cookie(s.appUrl, 'oidc.sid')), tokens: JSON.parse(tokens) as LoggedIn['tokens'] };
}

/** Follows the app's logout redirect through the provider's confirmation page back to the app. */
export async function confirmAtProvider(browser: Browser, logoutAnswer: Page): Promise<Page> {
  let page = await browser.follow(logoutAnswer);
  if (page.body.includes('op.logoutForm')) {
    // The provider's "Yes, sign me out" button sits outside the form; a headless client adds its value itself.
    page = await browser.follow(await browser.submitForm(page, { logout: 'yes' }, 'op.logoutForm'));
  }
  return page;
}
