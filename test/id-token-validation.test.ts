import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { decodeProtectedHeader, type JWTPayload } from 'jose';
import { requiresAuth } from '../lib/index.js';
import { baseOptions, buildApp, capturingLogger, CLIENT_ID, CLIENT_SECRET, FLAVOURS, type Captured, type ExpressFlavour } from './helpers/app.js';
import { ACCEPT_JSON, assertLoggedInAs, assertLoggedOut, assertOidcError, jsonOf } from './helpers/assertions.js';
import { Browser, rawLocation, type Page } from './helpers/browser.js';
import { SESSION_COOKIE as COOKIE, setCookiesNamed } from './helpers/cookies.js';
import {
  newSigningKey,
  signHs256,
  signRs256,
  signRs256WithoutKid,
  startHostileProvider,
  unsignedJwt,
  withoutKid,
  type HostileBehaviour,
  type HostileProvider,
} from './helpers/hostile-provider.js';
import { lateServer, type LateServer } from './helpers/late-server.js';

/** The app wired to a hostile provider; a fresh pair per test, so JWKS counts and caches start at zero. */
interface Hostile {
  hp: HostileProvider;
  appUrl: string;
  logs: Captured[];
  close(): Promise<void>;
}

async function hostileSetup(flavour: ExpressFlavour, jsonErrors = true): Promise<Hostile> {
  const appServer: LateServer = await lateServer();
  const hp = await startHostileProvider({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: `${appServer.url}/callback` });
  const { lines, logger } = capturingLogger();
  const app = buildApp(
    { ...baseOptions(hp.issuer, appServer.url), logger },
    {
      flavour,
      jsonErrors,
      // Keeps finalhandler from printing the stack of the errors these tests provoke on purpose.
      beforeOidc: (a) => a.set('env', 'test'),
      routes: (a) => {
        // Test-only: lets a test call req.oidc.fetchUserInfo() over HTTP.
        a.get('/test/userinfo', requiresAuth(), (req, res, next) => {
          req.oidc.fetchUserInfo().then(
            (info) => res.json(info),
            (err: unknown) => {
              next(err);
            },
          );
        });
      },
    },
  );
  appServer.setHandler(app);
  return {
    hp,
    appUrl: appServer.url,
    logs: lines,
    async close() {
      await appServer.close();
      await hp.close();
    },
  };
}

/** A login started at the app: the authorization URL (with state and nonce); /login sets no session cookie. */
interface Started {
  authorizeUrl: URL;
  state: string;
  nonce: string;
}

async function startLogin(h: Hostile, b: Browser): Promise<Started> {
  const start = await b.get(`${h.appUrl}/login`);
  assert.equal(start.status, 302, `/login answered ${String(start.status)}: ${start.body.slice(0, 200)}`);
  const authorizeUrl = new URL(start.location ?? '');
  assert.equal(authorizeUrl.origin, new URL(h.hp.issuer).origin, '/login redirects to the provider');
  const state = authorizeUrl.searchParams.get('state');
  const nonce = authorizeUrl.searchParams.get('nonce');
  assert.ok(state !== null && nonce !== null);
  assert.equal(await b.cookie(h.appUrl, COOKIE), undefined, '/login stores no session');
  return { authorizeUrl, state, nonce };
}

/** Starts a login and lets the provider answer; returns its redirect to the callback, not visited. */
async function toCallback(h: Hostile, b: Browser): Promise<{ started: Started; callback: URL }> {
  const started = await startLogin(h, b);
  const answer = await b.get(started.authorizeUrl.href);
  assert.equal(answer.status, 302, `the provider's authorization endpoint answered ${String(answer.status)}`);
  return { started, callback: new URL(answer.location ?? '') };
}

/** A whole login through the hostile provider; returns the app's answer to the callback. */
async function login(h: Hostile, b: Browser): Promise<{ started: Started; page: Page }> {
  const { started, callback } = await toCallback(h, b);
  return { started, page: await b.get(callback.href, ACCEPT_JSON) };
}

/** Everything the provider handed out, and the client secret: none of it may reach an error page or a log line. */
function secretsOf(h: Hostile): string[] {
  return [CLIENT_SECRET, ...h.hp.authorizations.map((a) => a.code), ...h.hp.issued.flatMap((i) => [i.code, i.idToken, i.accessToken])];
}

function assertNothingSecret(h: Hostile, text: string, where: string): void {
  for (const secret of secretsOf(h)) assert.ok(!text.includes(secret), `${where} echoes a secret (${secret.slice(0, 12)}…)`);
  assert.doesNotMatch(text, /eyJ[\w-]{4,}/, `${where} holds something JWT-like`);
}

/**
 * The refusal every hostile case must end in: the documented status and typed code, nothing
 * secret in the body or the logs, no new session id, and nobody logged in.
 */
