import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { afterEach, describe, mock, test } from 'node:test';
import express from 'express';
import session from 'express-session';
import type { ClientMetadata } from 'oidc-provider';
import { oidcAuth, type OidcAuthOptions } from '../lib/index.js';
import { addTestRoutes, baseOptions, capturingLogger, CLIENT_ID, clientFor, jsonErrorHandler, SESSION_SECRET } from './helpers/app.js';
import { ACCEPT_JSON, assertLoggedInAs, assertLoggedOut, assertOidcError, jsonOf } from './helpers/assertions.js';
import { Browser, deliver, login } from './helpers/browser.js';
import { lateServer } from './helpers/late-server.js';
import { startTestProvider, type TestProvider, type TestProviderOptions } from './helpers/provider.js';
import { recordProviderRequests } from './helpers/provider-requests.js';
import { browserWithProviderSessionOf, idTokenClaims, nextLogin, promptIgnoringProvider } from './helpers/reauthentication.js';
import { withPromptLogin } from '../lib/login/reauthentication.js';

interface App {
  appUrl: string;
  op: TestProvider;
  close(): Promise<void>;
}

interface AppOptions {
  options?: Partial<OidcAuthOptions>;
  client?: Partial<ClientMetadata>;
  provider?: Omit<TestProviderOptions, 'clients'>;
}

/** The test app with a real provider, and an administrator's route that ends a user's sessions (endSessions). */
async function startApp(extra: AppOptions = {}): Promise<App> {
  const server = await lateServer();
  const op = await startTestProvider({ clients: [clientFor(server.url, extra.client)], ...extra.provider });
  const app = express();
  app.set('env', 'test');
  const auth = oidcAuth({ ...baseOptions(op.issuer, server.url), ...extra.options });
  app.use(auth);
  addTestRoutes(app);
  // The app's own silent login (res.oidc.login with prompt=none).
  app.get('/silent', (_req, res, next) => {
    res.oidc.login({ returnTo: '/after-silent', authorizationParams: { prompt: 'none' } }).catch(next);
  });
  app.post('/admin/end-user', (req, res, next) => {
    auth.endSessions({ sub: typeof req.query['sub'] === 'string' ? req.query['sub'] : '' }, { request: req }).then((result) => res.json(result), next);
  });
  app.use(jsonErrorHandler);
  server.setHandler(app);
  return {
    appUrl: server.url,
    op,
    async close() {
      await server.close();
      await op.close();
    },
  };
}

async function withApp(extra: AppOptions, run: (app: App) => Promise<void>): Promise<void> {
  const app = await startApp(extra);
  try {
    await run(app);
  } finally {
    mock.timers.reset();
    await app.close();
  }
}

/** With PAR on, logins must be a browser's navigations (Fetch Metadata): `navigations` sends them so. */
async function loggedIn(app: App, user = 'alice', navigations = false): Promise<Browser> {
  const browser = new Browser({ navigations });
  const callback = await login(browser, `${app.appUrl}/login`, user);
  assert.equal(callback.status, 302, callback.body);
  return browser;
}

/** The user's own logout; the provider's logout page is left unanswered ("No, stay signed in", or never reached). */
async function logOut(browser: Browser, appUrl: string): Promise<void> {
  const answer = await browser.request(`${appUrl}/logout`, { method: 'POST' });
  assert.equal(answer.status, 303);
}

async function sidOf(browser: Browser, appUrl: string): Promise<string> {
  const { idToken } = jsonOf(await browser.get(`${appUrl}/test/tokens`, ACCEPT_JSON)) as { idToken: string };
  const sid = idTokenClaims(idToken)['sid'];
  assert.equal(typeof sid, 'string');
  return sid as string;
}

afterEach(() => {
  mock.timers.reset();
});

test('the prompt of a login after an end is login, with what the app asks for besides (consent for a refresh token), never none', () => {
  assert.equal(withPromptLogin(undefined), 'login');
  assert.equal(withPromptLogin('consent'), 'login consent');
  assert.equal(withPromptLogin('none'), 'login');
  assert.equal(withPromptLogin('select_account login'), 'login select_account');
});

