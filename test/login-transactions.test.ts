import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import express from 'express';
import express4 from 'express4';
import { MemoryStore } from 'express-session';
import { baseOptions, buildApp, clientFor, FLAVOURS, quietLogger, SESSION_SECRET, setup, type TestSetup } from './helpers/app.js';
import { sessionCount } from './helpers/hammer.js';
import { ACCEPT_JSON, assertLoggedInAs, assertLoggedOut, assertLoginCookies, assertOidcError } from './helpers/assertions.js';
import { authorize, Browser, deliver, rawLocation, type Page } from './helpers/browser.js';
import { allSetCookies, BIND_PREFIX, loginCookieNames, SESSION_COOKIE, setCookiesNamed, stateOf, TX_PREFIX } from './helpers/cookies.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';

/*
 * Login transactions live in two cookies per login in flight (README, "Login"): nothing is
 * stored before a login succeeds, at most 5 logins are in flight per browser (a 6th drops
 * the oldest), each for 10 minutes, and a request that is not a navigation gets
 * 401 login_required and no cookie. The numbers below come from the README, not from lib.
 */

/** README: at most this many logins in flight per browser. */
const LOGINS_IN_FLIGHT = 5;

function clearStore(store: MemoryStore): Promise<void> {
  return new Promise((resolve) => {
    store.clear(() => {
      resolve();
    });
  });
}

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One GET with exactly these headers (fetch would add its own Sec-Fetch-Mode), as curl or a browser would send it. */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** The login cookies this browser would send to the callback. */
async function loginCookiesIn(b: Browser, appUrl: string): Promise<{ tx: string[]; bind: string[] }> {
  const cookies = await b.jar.getCookies(`${appUrl}/callback`);
  return {
    tx: cookies
      .filter((c) => c.key.startsWith(TX_PREFIX))
      .map((c) => c.key)
      .sort(),
    bind: cookies
      .filter((c) => c.key.startsWith(BIND_PREFIX))
      .map((c) => c.key)
      .sort(),
  };
}

/** Every cookie the browser would send to `url`, name → value. */
async function cookieMap(b: Browser, url: string): Promise<Map<string, string>> {
  return new Map((await b.jar.getCookies(url)).map((c) => [c.key, c.value] as const));
}