async function assertRefused(h: Hostile, b: Browser, page: Page, status: number, code: string, message?: RegExp): Promise<void> {
  const body = assertOidcError(page, status, code);
  if (message !== undefined) assert.match(body.message, message);
  assertNothingSecret(h, page.body, 'the error body');
  assertNothingSecret(h, JSON.stringify(h.logs), 'the log');
  assert.deepEqual(setCookiesNamed(page.headers, COOKIE), [], 'a refused callback sets no session cookie');
  assert.equal(await b.cookie(h.appUrl, COOKIE), undefined);
  await assertLoggedOut(b, h.appUrl);
}

/** Runs one login with the provider misbehaving so, and asserts the 400 OIDC_CALLBACK_INVALID refusal. */
async function assertIdTokenRefused(h: Hostile, behaviour: HostileBehaviour, message: RegExp): Promise<void> {
  h.hp.misbehave(behaviour);
  const b = new Browser();
  const { page } = await login(h, b);
  assert.equal(h.hp.served.token, 1, 'the code was exchanged (the ID token is what is wrong)');
  await assertRefused(h, b, page, 400, 'OIDC_CALLBACK_INVALID', message);
}

const withClaims = (change: (claims: JWTPayload) => JWTPayload): HostileBehaviour => ({ idTokenClaims: change });
const without =
  (name: string) =>
  (claims: JWTPayload): JWTPayload =>
    Object.fromEntries(Object.entries(claims).filter(([key]) => key !== name));

