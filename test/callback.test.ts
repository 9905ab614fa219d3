import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import express from 'express';
import express4 from 'express4';
import { TRANSACTION_TTL_MS } from '../lib/login/login-transactions.js';
import { FLAVOURS, setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, assertLoggedInAs, assertLoggedOut, assertOidcError } from './helpers/assertions.js';
import { authorize, Browser, cancelAtProvider, deliver, rawLocation } from './helpers/browser.js';
import { SESSION_COOKIE as COOKIE, setCookiesNamed } from './helpers/cookies.js';

/** How many authorization codes the provider has exchanged so far. */
function redeemed(s: TestSetup): number {
  return s.op.events.filter((name) => name === 'grant.success').length;
}

/** Starts a login and drives the provider until its redirect to the callback; returns that callback URL, not visited. */
async function callbackUrl(s: TestSetup, b: Browser, path = '/login'): Promise<URL> {
  const answer = await authorize(b, `${s.appUrl}${path}`);
  assert.ok(answer.location !== undefined, 'the provider redirects to the callback');
  return new URL(answer.location);
}

/** The state of a login just started at /login, read from the redirect to the provider. */
async function pendingState(s: TestSetup, b: Browser): Promise<string> {
  const start = await b.get(`${s.appUrl}/login`);
  const state = new URL(start.location ?? '').searchParams.get('state');
  assert.ok(state !== null && state !== '', 'the authorization request carries a state');
  return state;
}

