import { request as httpRequest } from 'node:http';
import { CookieJar } from 'tough-cookie';

export interface Page {
  status: number;
  url: string;
  location: string | undefined;
  headers: Headers;
  body: string;
}

export interface RequestOptions {
  method?: string;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  sameSiteContext?: 'strict' | 'lax' | 'none';
  /**
   * Send exactly this Cookie header instead of the jar's (a tampered or foreign cookie, or
   * one the jar would already have expired); Set-Cookie answers still go to the jar.
   */
  cookie?: string;
}

const UTF8 = new TextDecoder();

/** An answer read in full: what the tests look at of a response. */
interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * One request over node:http (its global keep-alive agent), read in full. It costs less CPU
 * than fetch (Node 20's fetch is undici with web streams: dozens of promises per request, each
 * under node:test's async hooks), and logins, a dozen requests each, are most of the suite's
 * requests: 10-15 % of the CPU of the shared lanes.
 *
 * Unless `navigation`, the request is the one fetch sends, so the apps see what they saw
 * before: `Sec-Fetch-Mode: cors` always (fetch overrides the caller's), and Accept,
 * Accept-Language, User-Agent and Accept-Encoding as fetch adds them unless the caller set
 * them. A navigation is a browser's top-level GET: Fetch Metadata included (Sec-Fetch-Mode:
 * navigate, Sec-Fetch-Dest: document), as a login with PAR needs. No server of the tests
 * compresses; a compressed answer fails the request rather than being read as text. Response
 * headers keep every line, repeated ones joined as fetch's Headers does, and the body is
 * decoded as fetch's text() does (UTF-8, a BOM dropped).
 */
function send(url: string, method: string, headers: Headers, body: string | undefined, navigation: boolean): Promise<Answer> {
  const sent: Record<string, string> = navigation
    ? { accept: 'text/html,application/xhtml+xml', 'sec-fetch-site': 'none', 'sec-fetch-user': '?1' }
    : { accept: '*/*', 'accept-language': '*', 'user-agent': 'node', 'accept-encoding': 'gzip, deflate' };
  headers.forEach((value, name) => {
    if (name !== 'host') sent[name] = value;
  });
  if (navigation) {
    sent['sec-fetch-mode'] = 'navigate';
    sent['sec-fetch-dest'] = 'document';
  } else {
    sent['sec-fetch-mode'] = 'cors';
    if (body === undefined && method !== 'GET' && method !== 'HEAD') sent['content-length'] = '0';
  }
  if (body !== undefined) sent['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: sent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const encoding = res.headers['content-encoding'];
        if (encoding !== undefined && encoding !== 'identity') {
          reject(new Error(`a ${encoding} answer: the test client reads only plain ones`));
          return;
        }
        const answer = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) answer.append(res.rawHeaders[i] ?? '', res.rawHeaders[i + 1] ?? '');
        resolve({ status: res.statusCode ?? 0, headers: answer, body: UTF8.decode(Buffer.concat(chunks)) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A headless "browser": a cookie jar and requests with redirects handled by hand, so every
 * hop (app, provider, app) is visible to the test. With `navigations`, its GETs are sent as
 * a browser's top-level navigations (Fetch Metadata included), as a login with PAR needs.
 */
export class Browser {
  readonly jar = new CookieJar();
  /** every URL visited, in order */
  readonly visited: string[] = [];
  readonly navigations: boolean;

  constructor(options: { navigations?: boolean } = {}) {
    this.navigations = options.navigations === true;
  }

  /**
   * `sameSiteContext` makes the jar enforce SameSite as a browser would for a request from
   * that kind of context ('none': a cross-site request such as a POST from another site);
   * by default SameSite is not enforced, since every test host is the same site.
   */
  async request(url: string, init: RequestOptions = {}): Promise<Page> {
    this.visited.push(url);
    const headers = new Headers(init.headers);
    const cookie = init.cookie ?? (await this.jar.getCookieString(url, init.sameSiteContext === undefined ? {} : { sameSiteContext: init.sameSiteContext }));
    if (cookie !== '') headers.set('cookie', cookie);
    let body: string | undefined;
    if (init.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const method = init.method ?? (body === undefined ? 'GET' : 'POST');
    const res = await send(url, method, headers, body, this.navigations && method === 'GET').catch((err: unknown) => {
      throw new Error(`${method} ${url} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    for (const setCookie of res.headers.getSetCookie()) await this.jar.setCookie(setCookie, url, { ignoreError: true });
    const location = res.headers.get('location') ?? undefined;
    return {
      status: res.status,
      url,
      location: location === undefined ? undefined : new URL(location, url).href,
      headers: res.headers,
      body: res.body,
    };
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
  async submitForm(page: Page, fields: Record<string, string> = {}, formId?: string, init: Pick<RequestOptions, 'sameSiteContext'> = {}): Promise<Page> {
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
    return this.request(new URL(action.replace(/&amp;/g, '&'), page.url).href, { ...init, form: { ...values, ...fields } });
  }

  async cookie(url: string, name: string): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(url);
    return cookies.find((c) => c.key === name)?.value;
  }
}

function isAppCallback(url: string | undefined): url is string {
  return url !== undefined && new URL(url).pathname.endsWith('/callback');
}

/** The action of a response_mode=form_post page when it posts to the app's callback. */
function formPostAction(page: Page): string | undefined {
  if (page.status !== 200) return undefined;
  const action = /<form\b[^>]*\baction="([^"]*)"/i.exec(page.body)?.[1];
  if (action === undefined) return undefined;
  const url = new URL(action.replace(/&amp;/g, '&'), page.url).href;
  return isAppCallback(url) ? url : undefined;
}

/** True when the page is the provider's answer for the app: a redirect to its callback or a form_post form. */
export function isProviderAnswer(page: Page): boolean {
  return isAppCallback(page.location) || formPostAction(page) !== undefined;
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
 * Drives the provider's login and consent pages, starting at the app's /login (or at an
 * authorization URL), until the provider answers the app. Returns that answer without
 * delivering it: a redirect to the callback (its `location`) or, for
 * response_mode=form_post, the page with the auto-submitting form.
 */
export async function authorize(browser: Browser, startUrl: string, user = 'alice'): Promise<Page> {
  let page = await untilCallback(browser, await browser.get(startUrl));
  for (let step = 0; step < 5; step++) {
    if (isProviderAnswer(page)) return page;
    if (page.body.includes('name="prompt" value="login"')) {
      page = await untilCallback(browser, await browser.submitForm(page, { login: user, password: 'any-password' }));
    } else if (page.body.includes('name="prompt" value="consent"')) {
      page = await untilCallback(browser, await browser.submitForm(page));
    } else if (/<form method="post" action="[^"]*\/session\/end\/confirm"/.test(page.body)) {
      // Another account logged in over a provider session: the provider ends the old one (a self-submitting form), then goes on.
      page = await untilCallback(browser, await browser.submitForm(page));
    } else {
      break;
    }
  }
  throw new Error(`login did not reach the callback; last page ${page.url} (${String(page.status)})`);
}

/** Delivers the provider's answer (from authorize) to the app's callback, as a browser would. */
export async function deliver(browser: Browser, answer: Page): Promise<Page> {
  if (isAppCallback(answer.location)) return browser.request(answer.location);
  if (formPostAction(answer) !== undefined) return browser.submitForm(answer);
  throw new Error(`not an answer for the app: ${answer.url} (${String(answer.status)})`);
}

/**
 * Drives a whole login: app /login → provider login form → consent → app callback.
 * Returns the app's answer to the callback (not followed).
 */
export async function login(browser: Browser, loginUrl: string, user = 'alice'): Promise<Page> {
  return deliver(browser, await authorize(browser, loginUrl, user));
}

/**
 * Starts a login and presses the provider's "[ Cancel ]" link on its login page.
 * Returns the provider's answer (an access_denied redirect to the callback), not delivered.
 */
export async function cancelAtProvider(browser: Browser, loginUrl: string): Promise<Page> {
  const page = await untilCallback(browser, await browser.get(loginUrl));
  const href = /<a href="([^"]*)">\[ Cancel \]<\/a>/.exec(page.body)?.[1];
  if (href === undefined) throw new Error(`no cancel link on ${page.url} (${String(page.status)})`);
  return untilCallback(browser, await browser.get(new URL(href.replace(/&amp;/g, '&'), page.url).href));
}

/** The Location header exactly as the server sent it (Page.location is resolved against the URL). */
export function rawLocation(page: Page): string | undefined {
  return page.headers.get('location') ?? undefined;
}