function cookieHeader(cookies: Map<string, string>): string {
  return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

/** The value with one character (in its middle) replaced by another base64url character. */
function alterOneCharacter(value: string): string {
  const at = Math.floor(value.length / 2);
  const replacement = value[at] === 'A' ? 'B' : 'A';
  const altered = value.slice(0, at) + replacement + value.slice(at + 1);
  assert.notEqual(altered, value);
  assert.equal(altered.length, value.length);
  return altered;
}

interface Tab {
  returnTo: string;
  state: string;
  /** the authorization request the app redirected to */
  authorizationUrl: string;
}

/** Starts a login in a new "tab" of this browser: GET /login, not followed. */
async function startTab(b: Browser, appUrl: string, returnTo: string): Promise<Tab> {
  const start = await b.get(`${appUrl}/login?returnTo=${encodeURIComponent(returnTo)}`);
  assert.equal(start.status, 302, start.body);
  assert.ok(start.location !== undefined);
  return { returnTo, state: stateOf(start.location), authorizationUrl: start.location };
}

for (const flavour of FLAVOURS) {
  describe(`login transactions in cookies (${flavour})`, () => {
    const store = new MemoryStore();
    let s: TestSetup;
    before(async () => {
      s = await setup({ flavour, jsonErrors: true, options: { session: { secret: SESSION_SECRET, store }, logger: quietLogger } });
    });
    beforeEach(async () => {
      await clearStore(store);
    });
    after(async () => {
      await s.close();
    });

    /** A refused callback: 400 OIDC_STATE_MISMATCH, no session cookie, no session in the store. */
    async function assertRefused(page: Page): Promise<void> {
      assertOidcError(page, 400, 'OIDC_STATE_MISMATCH');
      assert.deepEqual(setCookiesNamed(page.headers, SESSION_COOKIE), [], 'no session cookie');
      assert.equal(await sessionCount(store), 0, 'no session in the store');
    }

    test('five logins started in five tabs of one browser, completed in an interleaved order, all succeed', async () => {
      const b = new Browser();
      const tabs: Tab[] = [];
      for (let i = 1; i <= 5; i++) tabs.push(await startTab(b, s.appUrl, `/profile?tab=${String(i)}`));
      assert.equal((await loginCookiesIn(b, s.appUrl)).tx.length, 5, 'five logins in flight');
      const answers: { tab: Tab; answer: Page }[] = [];
      for (const tab of tabs) answers.push({ tab, answer: await authorize(b, tab.authorizationUrl) });
      for (const i of [2, 4, 0, 3, 1]) {
        const entry = answers[i];
        assert.ok(entry !== undefined);
        const callback = await deliver(b, entry.answer);
        assert.equal(callback.status, 302, `tab ${String(i + 1)}: ${callback.body}`);
        assert.equal(rawLocation(callback), entry.tab.returnTo);
        assert.equal(setCookiesNamed(callback.headers, SESSION_COOKIE).length, 1, 'each login sets the session cookie');
        await assertLoggedInAs(b, s.appUrl, 'alice');
      }
      assert.deepEqual(await loginCookiesIn(b, s.appUrl), { tx: [], bind: [] }, 'every login consumed its cookies');
      assert.equal(await sessionCount(store), 1, 'one session: each login replaced the one before');
    });

    test('six logins started in one browser: the first is refused at its callback, tabs 2 to 6 succeed; never more than 5 in flight', async () => {
      const b = new Browser();
      const tabs: Tab[] = [];
      for (let i = 1; i <= 6; i++) {
        tabs.push(await startTab(b, s.appUrl, `/profile?tab=${String(i)}`));
        const held = await loginCookiesIn(b, s.appUrl);
        assert.equal(held.tx.length, Math.min(i, LOGINS_IN_FLIGHT), `after ${String(i)} starts`);
        assert.equal(held.bind.length, Math.min(i, LOGINS_IN_FLIGHT), `after ${String(i)} starts`);
      }
      const [first, ...rest] = tabs;
      assert.ok(first !== undefined);
      const held = await loginCookiesIn(b, s.appUrl);
      assert.ok(!held.tx.includes(loginCookieNames(first.state).tx), 'the oldest login was dropped');
      assert.deepEqual(held.tx, rest.map((t) => loginCookieNames(t.state).tx).sort());

      const firstAnswer = await authorize(b, first.authorizationUrl);
      const restAnswers: { tab: Tab; answer: Page }[] = [];
      for (const tab of rest) restAnswers.push({ tab, answer: await authorize(b, tab.authorizationUrl) });

      await assertRefused(await b.request(firstAnswer.location ?? '', { headers: ACCEPT_JSON }));
      await assertLoggedOut(b, s.appUrl);
      for (const { tab, answer } of restAnswers.reverse()) {
        const callback = await deliver(b, answer);
        assert.equal(callback.status, 302, callback.body);
        assert.equal(rawLocation(callback), tab.returnTo);
        await assertLoggedInAs(b, s.appUrl, 'alice');
      }
    });

    test('ten logins started in a row: the browser holds at most 5 at every step, and keeps the 5 newest', async () => {
      const b = new Browser();
      const states: string[] = [];
      for (let i = 1; i <= 10; i++) {
        const start = await b.get(`${s.appUrl}/login`);
        assert.equal(start.status, 302);
        states.push(stateOf(start.location));
        const held = await loginCookiesIn(b, s.appUrl);
        assert.ok(
          held.tx.length <= LOGINS_IN_FLIGHT && held.bind.length <= LOGINS_IN_FLIGHT,
          `after ${String(i)} starts: ${String(held.tx.length)} tx, ${String(held.bind.length)} bind cookies`,
        );
      }
      const newest = states.slice(-5).map((state) => loginCookieNames(state));
      assert.deepEqual(await loginCookiesIn(b, s.appUrl), { tx: newest.map((n) => n.tx).sort(), bind: newest.map((n) => n.bind).sort() });
    });

    test("the victim's unused callback URL delivered in another browser is refused (with no cookies, and with that browser's own login in flight); the victim's login still works", async () => {
      const victim = new Browser();
      const answer = await authorize(victim, `${s.appUrl}/login?returnTo=%2Fprofile`);
      assert.ok(answer.location !== undefined);

      const bare = new Browser();
      await assertRefused(await bare.get(answer.location, ACCEPT_JSON));
      await assertLoggedOut(bare, s.appUrl);

      const busy = new Browser();
      const own = await busy.get(`${s.appUrl}/login`);
      assert.equal(own.status, 302);
      assert.equal((await loginCookiesIn(busy, s.appUrl)).tx.length, 1);
      await assertRefused(await busy.get(answer.location, ACCEPT_JSON));
      await assertLoggedOut(busy, s.appUrl);

      const callback = await deliver(victim, answer);
      assert.equal(callback.status, 302, callback.body);
      assert.equal(rawLocation(callback), '/profile');
      await assertLoggedInAs(victim, s.appUrl, 'alice');
    });

    test('a transaction cookie with one character of its sealed value changed is refused; the untouched one then succeeds', async () => {
      const b = new Browser();
      const answer = await authorize(b, `${s.appUrl}/login`);
      const url = answer.location ?? '';
      const names = loginCookieNames(stateOf(url));
      const cookies = await cookieMap(b, url);
      const sealed = cookies.get(names.tx);
      assert.ok(sealed !== undefined, 'the transaction cookie is sent to the callback');
      const tampered = new Map(cookies).set(names.tx, alterOneCharacter(sealed));
      await assertRefused(await b.request(url, { headers: ACCEPT_JSON, cookie: cookieHeader(tampered) }));
      await assertLoggedOut(b, s.appUrl);

      const control = await b.request(url, { cookie: cookieHeader(cookies) });
      assert.equal(control.status, 302, control.body);
      await assertLoggedInAs(b, s.appUrl, 'alice');
    });

    test('a transaction cookie sealed by an app with another secret, sent with its binding cookie, is refused; that app itself accepts it', async () => {
      const other = await lateServer();
      try {
        // The same client and callback URL, another secret: it could be a second app sharing the domain.
        other.setHandler(
          buildApp(
            { ...baseOptions(s.op.issuer, s.appUrl), session: { secret: 'another-session-secret-for-tests-0123456789' }, logger: quietLogger },
            { flavour, jsonErrors: true },
          ),
        );
        const b = new Browser();
        // Cookies ignore ports: the login cookies the other app sets are this browser's cookies for the app too.
        const answer = await authorize(b, `${other.url}/login`);
        const url = answer.location ?? '';
        assert.equal(new URL(url).origin, new URL(s.appUrl).origin);
        const names = loginCookieNames(stateOf(url));
        const cookies = await cookieMap(b, url);
        assert.ok(cookies.has(names.tx) && cookies.has(names.bind), 'both login cookies go to the callback');
        await assertRefused(await b.request(url, { headers: ACCEPT_JSON, cookie: cookieHeader(cookies) }));
        await assertLoggedOut(b, s.appUrl);

        const target = new URL(url);
        const control = await b.request(`${other.url}${target.pathname}${target.search}`, { cookie: cookieHeader(cookies) });
        assert.equal(control.status, 302, `the app that sealed it accepts the same cookies: ${control.body}`);
      } finally {
        await other.close();
      }
    });

    test('the transaction cookie of login A sent under the name of login B is refused; with its own cookies B then succeeds', async () => {
      const b = new Browser();
      const a = await startTab(b, s.appUrl, '/profile?login=a');
      const answer = await authorize(b, `${s.appUrl}/login?returnTo=%2Fprofile%3Flogin%3Db`);
      const url = answer.location ?? '';
      const namesA = loginCookieNames(a.state);
      const namesB = loginCookieNames(stateOf(url));
      const cookies = await cookieMap(b, url);
      const txA = cookies.get(namesA.tx);
      assert.ok(txA !== undefined && cookies.has(namesB.tx) && cookies.has(namesB.bind), 'both logins are in flight');
      const swapped = new Map(cookies).set(namesB.tx, txA);
      await assertRefused(await b.request(url, { headers: ACCEPT_JSON, cookie: cookieHeader(swapped) }));
      await assertLoggedOut(b, s.appUrl);

      const control = await b.request(url, { cookie: cookieHeader(cookies) });
      assert.equal(control.status, 302, control.body);
      assert.equal(rawLocation(control), '/profile?login=b');
      await assertLoggedInAs(b, s.appUrl, 'alice');
    });

    for (const [what, change] of [
      [
        'missing',
        (cookies: Map<string, string>, bind: string) => {
          cookies.delete(bind);
        },
      ],
      [
        'with one character changed',
        (cookies: Map<string, string>, bind: string) => {
          cookies.set(bind, alterOneCharacter(cookies.get(bind) ?? ''));
        },
      ],
      [
        'replaced by the binding cookie of another login of the same browser',
        (cookies: Map<string, string>, bind: string) => {
          const otherBind = [...cookies.keys()].find((name) => name.startsWith(BIND_PREFIX) && name !== bind);
          assert.ok(otherBind !== undefined, 'another login is in flight');
          cookies.set(bind, cookies.get(otherBind) ?? '');
        },
      ],
    ] as const) {
      test(`a callback whose binding cookie is ${what} is refused; with the right one it then succeeds`, async () => {
        const b = new Browser();
        await startTab(b, s.appUrl, '/');
        const answer = await authorize(b, `${s.appUrl}/login`);
        const url = answer.location ?? '';
        const names = loginCookieNames(stateOf(url));
        const cookies = await cookieMap(b, url);
        assert.ok(cookies.has(names.tx) && cookies.has(names.bind));
        const altered = new Map(cookies);
        change(altered, names.bind);
        assert.notEqual(cookieHeader(altered), cookieHeader(cookies));
        await assertRefused(await b.request(url, { headers: ACCEPT_JSON, cookie: cookieHeader(altered) }));
        await assertLoggedOut(b, s.appUrl);

        const control = await b.request(url, { cookie: cookieHeader(cookies) });
        assert.equal(control.status, 302, control.body);
        await assertLoggedInAs(b, s.appUrl, 'alice');
      });
    }

    for (const [what, headers] of [
      [
        "a page's fetch (Sec-Fetch-Mode: cors, Sec-Fetch-Dest: empty)",
        { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'same-origin' },
      ],
      ['an image (Sec-Fetch-Mode: no-cors, Sec-Fetch-Dest: image)', { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image', 'sec-fetch-site': 'cross-site' }],
      [
        'a navigation inside a frame (Sec-Fetch-Mode: navigate, Sec-Fetch-Dest: iframe)',
        { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe', 'sec-fetch-site': 'cross-site' },
      ],
      [
        'a speculative prefetch (Sec-Purpose: prefetch)',
        { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'same-origin', 'sec-purpose': 'prefetch' },
      ],
      ['a client asking for JSON (Accept: application/json)', { accept: 'application/json' }],
    ] as const) {
      test(`GET /login from ${what} answers 401 login_required and sets no cookie, not even to drop a login in flight`, async () => {
        // Sent along with five logins in flight, a start that came before the check would drop the oldest.
        const b = new Browser();
        for (let i = 0; i < LOGINS_IN_FLIGHT; i++) await startTab(b, s.appUrl, '/');
        const before = await loginCookiesIn(b, s.appUrl);
        assert.equal(before.bind.length, LOGINS_IN_FLIGHT);
        for (const cookie of ['', await b.jar.getCookieString(`${s.appUrl}/login`)]) {
          const res = await rawGet(`${s.appUrl}/login?returnTo=%2Fprofile`, cookie === '' ? headers : { ...headers, cookie });
          assert.equal(res.status, 401, res.body);
          assert.match(String(res.headers['content-type']), /^application\/json/);
          const body = JSON.parse(res.body) as { error?: unknown };
          assert.equal(body.error, 'login_required');
          assert.equal(res.headers['set-cookie'], undefined, 'no Set-Cookie at all');
          assert.equal(res.headers['location'], undefined);
        }
        assert.equal(await sessionCount(store), 0);
      });
    }

    for (const [what, headers] of [
      [
        'a browser navigation (Sec-Fetch-Mode: navigate, Sec-Fetch-Dest: document)',
        { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'none', accept: 'text/html,application/xhtml+xml' },
      ],
      ['a client without Sec-Fetch headers (curl)', { accept: '*/*' }],
    ] as const) {
      test(`GET /login from ${what} redirects to the provider with the two login cookies`, async () => {
        const res = await rawGet(`${s.appUrl}/login`, headers);
        assert.equal(res.status, 302, res.body);
        const location = res.headers['location'];
        assert.ok(location !== undefined && location.startsWith(`${s.op.issuer}/`), `redirects to the provider: ${String(location)}`);
        const names = loginCookieNames(stateOf(location));
        assert.deepEqual(
          allSetCookies(res.headers)
            .map((c) => c.name)
            .sort(),
          [names.bind, names.tx].sort(),
        );
        assert.equal(await sessionCount(store), 0, '/login stores nothing');
      });
    }
  });

  describe(`login cookies of an app under a path prefix with its own callback route (${flavour})`, () => {
    let appServer: LateServer;
    let op: TestProvider;
    before(async () => {
      appServer = await lateServer();
      const baseUrl = `${appServer.url}/app`;
      op = await startTestProvider({
        clients: [clientFor(appServer.url, { redirect_uris: [`${baseUrl}/auth/callback`], post_logout_redirect_uris: [`${baseUrl}/`] })],
      });
      const inner = buildApp(
        { ...baseOptions(op.issuer, baseUrl), routes: { callback: '/auth/callback' }, logger: quietLogger },
        { flavour, jsonErrors: true },
      );
      const root = flavour === 'express4' ? express4() : express();
      root.use('/app', inner);
      appServer.setHandler(root);
    });
    after(async () => {
      await appServer.close();
      await op.close();
    });

    test('the transaction cookie is scoped to the prefixed callback path, the binding cookie to /, and the login completes', async () => {
      const b = new Browser();
      const start = await b.get(`${appServer.url}/app/login?returnTo=%2Fapp%2Fprofile`);
      assert.equal(start.status, 302, start.body);
      const state = stateOf(start.location);
      assert.equal(new URL(start.location ?? '').searchParams.get('redirect_uri'), `${appServer.url}/app/auth/callback`);
      assertLoginCookies(start.headers, { state, https: false, callbackPath: '/app/auth/callback' });
      const names = loginCookieNames(state);
      assert.equal(await b.cookie(`${appServer.url}/callback`, names.tx), undefined, 'the transaction cookie does not go to /callback outside the prefix');
      assert.ok((await b.cookie(`${appServer.url}/app/auth/callback`, names.tx)) !== undefined);

      const answer = await authorize(b, start.location ?? '');
      assert.equal(new URL(answer.location ?? '').pathname, '/app/auth/callback');
      const callback = await deliver(b, answer);
      assert.equal(callback.status, 302, callback.body);
      assert.equal(rawLocation(callback), '/app/profile');
      await assertLoggedInAs(b, `${appServer.url}/app`, 'alice');
    });
  });
}