for (const flavour of FLAVOURS) {
  describe(`callback (${flavour})`, () => {
    let s: TestSetup;
    before(async () => {
      s = await setup({ flavour, jsonErrors: true });
    });
    after(async () => {
      await s.close();
    });

    test('a successful callback redirects to returnTo with Cache-Control: no-store', async () => {
      const b = new Browser();
      const url = await callbackUrl(s, b, '/login?returnTo=%2Fprofile');
      assert.ok(url.searchParams.has('code') && url.searchParams.has('state'));
      const callback = await b.get(url.href);
      assert.equal(callback.status, 302);
      assert.equal(rawLocation(callback), '/profile');
      assert.equal(callback.headers.get('cache-control'), 'no-store');
      await assertLoggedInAs(b, s.appUrl, 'alice');
    });

    test('the session id changes at login, and the cookie from before the login is not logged in', async () => {
      // A browser that already holds a real session cookie (logged in once) logs in again.
      const b = new Browser();
      assert.equal((await b.get((await callbackUrl(s, b)).href)).status, 302);
      const preLogin = await b.cookie(s.appUrl, COOKIE);
      assert.ok(preLogin !== undefined, 'the first login set a session cookie');
      const url = await callbackUrl(s, b);
      assert.equal(await b.cookie(s.appUrl, COOKIE), preLogin, '/login left the session cookie alone');
      const callback = await b.get(url.href);
      assert.equal(callback.status, 302);
      const afterLogin = await b.cookie(s.appUrl, COOKIE);
      assert.ok(afterLogin !== undefined);
      assert.notEqual(afterLogin, preLogin);
      await assertLoggedInAs(b, s.appUrl, 'alice');
      const stale = await fetch(`${s.appUrl}/profile`, { headers: { ...ACCEPT_JSON, cookie: `${COOKIE}=${preLogin}` } });
      assert.equal(stale.status, 401, 'the session from before the login is gone');

      // An attacker who planted a session cookie before the login gains nothing.
      const victim = new Browser();
      const planted = 's%3Aplanted-by-an-attacker.signature';
      await victim.jar.setCookie(`${COOKIE}=${planted}; Path=/`, s.appUrl);
      const answer = await callbackUrl(s, victim);
      assert.equal(await victim.cookie(s.appUrl, COOKIE), planted, 'the planted cookie is still there at the callback');
      assert.equal((await victim.get(answer.href)).status, 302);
      const fresh = await victim.cookie(s.appUrl, COOKIE);
      assert.ok(fresh !== undefined);
      assert.notEqual(fresh, planted);
      await assertLoggedInAs(victim, s.appUrl, 'alice');
      const attacker = await fetch(`${s.appUrl}/profile`, { headers: { ...ACCEPT_JSON, cookie: `${COOKIE}=${planted}` } });
      assert.equal(attacker.status, 401);
    });

    test('a callback with a wrong state answers 400 OIDC_STATE_MISMATCH, redeems no code and logs nobody in', async () => {
      const b = new Browser();
      const url = await callbackUrl(s, b);
      url.searchParams.set('state', 'not-the-state-this-browser-sent');
      const count = redeemed(s);
      const callback = await b.get(url.href, ACCEPT_JSON);
      assertOidcError(callback, 400, 'OIDC_STATE_MISMATCH');
      assert.equal(callback.headers.get('cache-control'), 'no-store');
      assert.equal(redeemed(s), count, 'the provider saw no code exchange');
      await assertLoggedOut(b, s.appUrl);
    });

    test('a callback without a state answers 400 OIDC_STATE_MISMATCH and logs nobody in', async () => {
      const b = new Browser();
      const url = await callbackUrl(s, b);
      url.searchParams.delete('state');
      const count = redeemed(s);
      assertOidcError(await b.get(url.href, ACCEPT_JSON), 400, 'OIDC_STATE_MISMATCH');
      assert.equal(redeemed(s), count);
      await assertLoggedOut(b, s.appUrl);
    });

    test('a callback with the right state given twice answers 400 OIDC_STATE_MISMATCH', async () => {
      const b = new Browser();
      const url = await callbackUrl(s, b);
      url.searchParams.append('state', url.searchParams.get('state') ?? '');
      assertOidcError(await b.get(url.href, ACCEPT_JSON), 400, 'OIDC_STATE_MISMATCH');
      await assertLoggedOut(b, s.appUrl);
    });

    test('a replayed callback URL answers 400 OIDC_STATE_MISMATCH, in the same browser and in another one', async () => {
      const b = new Browser();
      const url = await callbackUrl(s, b);
      const first = await b.get(url.href);
      assert.equal(first.status, 302);
      const count = redeemed(s);

      assertOidcError(await b.get(url.href, ACCEPT_JSON), 400, 'OIDC_STATE_MISMATCH');
      const other = new Browser();
      const elsewhere = await other.get(url.href, ACCEPT_JSON);
      assertOidcError(elsewhere, 400, 'OIDC_STATE_MISMATCH');
      assert.deepEqual(setCookiesNamed(elsewhere.headers, COOKIE), [], 'no session is created');
      await assertLoggedOut(other, s.appUrl);
      assert.equal(redeemed(s), count, 'the code was not sent to the provider again');
    });

    test('an access_denied answer with a hostile description gives 403 OIDC_AUTHORIZATION_ERROR without markup', async () => {
      const b = new Browser();
      const state = await pendingState(s, b);
      const query = new URLSearchParams({ state, error: 'access_denied', error_description: '<script>x</script>' });
      const callback = await b.get(`${s.appUrl}/callback?${query.toString()}`, ACCEPT_JSON);
      const body = assertOidcError(callback, 403, 'OIDC_AUTHORIZATION_ERROR');
      assert.match(body.message, /access_denied/);
      assert.doesNotMatch(body.message, /[<>]/);
      assert.equal(callback.headers.get('cache-control'), 'no-store');
      await assertLoggedOut(b, s.appUrl);
    });

    test('an error answer with a state this browser never sent is a state mismatch, not an authorization error', async () => {
      const b = new Browser();
      await pendingState(s, b);
      const query = new URLSearchParams({ state: 'forged', error: 'access_denied' });
      assertOidcError(await b.get(`${s.appUrl}/callback?${query.toString()}`, ACCEPT_JSON), 400, 'OIDC_STATE_MISMATCH');
    });

    test("cancelling at the provider's login page ends in 403 OIDC_AUTHORIZATION_ERROR and no session", async () => {
      const b = new Browser();
      const answer = await cancelAtProvider(b, `${s.appUrl}/login`);
      assert.equal(new URL(answer.location ?? '').searchParams.get('error'), 'access_denied');
      const callback = await deliver(b, answer);
      const body = assertOidcError(callback, 403, 'OIDC_AUTHORIZATION_ERROR');
      assert.doesNotMatch(body.message, /[<>]/);
      await assertLoggedOut(b, s.appUrl);
    });

    for (const [what, change] of [
      [
        'without the iss parameter',
        (q: URLSearchParams) => {
          q.delete('iss');
        },
      ],
      [
        'with another issuer in iss',
        (q: URLSearchParams) => {
          q.set('iss', 'https://evil.example');
        },
      ],
      [
        'with a code the provider never issued',
        (q: URLSearchParams) => {
          q.set('code', 'forged-code');
        },
      ],
    ] as const) {
      test(`a callback ${what} answers 400 OIDC_CALLBACK_INVALID and logs nobody in`, async () => {
        const b = new Browser();
        const url = await callbackUrl(s, b);
        change(url.searchParams);
        const body = assertOidcError(await b.get(url.href, ACCEPT_JSON), 400, 'OIDC_CALLBACK_INVALID');
        assert.ok(!body.message.includes(url.searchParams.get('code') ?? '<none>'), 'the message does not echo the code');
        await assertLoggedOut(b, s.appUrl);
      });
    }

    test('a callback while the provider is unreachable answers 503 OIDC_PROVIDER_UNAVAILABLE and logs nobody in', async () => {
      const b = new Browser();
      const url = await callbackUrl(s, b);
      await s.op.server.stop();
      try {
        assertOidcError(await b.get(url.href, ACCEPT_JSON), 503, 'OIDC_PROVIDER_UNAVAILABLE');
      } finally {
        await s.op.server.start();
      }
      await assertLoggedOut(b, s.appUrl);
    });

    test('a callback arriving as a cross-site top-level navigation (SameSite=Lax context) still finds the login', async () => {
      const b = new Browser();
      const url = await callbackUrl(s, b);
      const callback = await b.request(url.href, { sameSiteContext: 'lax' });
      assert.equal(callback.status, 302, callback.body);
      await assertLoggedInAs(b, s.appUrl, 'alice');
    });

    test('an unsupported method on /callback answers 405 with Allow and Cache-Control: no-store', async () => {
      const b = new Browser();
      const res = await b.request(`${s.appUrl}/callback`, { method: 'PUT', headers: ACCEPT_JSON });
      assertOidcError(res, 405, 'OIDC_METHOD_NOT_ALLOWED');
      assert.deepEqual(res.headers.get('allow')?.split(/,\s*/).sort(), ['GET', 'POST']);
      assert.equal(res.headers.get('cache-control'), 'no-store');
    });
  });

  describe(`form_post callback (${flavour})`, () => {
    let s: TestSetup;
    before(async () => {
      s = await setup({ flavour, jsonErrors: true, options: { authorizationParams: { response_mode: 'form_post' } } });
    });
    after(async () => {
      await s.close();
    });

    test("the provider's form POSTed to /callback (urlencoded) logs the user in", async () => {
      const b = new Browser();
      const answer = await authorize(b, `${s.appUrl}/login?returnTo=%2Fprofile%3Fvia%3Dpost`);
      assert.equal(answer.status, 200, 'form_post answers with a page, not a redirect');
      assert.equal(answer.location, undefined);
      const callback = await deliver(b, answer);
      assert.equal(callback.status, 302, callback.body);
      assert.equal(rawLocation(callback), '/profile?via=post');
      assert.equal(callback.headers.get('cache-control'), 'no-store');
      await assertLoggedInAs(b, s.appUrl, 'alice');
    });

    test('a POSTed callback with a wrong state answers 400 OIDC_STATE_MISMATCH', async () => {
      const b = new Browser();
      const answer = await authorize(b, `${s.appUrl}/login`);
      const callback = await b.submitForm(answer, { state: 'forged' });
      assertOidcError(callback, 400, 'OIDC_STATE_MISMATCH');
      await assertLoggedOut(b, s.appUrl);
    });
  });

  describe(`form_post callback in an app with its own urlencoded body parser (${flavour})`, () => {
    let s: TestSetup;
    before(async () => {
      const parser = flavour === 'express4' ? express4.urlencoded({ extended: false }) : express.urlencoded({ extended: false });
      s = await setup({ flavour, jsonErrors: true, beforeOidc: (app) => app.use(parser), options: { authorizationParams: { response_mode: 'form_post' } } });
    });
    after(async () => {
      await s.close();
    });

    test('the form POSTed to /callback, already parsed by the app, logs the user in', async () => {
      const b = new Browser();
      const callback = await deliver(b, await authorize(b, `${s.appUrl}/login?returnTo=%2Fprofile`));
      assert.equal(callback.status, 302, callback.body);
      assert.equal(rawLocation(callback), '/profile');
      await assertLoggedInAs(b, s.appUrl, 'alice');
    });
  });
}

