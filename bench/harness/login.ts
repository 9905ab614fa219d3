import { Browser, login, type Page, type RequestOptions } from '../../test/helpers/browser.js';
import { BROWSER_HEADER } from './ipc.js';

/** The test suite's headless browser, marking each of its requests so the provider can tell them from the apps' own calls. */
class BenchBrowser extends Browser {
  override request(url: string, init: RequestOptions = {}): Promise<Page> {
    return super.request(url, { ...init, headers: { ...init.headers, [BROWSER_HEADER]: '1' } });
  }
}

export interface LoggedIn {
  /** the app's session cookies as a Cookie header (name=value; …), nothing of the provider's */
  cookie: string;
  /** the Set-Cookie header lines for those cookies, as the callback sent them */
  setCookie: string[];
}

/**
 * A real login through the provider's login and consent pages, in a fresh browser (so every
 * login is a new provider session and a new app session). `cookieNames` says which cookies
 * are the app's session: a name, or a prefix ending in `*` (chunked cookies).
 */
export async function realLogin(appUrl: string, user: string, cookieNames: readonly string[]): Promise<LoggedIn> {
  const browser = new BenchBrowser();
  const answer = await login(browser, `${appUrl}/login`, user);
  if (answer.status !== 302) throw new Error(`login at ${appUrl} answered ${String(answer.status)}: ${answer.body.slice(0, 300)}`);
  const matches = (name: string): boolean => cookieNames.some((n) => (n.endsWith('*') ? name.startsWith(n.slice(0, -1)) : name === n));
  const cookies = (await browser.jar.getCookies(appUrl)).filter((c) => matches(c.key));
  if (cookies.length === 0) throw new Error(`login at ${appUrl} set no session cookie (${cookieNames.join(', ')})`);
  const setCookie = answer.headers.getSetCookie().filter((line) => matches(line.slice(0, line.indexOf('='))));
  return { cookie: cookies.map((c) => `${c.key}=${c.value}`).join('; '), setCookie };
}

/** The session id inside an express-session cookie value (`s:<id>.<signature>`, URL-encoded). */
export function sessionIdOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1).split(';')[0] ?? '');
  const match = /^s:(.+)\.[^.]+$/.exec(value);
  if (match?.[1] === undefined) throw new Error('not a signed express-session cookie');
  return match[1];
}