describe('logout.reauthenticate: a browser signed out here must sign in again at the provider (MemoryStore)', () => {
  test('a fresh browser with a provider session logs in silently, without prompt=login', async () => {
    await withApp({}, async (app) => {
      const first = await loggedIn(app);
      const fresh = await browserWithProviderSessionOf(first, app.op.issuer);
      const next = await nextLogin(fresh, app.appUrl);
      assert.equal(next.request.searchParams.get('prompt'), null);
      assert.equal(next.outcome, 'back to the callback');
    });
  });

  test("after the user's own logout (the provider's logout page left unanswered) the next login shows the provider's login form; once signed in again, logins are ordinary", async () => {
    await withApp({}, async (app) => {
      const browser = await loggedIn(app);
      await logOut(browser, app.appUrl);
      const next = await nextLogin(browser, app.appUrl);
      assert.equal(next.request.searchParams.get('prompt'), 'login');
      assert.equal(next.outcome, 'login form');
      assert.equal((await login(browser, `${app.appUrl}/login`)).status, 302);
      await assertLoggedInAs(browser, app.appUrl, 'alice');
      const again = await nextLogin(browser, app.appUrl);
      assert.equal(again.request.searchParams.get('prompt'), null, 'a browser with a live session logs in as usual');
      assert.equal(again.outcome, 'back to the callback');
    });
  });

  test("after the user's own logout at a provider without an end_session_endpoint, the next login shows the login form", async () => {
    await withApp({ provider: { features: { rpInitiatedLogout: { enabled: false } } } }, async (app) => {
      const browser = await loggedIn(app);
      const answer = await browser.request(`${app.appUrl}/logout`, { method: 'POST' });
      assert.equal(answer.location, `${app.appUrl}/`, 'no end_session_endpoint: back to the app, the provider session untouched');
      assert.equal((await nextLogin(browser, app.appUrl)).outcome, 'login form');
    });
  });

  test("after endSessions({ sub }) from another browser, the ended browser's next login shows the login form", async () => {
    await withApp({}, async (app) => {
      const browser = await loggedIn(app);
      const admin = new Browser();
      assert.deepEqual(jsonOf(await admin.request(`${app.appUrl}/admin/end-user?sub=alice`, { method: 'POST', headers: ACCEPT_JSON })), { ended: 1 });
      await assertLoggedOut(browser, app.appUrl);
      assert.equal((await nextLogin(browser, app.appUrl)).outcome, 'login form');
    });
  });

  test("after a back-channel logout of the browser's session, its next login (started by requiresAuth) shows the login form", async () => {
    await withApp({}, async (app) => {
      const browser = await loggedIn(app);
      await app.op.backchannelLogout(CLIENT_ID, 'alice', await sidOf(browser, app.appUrl));
      const next = await nextLogin(browser, app.appUrl, '/profile');
      assert.equal(next.request.searchParams.get('prompt'), 'login');
      assert.equal(next.outcome, 'login form');
    });
  });

  test("after a front-channel logout (the provider's frame, from the browser itself), the next login shows the login form", async () => {
    await withApp({ options: { routes: { frontchannelLogout: '/frontchannel-logout' } } }, async (app) => {
      const browser = await loggedIn(app);
      const query = new URLSearchParams({ iss: app.op.issuer, sid: await sidOf(browser, app.appUrl) });
      assert.equal((await browser.get(`${app.appUrl}/frontchannel-logout?${query.toString()}`)).status, 200);
      await assertLoggedOut(browser, app.appUrl);
      assert.equal((await nextLogin(browser, app.appUrl)).outcome, 'login form');
    });
  });

  test("the app's own prompt=none login after a logout comes back anonymous without asking the provider", async () => {
    await withApp({}, async (app) => {
      const browser = await loggedIn(app);
      await logOut(browser, app.appUrl);
      const answer = await browser.get(`${app.appUrl}/silent`);
      assert.equal(answer.status, 302);
      assert.equal(answer.location, `${app.appUrl}/after-silent`, 'straight back, as login_required would bring it');
      await assertLoggedOut(browser, app.appUrl);
    });
  });

  test('a session that only expired by lifetime: the request that finds it clears the marker, and the next login is silent', async () => {
    const store = new session.MemoryStore();
    // The idle lifetime: the marker itself never outlives the absolute one (its cookie lapses with it).
    const options = { lifetime: { absoluteSec: 7200, idleSec: 600 }, session: { secret: SESSION_SECRET, store, cookie: { maxAge: 30 * 24 * 3600 * 1000 } } };
    await withApp({ options }, async (app) => {
      const browser = await loggedIn(app);
      mock.timers.enable({ apis: ['Date'], now: Date.now() + 601 * 1000 });
      const expired = await browser.get(`${app.appUrl}/profile`, ACCEPT_JSON);
      assert.equal(expired.status, 401);
      assert.ok(
        expired.headers.getSetCookie().some((c) => c.startsWith('oidc.seen=;')),
        'the marker is cleared',
      );
      mock.timers.reset();
      const next = await nextLogin(browser, app.appUrl);
      assert.equal(next.request.searchParams.get('prompt'), null);
      assert.equal(next.outcome, 'back to the callback');
    });
  });

  test('reauthenticate: false keeps the silent login after a logout', async () => {
    await withApp({ options: { logout: { reauthenticate: false } } }, async (app) => {
      const browser = await loggedIn(app);
      await logOut(browser, app.appUrl);
      const next = await nextLogin(browser, app.appUrl);
      assert.equal(next.request.searchParams.get('prompt'), null);
      assert.equal(next.outcome, 'back to the callback');
    });
  });

  test('{ maxAgeZero: true } sends max_age=0 along with prompt=login', async () => {
    await withApp({ options: { logout: { reauthenticate: { maxAgeZero: true } } } }, async (app) => {
      const browser = await loggedIn(app);
      await logOut(browser, app.appUrl);
      const next = await nextLogin(browser, app.appUrl);
      assert.equal(next.request.searchParams.get('prompt'), 'login');
      assert.equal(next.request.searchParams.get('max_age'), '0');
      assert.equal(next.outcome, 'login form');
    });
  });

  test('with PAR, prompt=login travels in the pushed request, not through the browser', async () => {
    const features = { pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false } };
    await withApp({ options: { pushedAuthorizationRequests: true }, provider: { features } }, async (app) => {
      const browser = await loggedIn(app, 'alice', true);
      await logOut(browser, app.appUrl);
      const seen = recordProviderRequests(app.op);
      const next = await nextLogin(browser, app.appUrl);
      assert.equal(next.request.searchParams.get('prompt'), null);
      const pushed = seen.find(({ method, url }) => method === 'POST' && url.pathname === '/request');
      assert.equal(new URLSearchParams(pushed?.body).get('prompt'), 'login');
      assert.equal(next.outcome, 'login form');
    });
  });

  test('attemptSilentLogin never tries a browser whose session a back-channel logout ended', async () => {
    await withApp({ options: { attemptSilentLogin: true } }, async (app) => {
      const browser = await loggedIn(app);
      await app.op.backchannelLogout(CLIENT_ID, 'alice', await sidOf(browser, app.appUrl));
      const page = await browser.get(`${app.appUrl}/`, { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' });
      assert.equal(page.status, 200, 'the page itself, not a silent trip to the provider');
      assert.deepEqual(jsonOf(page), { page: 'home', authenticated: false, logoutCompleted: false });
    });
  });
});

describe('a provider that answers prompt=login from its old session', () => {
  const authentication = (): { ageSec: number } => ({ ageSec: 600 });

  test('an auth_time before the login started is refused: 403 OIDC_REAUTHENTICATION_FAILED, no session, the tokens revoked, the provider named in the log', async () => {
    const { lines, logger } = capturingLogger();
    await withApp({ options: { logger }, client: { require_auth_time: true }, provider: { authentication } }, async (app) => {
      const browser = await loggedIn(app);
      await logOut(browser, app.appUrl);
      const layer = promptIgnoringProvider(app.op);
      const next = await nextLogin(browser, app.appUrl);
      assert.equal(next.outcome, 'back to the callback', 'the provider ignored prompt=login');
      const revokedBefore = layer.revocations;
      assertOidcError(await deliver(browser, next.page), 403, 'OIDC_REAUTHENTICATION_FAILED');
      await assertLoggedOut(browser, app.appUrl);
      assert.ok(layer.revocations > revokedBefore, 'the tokens of the refused login are revoked');
      assert.ok(lines.some((l) => l.level === 'warn' && l.fields['issuer'] === app.op.issuer && l.message.includes('ignored prompt=login')));
    });
  });

  test('an ID token without auth_time cannot show it either way, and is accepted', async () => {
    await withApp({ provider: { authentication } }, async (app) => {
      const browser = await loggedIn(app);
      await logOut(browser, app.appUrl);
      promptIgnoringProvider(app.op);
      const next = await nextLogin(browser, app.appUrl);
      assert.equal(next.outcome, 'back to the callback');
      assert.equal((await deliver(browser, next.page)).status, 302);
      const { idToken } = jsonOf(await browser.get(`${app.appUrl}/test/tokens`, ACCEPT_JSON)) as { idToken: string };
      assert.equal(idTokenClaims(idToken)['auth_time'], undefined, 'the provider sent no auth_time');
      await assertLoggedInAs(browser, app.appUrl, 'alice');
    });
  });
});