describe('login transaction lifetime', () => {
  let s: TestSetup;
  before(async () => {
    // A long-lived code, so that only the app's own transaction lifetime decides.
    s = await setup({ jsonErrors: true, provider: { configuration: { ttl: { AuthorizationCode: 3 * 60 * 60 } } } });
  });
  after(async () => {
    mock.timers.reset();
    await s.close();
  });

  for (const [late, accepted] of [
    [TRANSACTION_TTL_MS - 60_000, true],
    [TRANSACTION_TTL_MS + 60_000, false],
  ] as const) {
    test(`a callback ${String(late / 60_000)} minutes after /login is ${accepted ? 'accepted' : 'refused with OIDC_STATE_MISMATCH'}`, async () => {
      const b = new Browser();
      const url = await callbackUrl(s, b);
      // Taken now: at the later clock the jar would drop the login cookies itself (Max-Age), and the app's own check would go untested.
      const cookie = await b.jar.getCookieString(url.href);
      assert.match(cookie, /oidc\.tx\./);
      mock.timers.enable({ apis: ['Date'], now: Date.now() + late });
      try {
        const callback = await b.request(url.href, { headers: ACCEPT_JSON, cookie });
        if (accepted) assert.equal(callback.status, 302, callback.body);
        else assertOidcError(callback, 400, 'OIDC_STATE_MISMATCH');
      } finally {
        mock.timers.reset();
      }
      if (accepted) await assertLoggedInAs(b, s.appUrl, 'alice');
      else await assertLoggedOut(b, s.appUrl);
    });
  }
});