for (const flavour of FLAVOURS) {
  describe(`ID token validation against a hostile provider (${flavour})`, () => {
    let h: Hostile;
    beforeEach(async () => {
      h = await hostileSetup(flavour);
    });
    afterEach(async () => {
      await h.close();
    });

    test('a well-behaved hostile provider logs the user in (the harness works)', async () => {
      const b = new Browser();
      const { started, page } = await login(h, b);
      assert.equal(page.status, 302, page.body);
      assert.equal(rawLocation(page), '/');
      assert.equal(h.hp.authorizations[0]?.params.get('nonce'), started.nonce, 'the provider saw the nonce of the authorization URL');
      assert.notEqual(await b.cookie(h.appUrl, COOKIE), undefined, 'the callback set a session cookie');
      await assertLoggedInAs(b, h.appUrl, 'alice');
      assert.equal(h.hp.served.jwks, 1);
    });

    test('an ID token with a bad signature is refused, without refetching the JWKS for a known kid', async () => {
      const forger = await newSigningKey();
      await assertIdTokenRefused(h, { signIdToken: (claims, hp) => signRs256(claims, forger, { kid: hp.key.kid }) }, /signature is invalid/);
      assert.equal(h.hp.served.jwks, 1);
    });

    test('an unsigned ID token (alg none) is refused', async () => {
      await assertIdTokenRefused(h, { signIdToken: (claims) => Promise.resolve(unsignedJwt(claims)) }, /\balg\b/);
    });

    test('an ID token signed HS256 with the client secret is refused when RS256 is expected', async () => {
      await assertIdTokenRefused(h, { signIdToken: (claims) => signHs256(claims, CLIENT_SECRET) }, /\balg\b/);
    });

    test('an ID token from another issuer is refused', async () => {
      await assertIdTokenRefused(
        h,
        withClaims((c) => ({ ...c, iss: 'https://idp.attacker.example' })),
        /\biss\b/,
      );
    });

    test('an ID token for another audience is refused', async () => {
      await assertIdTokenRefused(
        h,
        withClaims((c) => ({ ...c, aud: 'another-client' })),
        /\baud\b/,
      );
    });

    test('an ID token with several audiences and no azp is refused', async () => {
      await assertIdTokenRefused(
        h,
        withClaims((c) => ({ ...c, aud: [CLIENT_ID, 'another-client'] })),
        /\baud\b/,
      );
    });

    test('an ID token with several audiences and the azp of another client is refused', async () => {
      await assertIdTokenRefused(
        h,
        withClaims((c) => ({ ...c, aud: [CLIENT_ID, 'another-client'], azp: 'another-client' })),
        /\bazp\b/,
      );
    });

    test('an ID token without a nonce is refused', async () => {
      await assertIdTokenRefused(h, withClaims(without('nonce')), /\bnonce\b/);
    });

    test('an ID token with another nonce is refused', async () => {
      await assertIdTokenRefused(
        h,
        withClaims((c) => ({ ...c, nonce: 'a-nonce-from-another-login' })),
        /\bnonce\b/,
      );
    });

    test('an expired ID token is refused', async () => {
      const now = Math.floor(Date.now() / 1000);
      await assertIdTokenRefused(
        h,
        withClaims((c) => ({ ...c, iat: now - 7200, exp: now - 3600 })),
        /\bexp\b|expired/,
      );
    });

    test('an ID token issued an hour in the future is refused', async () => {
      const now = Math.floor(Date.now() / 1000);
      await assertIdTokenRefused(
        h,
        withClaims((c) => ({ ...c, iat: now + 3600, exp: now + 7200 })),
        /in the future/,
      );
    });

    test('an ID token without iat is refused', async () => {
      await assertIdTokenRefused(h, withClaims(without('iat')), /\biat\b/);
    });

    test('an ID token whose iat is a string of digits, not a number, is refused', async () => {
      const asText = (claims: JWTPayload): JWTPayload =>
        Object.fromEntries(Object.entries(claims).map(([name, value]) => [name, name === 'iat' ? String(value) : value]));
      await assertIdTokenRefused(h, withClaims(asText), /\biat\b/);
    });

    test('an ID token without sub is refused', async () => {
      await assertIdTokenRefused(h, withClaims(without('sub')), /\bsub\b/);
    });

    test('an ID token whose kid is not in the JWKS is refused after one refetch, and the next one refetches nothing', async () => {
      const unpublished = await newSigningKey('kid-not-published');
      await assertIdTokenRefused(h, { signIdToken: (claims) => signRs256(claims, unpublished) }, /no key of the provider matches/);
      assert.equal(h.hp.served.jwks, 2, 'the first fetch, then exactly one refetch for the unknown kid');

      // A second made-up kid right after: the forced refetch is rate-limited, the provider is not hammered.
      const b = new Browser();
      const { page } = await login(h, b);
      await assertRefused(h, b, page, 400, 'OIDC_CALLBACK_INVALID', /no key of the provider matches/);
      assert.equal(h.hp.served.jwks, 2);
    });

    test('an ID token without kid is verified with the only key of a JWKS whose key has no kid either, and logs the user in', async () => {
      h.hp.misbehave({ signIdToken: (claims, hp) => signRs256WithoutKid(claims, hp.key), jwks: (keys) => keys.map(withoutKid) });
      const b = new Browser();
      const { page } = await login(h, b);
      assert.equal(page.status, 302, page.body);
      assert.equal(rawLocation(page), '/');
      assert.equal(decodeProtectedHeader(h.hp.issued[0]?.idToken ?? '').kid, undefined, 'the ID token names no kid');
      assert.notEqual(await b.cookie(h.appUrl, COOKIE), undefined, 'the callback set a session cookie');
      await assertLoggedInAs(b, h.appUrl, 'alice');
      assert.equal(h.hp.served.jwks, 1, 'no refetch');
    });

    test('an ID token without kid is refused when the JWKS holds several RS256 keys without kid, without refetching the JWKS', async () => {
      const others = [await newSigningKey(), await newSigningKey()];
      const ambiguous: HostileBehaviour = {
        signIdToken: (claims, hp) => signRs256WithoutKid(claims, hp.key),
        // The signing key is among them, but nothing says which one it is.
        jwks: (keys) => [...others.map((k) => k.publicJwk), ...keys].map(withoutKid),
      };
      await assertIdTokenRefused(h, ambiguous, /several provider keys could match the ID token \(it names no "kid"/);
      assert.equal(h.hp.served.jwks, 1, 'an ambiguous key is not an unknown kid: nothing to refetch');
    });

    test('after a key rotation the next login refetches the JWKS at once and succeeds', async () => {
      const first = new Browser();
      assert.equal((await login(h, first)).page.status, 302);
      assert.equal(h.hp.served.jwks, 1);

      const rotated = await h.hp.rotateKey();
      const second = new Browser();
      const { page } = await login(h, second);
      assert.equal(page.status, 302, page.body);
      await assertLoggedInAs(second, h.appUrl, 'alice');
      assert.equal(h.hp.served.jwks, 2, 'one refetch, right away');
      assert.equal(decodeProtectedHeader(h.hp.issued[1]?.idToken ?? '').kid, rotated.kid, 'the second login was signed with the new key');

      const third = new Browser();
      assert.equal((await login(h, third)).page.status, 302);
      assert.equal(h.hp.served.jwks, 2, 'the new set is cached');
    });

    test('after a key rotation, logins at the same moment share one JWKS refetch', async () => {
      assert.equal((await login(h, new Browser())).page.status, 302);
      await h.hp.rotateKey();
      const browsers = [new Browser(), new Browser(), new Browser()];
      const callbacks = await Promise.all(browsers.map((b) => toCallback(h, b)));
      const pages = await Promise.all(callbacks.map(({ callback }, i) => (browsers[i] ?? new Browser()).get(callback.href, ACCEPT_JSON)));
      for (const page of pages) assert.equal(page.status, 302, page.body);
      assert.equal(h.hp.served.jwks, 2);
    });

    test('when the JWKS cannot be fetched the callback answers 503 OIDC_PROVIDER_UNAVAILABLE and logs nobody in', async () => {
      h.hp.misbehave({ jwksStatus: 500 });
      const b = new Browser();
      const { page } = await login(h, b);
      await assertRefused(h, b, page, 503, 'OIDC_PROVIDER_UNAVAILABLE', /signing keys could not be fetched/);
    });

    test('a discovery document naming another issuer answers 503 OIDC_PROVIDER_UNAVAILABLE saying the issuer mismatched', async () => {
      h.hp.misbehave({ discovery: (doc) => ({ ...doc, issuer: 'https://idp.attacker.example' }) });
      const b = new Browser();
      const start = await b.get(`${h.appUrl}/login`);
      const body = assertOidcError(start, 503, 'OIDC_PROVIDER_UNAVAILABLE');
      assert.match(body.message, /issuer mismatched/);
      assert.ok(body.message.includes('https://idp.attacker.example') && body.message.includes(h.hp.issuer), body.message);
      assert.equal(h.hp.served.authorization, 0);
      await assertLoggedOut(b, h.appUrl);

      // Discovery is retried: once the provider is fixed, the next login goes through.
      h.hp.misbehave({});
      const retry = await b.get(`${h.appUrl}/login`);
      assert.equal(retry.status, 302);
      assert.equal(new URL(retry.location ?? '').origin, new URL(h.hp.issuer).origin);
    });

    test('req.oidc.fetchUserInfo() rejects a userinfo answer about another sub', async () => {
      const b = new Browser();
      assert.equal((await login(h, b)).page.status, 302);
      const honest = await b.get(`${h.appUrl}/test/userinfo`, ACCEPT_JSON);
      assert.equal(honest.status, 200, honest.body);
      assert.equal((jsonOf(honest) as { sub?: unknown }).sub, 'alice');

      h.hp.misbehave({ userinfo: (info) => ({ ...info, sub: 'mallory' }) });
      const lying = await b.get(`${h.appUrl}/test/userinfo`, ACCEPT_JSON);
      const body = assertOidcError(lying, 502, 'OIDC_USERINFO_INVALID');
      assert.match(body.message, /\bsub\b/);
      assert.ok(!lying.body.includes('mallory'));
      assertNothingSecret(h, lying.body, 'the error body');
      assert.equal(h.hp.served.userinfo, 2);
    });

    test('an authorization response whose iss names another provider is refused before any code exchange (mix-up, RFC 9207)', async () => {
      h.hp.misbehave({
        authorizationResponse: (params) => {
          params.set('iss', 'https://idp.attacker.example');
        },
      });
      const b = new Browser();
      const { page } = await login(h, b);
      await assertRefused(h, b, page, 400, 'OIDC_CALLBACK_INVALID', /\biss\b/);
      assert.equal(h.hp.served.token, 0, 'the code went to no token endpoint');
    });

    test('an authorization response without iss is refused when the provider promises one (RFC 9207)', async () => {
      h.hp.misbehave({
        authorizationResponse: (params) => {
          params.delete('iss');
        },
      });
      const b = new Browser();
      const { page } = await login(h, b);
      await assertRefused(h, b, page, 400, 'OIDC_CALLBACK_INVALID', /\biss\b/);
      assert.equal(h.hp.served.token, 0);
    });

    test('a provider error response is answered without the markup of its error_description', async () => {
      h.hp.misbehave({
        authorizationResponse: (params) => {
          params.delete('code');
          params.set('error', 'invalid_request<img src=x onerror=alert(1)>');
          params.set('error_description', '<script>alert(document.cookie)</script> try again');
        },
      });
      const b = new Browser();
      const { page } = await login(h, b);
      await assertRefused(h, b, page, 400, 'OIDC_AUTHORIZATION_ERROR', /scriptalert\(document\.cookie\)\/script try again/);
      assert.doesNotMatch(page.body, /[<>]|\\u003c|\\u003e/);
      assert.equal(h.hp.served.token, 0);
    });
  });
}

describe('a provider error response on an app without an error handler', () => {
  let h: Hostile;
  beforeEach(async () => {
    h = await hostileSetup('express5', false);
  });
  afterEach(async () => {
    await h.close();
  });

  test("Express's default error page shows the access_denied description without markup", async () => {
    h.hp.misbehave({
      authorizationResponse: (params) => {
        params.delete('code');
        params.set('error', 'access_denied');
        params.set('error_description', '<script>alert(1)</script>');
      },
    });
    const b = new Browser();
    const { page } = await login(h, b);
    assert.equal(page.status, 403);
    assert.doesNotMatch(page.body, /<script|&lt;script/);
    assert.match(page.body, /access_denied/);
    await assertLoggedOut(b, h.appUrl);
  });
});
