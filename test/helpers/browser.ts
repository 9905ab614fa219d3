import { CookieJar } from 'tough-cookie';

export interface Page {
  status: number;
  url: string;
  location: string | undefined;
  headers: Headers;
  body: string;
}

/**
 * A headless "browser": a cookie jar and fetch with redirects handled by hand, so every
 * hop (app, provider, app) is visible to the test.
 */
export class Browser {
  readonly jar = new CookieJar();
  /** every URL visited, in order */
  readonly visited: string[] = [];

  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Page> {
    this.visited.push(url);
    const headers = new Headers(init.headers);
    const cookie = await this.jar.getCookieString(url);
    if (cookie !== '') headers.set('cookie', cookie);
    let body: string | undefined;
    if (init.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body: body ?? null, redirect: 'manual' });
    for (const setCookie of res.headers.getSetCookie()) await this.jar.setCookie(setCookie, url, { ignoreError: true });
    const location = res.headers.get('location') ?? undefined;
    return { status: res.status, url, location: location === undefined ? undefined : new URL(location, url).href, headers: res.headers, body: await res.text() };
  }

  /** Follows redirects (GET) until a page that is not a redirect, up to a bound. */
  async follow(page: Page, limit = 15): Promise<Page> {
    let current = page;
    for (let i = 0; i < limit && current.status >= 300 && current.status < 400 && current.location !== undefined; i++) {
      current = await this.request(current.location);
    }
    return current;
  }

  async get(url: string, headers?: Record<string, string>): Promise<Page> {
    return this.request(url, headers === undefined ? {} : { headers });
  }

  /** Submits the page's form (the first, or the one whose id is given) with its hidden fields plus `fields`. */
  async submitForm(page: Page, fields: Record<string, string> = {}, formId?: string): Promise<Page> {
    const forms = [...page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
    const form = formId === undefined ? forms[0] : forms.find((f) => (f[1] ?? '').includes(`id="${formId}"`));
    if (form === undefined) throw new Error(`no form on ${page.url}`);
    const action = /action="([^"]*)"/.exec(form[1] ?? '')?.[1] ?? page.url;
    const values: Record<string, string> = {};
    for (const input of (form[2] ?? '').matchAll(/<input\b[^>]*>/gi)) {
      const tag = input[0];
      const name = /name="([^"]*)"/.exec(tag)?.[1];
      const value = /value="([^"]*)"/.exec(tag)?.[1];
      if (name !== undefined && value !== undefined) values[name] = value;
    }
    return this.request(new URL(action.replace(/&amp;/g, '&'), page.url).href, { form: { ...values, ...fields } });
  }

  async cookie(url: string, name: string): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(url);
    return cookies.find((c) => c.key === name)?.value;
  }
}

function isAppCallback(url: string | undefined): url is string {
  return url !== undefined && new URL(url).pathname.endsWith('/callback');
}

/** Follows redirects until the next hop would be the app's callback, or a page is reached. */
async function untilCallback(browser: Browser, first: Page): Promise<Page> {
  let page = first;
  for (let i = 0; i < 15 && page.status >= 300 && page.status < 400 && page.location !== undefined && !isAppCallback(page.location); i++) {
    page = await browser.request(page.location);
  }
  return page;
}

/**
 * Drives a whole login: app /login → provider login form → consent → app callback.
 * Returns the app's answer to the callback (not followed).
 */
export async function login(browser: Browser, loginUrl: string, user = 'alice'): Promise<Page> {
  let page = await untilCallback(browser, await browser.get(loginUrl));
  for (let step = 0; step < 4; step++) {
    if (isAppCallback(page.location)) return browser.request(page.location);
    if (page.body.includes('name="prompt" value="login"')) {
      page = await untilCallback(browser, await browser.submitForm(page, { login: user, password: 'any-password' }));
    } else if (page.body.includes('name="prompt" value="consent"')) {
      page = await untilCallback(browser, await browser.submitForm(page));
    } else {
      break;
    }
  }
  throw new Error(`login did not finish; last page ${page.url} (${String(page.status)})`);
}
