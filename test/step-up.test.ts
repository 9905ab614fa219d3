import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { requiresAuth } from '../lib/index.js';
import { setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, assertLoggedInAs, assertOidcError, jsonOf } from './helpers/assertions.js';
import { authorize, Browser, deliver, login, rawLocation } from './helpers/browser.js';
import { recordProviderRequests } from './helpers/provider-requests.js';

const HTML = { accept: 'text/html' } as const;
/** The session cookie's name on http (README: secure cookie defaults). */
const SESSION_COOKIE = 'oidc.sid';

describe('step-up: requiresAuth({ acr, maxAge }) against oidc-provider configured for acr', () => {
  let s: TestSetup;
  /** what the provider's login page reports next: the acr, and how long ago the user authenticated */
  let next: { acr: string; ageSec: number };

  before(async () => {
    s = await setup({
      jsonErrors: true,
      // auth_time in every ID token, not only when max_age was asked for (OpenID Connect Registration).
      client: { require_auth_time: true },
      provider: { authentication: () => next },
      routes: (app) => {
        app.get(
          '/mfa',
          requiresAuth({ acr: 'mfa' }, (req, res) => {
            res.json({ sub: req.oidc.user.sub, email: req.oidc.user.email });
          }),
        );
        app.get(
          '/strong',
          requiresAuth({ acr: ['mfa', 'hwk'] }, (req, res) => {
            res.json({ sub: req.oidc.user.sub });
          }),
        );
        app.get(
          '/recent',
          requiresAuth({ maxAge: 300 }, (req, res) => {
            res.json({ sub: req.oidc.user.sub });
          }),
        );
      },
    });
  });
  after(async () => {
    await s.close();
  });
  beforeEach(() => {
    next = { acr: 'pwd', ageSec: 0 };
  });

  async function loggedIn(user = 'alice'): Promise<Browser> {
    const b = new Browser();
    const callback = await login(b, `${s.appUrl}/login`, user);
    assert.equal(callback.status, 302, callback.body);
    return b;
  }

  test('a session logged in with acr pwd is sent to the provider with acr_values=mfa, comes back with mfa and is let in, the same user', async () => {
    const b = await loggedIn();
    const before = await b.cookie(s.appUrl, SESSION_COOKIE);
    const guarded = await b.get(`${s.appUrl}/mfa?x=1`, HTML);
    assert.equal(guarded.status, 302);
    const authorization = new URL(guarded.location ?? '');
    assert.equal(authorization.origin, new URL(s.op.issuer).origin);
    assert.equal(authorization.searchParams.get('acr_values'), 'mfa');
    next = { acr: 'mfa', ageSec: 0 };
    const callback = await deliver(b, await authorize(b, guarded.location ?? '', 'alice'));
    assert.equal(callback.status, 302, callback.body);
    assert.equal(rawLocation(callback), '/mfa?x=1');
    const page = await b.get(`${s.appUrl}/mfa?x=1`, ACCEPT_JSON);
    assert.equal(page.status, 200);
    assert.deepEqual(jsonOf(page), { sub: 'alice', email: 'alice@example.test' });
    // A new authentication is a new session id, as at every login.
    assert.notEqual(await b.cookie(s.appUrl, SESSION_COOKIE), before);
  });

  test('any one of several acr values will do, and a session that has one passes another route asking for it without a new login', async () => {
    const b = new Browser();
    const guarded = await b.get(`${s.appUrl}/strong`, HTML);
    assert.equal(new URL(guarded.location ?? '').searchParams.get('acr_values'), 'mfa hwk');
    next = { acr: 'mfa', ageSec: 0 };
    await deliver(b, await authorize(b, guarded.location ?? '', 'alice'));
    assert.equal((await b.get(`${s.appUrl}/strong`, ACCEPT_JSON)).status, 200);
    const page = await b.get(`${s.appUrl}/mfa`, ACCEPT_JSON);
    assert.equal(page.status, 200);
    assert.equal((jsonOf(page) as { sub: string }).sub, 'alice');
  });

  test('an ID token that comes back with the wrong acr is refused (403 OIDC_STEP_UP_FAILED), its access token revoked, and the session stays as it was', async () => {
    const b = await loggedIn();
    const before = await b.cookie(s.appUrl, SESSION_COOKIE);
    const guarded = await b.get(`${s.appUrl}/mfa`, HTML);
    next = { acr: 'pwd', ageSec: 0 };
    const answer = await authorize(b, guarded.location ?? '', 'alice');
    const seen = recordProviderRequests(s.op);
    const callback = await deliver(b, answer);
    s.op.server.setHandler(s.op.handler);
    assert.deepEqual(
      seen.filter((r) => r.method === 'POST' && r.url.pathname === '/token/revocation').length,
      1,
      "the refused login's access token was revoked",
    );
    const body = assertOidcError(callback, 403, 'OIDC_STEP_UP_FAILED');
    assert.match(body.message, /acr "pwd".*"mfa"/);
    assert.equal(await b.cookie(s.appUrl, SESSION_COOKIE), before);
    await assertLoggedInAs(b, s.appUrl, 'alice');
    assert.equal((await b.get(`${s.appUrl}/mfa`, HTML)).status, 302, 'still not let in');
  });

  test("a step-up that comes back as another user is refused (403), and the provider's own back-channel logout of the first user still lands", async () => {
    // oidc-provider ends alice's provider session when bob logs in over it, and tells the app
    // (back-channel): her app session ends by that, not by the refused callback.
    const b = await loggedIn('alice');
    const guarded = await b.get(`${s.appUrl}/mfa`, HTML);
    next = { acr: 'mfa', ageSec: 0 };
    const callback = await deliver(b, await authorize(b, guarded.location ?? '', 'bob'));
    assertOidcError(callback, 403, 'OIDC_STEP_UP_FAILED');
    assert.equal((await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 401, 'not logged in as bob either');
  });

  test('maxAge: an authentication older than maxAge goes to the provider with max_age and a fresh login lets the user in', async () => {
    next = { acr: 'pwd', ageSec: 600 };
    const b = await loggedIn();
    const guarded = await b.get(`${s.appUrl}/recent`, HTML);
    assert.equal(guarded.status, 302);
    assert.equal(new URL(guarded.location ?? '').searchParams.get('max_age'), '300');
    next = { acr: 'pwd', ageSec: 0 };
    const callback = await deliver(b, await authorize(b, guarded.location ?? '', 'alice'));
    assert.equal(rawLocation(callback), '/recent');
    assert.equal((await b.get(`${s.appUrl}/recent`, ACCEPT_JSON)).status, 200);
  });

  test('maxAge: an authentication 200 s old passes a route with maxAge 300 without a new login', async () => {
    next = { acr: 'pwd', ageSec: 200 };
    const b = await loggedIn();
    assert.equal((await b.get(`${s.appUrl}/recent`, ACCEPT_JSON)).status, 200);
  });

  test('maxAge: a provider that answers max_age without authenticating again (old auth_time) is refused, session as it was', async () => {
    next = { acr: 'pwd', ageSec: 600 };
    const b = await loggedIn();
    const before = await b.cookie(s.appUrl, SESSION_COOKIE);
    const guarded = await b.get(`${s.appUrl}/recent`, HTML);
    const callback = await deliver(b, await authorize(b, guarded.location ?? '', 'alice'));
    const body = assertOidcError(callback, 403, 'OIDC_STEP_UP_FAILED');
    assert.match(body.message, /maxAge \(300 s\)/);
    assert.equal(await b.cookie(s.appUrl, SESSION_COOKIE), before);
  });

  test("a JSON client of a session without the acr gets RFC 9470's 401 challenge with acr_values, and no redirect", async () => {
    const b = await loggedIn();
    const page = await b.get(`${s.appUrl}/mfa`, ACCEPT_JSON);
    assert.equal(page.status, 401);
    assert.equal(page.location, undefined);
    const challenge = page.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.match(challenge, /error="insufficient_user_authentication"/);
    assert.match(challenge, /acr_values="mfa"/);
    assert.doesNotMatch(challenge, /max_age/);
    assert.deepEqual((jsonOf(page) as { error: string; acr_values: string }).error, 'insufficient_user_authentication');
  });

  test('a JSON client of a session authenticated too long ago gets the challenge with max_age', async () => {
    next = { acr: 'pwd', ageSec: 600 };
    const b = await loggedIn();
    const page = await b.get(`${s.appUrl}/recent`, ACCEPT_JSON);
    assert.equal(page.status, 401);
    assert.match(page.headers.get('www-authenticate') ?? '', /max_age="300"/);
    assert.equal((jsonOf(page) as { max_age: number }).max_age, 300);
  });

  test('a visitor without a session goes straight to the provider with acr_values, and coming back with mfa is let in', async () => {
    const b = new Browser();
    const guarded = await b.get(`${s.appUrl}/mfa`, HTML);
    assert.equal(guarded.status, 302);
    assert.equal(new URL(guarded.location ?? '').searchParams.get('acr_values'), 'mfa');
    next = { acr: 'mfa', ageSec: 0 };
    const callback = await deliver(b, await authorize(b, guarded.location ?? '', 'carol'));
    assert.equal(rawLocation(callback), '/mfa');
    assert.equal((jsonOf(await b.get(`${s.appUrl}/mfa`, ACCEPT_JSON)) as { sub: string }).sub, 'carol');
  });
});

describe('step-up as another user, at a provider that does not tell the app about its logouts', () => {
  let s: TestSetup;
  let next = { acr: 'pwd', ageSec: 0 };
  before(async () => {
    s = await setup({
      jsonErrors: true,
      client: { backchannel_logout_uri: undefined, backchannel_logout_session_required: false },
      provider: { authentication: () => next },
      routes: (app) => {
        app.get(
          '/mfa',
          requiresAuth({ acr: 'mfa' }, (req, res) => {
            res.json({ sub: req.oidc.user.sub });
          }),
        );
      },
    });
  });
  after(async () => {
    await s.close();
  });

  test("a step-up that comes back as another user is refused (403) and the session stays the first user's", async () => {
    const b = new Browser();
    await login(b, `${s.appUrl}/login`, 'alice');
    const before = await b.cookie(s.appUrl, SESSION_COOKIE);
    const guarded = await b.get(`${s.appUrl}/mfa`, HTML);
    next = { acr: 'mfa', ageSec: 0 };
    const callback = await deliver(b, await authorize(b, guarded.location ?? '', 'bob'));
    const body = assertOidcError(callback, 403, 'OIDC_STEP_UP_FAILED');
    assert.match(body.message, /another user/);
    assert.doesNotMatch(body.message, /bob|alice/);
    assert.equal(await b.cookie(s.appUrl, SESSION_COOKIE), before);
    await assertLoggedInAs(b, s.appUrl, 'alice');
  });
});
