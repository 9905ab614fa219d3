import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Express, NextFunction, Request, Response } from 'express';
import request from 'supertest';
import {
  baseOptions,
  buildApp,
  capturingLogger,
  CLIENT_ID,
  CLIENT_SECRET,
  FLAVOURS,
  SESSION_SECRET,
  setup,
  setupProviderLater,
  type TestSetup,
} from './helpers/app.js';
import { ACCEPT_JSON } from './helpers/assertions.js';
import { authorize, Browser, cancelAtProvider, deliver, type Page } from './helpers/browser.js';
import { BIND_PREFIX, SESSION_COOKIE, TX_PREFIX } from './helpers/cookies.js';
import { sessionIdFromCookie, WITH_REFRESH_TOKEN } from './helpers/logout.js';
import { logoutClaims, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';

const FRONTCHANNEL = '/frontchannel-logout';

function assertNoStore(res: Pick<Page, 'status' | 'headers'>, status: number, what: string): void {
  assert.equal(res.status, status, what);
  assert.equal(res.headers.get('cache-control'), 'no-store', `${what} (${String(status)}) must carry Cache-Control: no-store`);
}

/** The state of a login just started by this browser (so a callback gets past the state check). */
async function liveState(b: Browser, appUrl: string): Promise<string> {
  const start = await b.get(`${appUrl}/login`);
  return new URL(start.location ?? '').searchParams.get('state') ?? '';
}

/** Express's default error handler prints every error's stack unless env is "test". */
const quietErrors = (app: Express): void => {
  app.set('env', 'test');
};

for (const flavour of FLAVOURS) {
  // No app error handler: errors end on Express's default page, which must keep the header too.
  describe(`Cache-Control: no-store on every answer of the package's routes (${flavour})`, () => {
    let s: TestSetup;
    before(async () => {
      s = await setup({ flavour, options: { routes: { frontchannelLogout: FRONTCHANNEL } }, routes: quietErrors });
    });
    after(async () => {
      await s.close();
    });

    test('login: the redirect to the provider', async () => {
      assertNoStore(await new Browser().get(`${s.appUrl}/login?returnTo=%2Fprofile`), 302, 'GET /login');
    });

    test('callback: success, state mismatch, access_denied, a refused code, a wrong content type and a wrong method', async () => {
      const b = new Browser();
      assertNoStore(await deliver(b, await authorize(b, `${s.appUrl}/login`)), 302, 'a successful callback');
      assertNoStore(await b.get(`${s.appUrl}/callback?code=x&state=not-a-state`), 400, 'a state mismatch');
      const denied = new Browser();
      assertNoStore(await deliver(denied, await cancelAtProvider(denied, `${s.appUrl}/login`)), 403, 'access_denied');
      const refused = new Browser();
      const state = await liveState(refused, s.appUrl);
      assertNoStore(await refused.get(`${s.appUrl}/callback?code=not-a-code&state=${state}&iss=${encodeURIComponent(s.op.issuer)}`), 400, 'a refused code');
      assertNoStore(await b.request(`${s.appUrl}/callback`, { method: 'POST', headers: { 'content-type': 'text/plain' } }), 415, 'POST /callback text/plain');
      assertNoStore(await b.request(`${s.appUrl}/callback`, { method: 'PUT' }), 405, 'PUT /callback');
    });

    test('logout: to the provider, as JSON, without a session, GET (405) and cross-site (403)', async () => {
      const login = async (): Promise<Browser> => {
        const b = new Browser();
        await deliver(b, await authorize(b, `${s.appUrl}/login`));
        return b;
      };
      assertNoStore(await (await login()).request(`${s.appUrl}/logout`, { method: 'POST' }), 303, 'POST /logout');
      assertNoStore(await (await login()).request(`${s.appUrl}/logout`, { method: 'POST', headers: ACCEPT_JSON }), 200, 'POST /logout JSON');
      assertNoStore(await new Browser().request(`${s.appUrl}/logout`, { method: 'POST' }), 303, 'POST /logout without a session');
      assertNoStore(await new Browser().get(`${s.appUrl}/logout`), 405, 'GET /logout');
      assertNoStore(
        await (await login()).request(`${s.appUrl}/logout`, { method: 'POST', headers: { origin: 'https://evil.example' } }),
        403,
        'cross-site POST /logout',
      );
    });

    test('logout straight to postLogoutRedirect (idpLogout: false)', async () => {
      const app = buildApp({ ...baseOptions(s.op.issuer, s.appUrl), logout: { idpLogout: false } }, { flavour });
      const res = await request(app).post('/logout');
      assert.equal(res.status, 303);
      assert.equal(res.headers['location'], `${s.appUrl}/`);
      assert.equal(res.headers['cache-control'], 'no-store');
    });

    test('back-channel logout: 200, 400 and 405', async () => {
      assertNoStore(await postLogoutToken(s.appUrl, await signLogoutToken(s.op, logoutClaims(s.op, 'nobody', 'no-sid'))), 200, 'a valid logout token');
      assertNoStore(await postLogoutToken(s.appUrl, 'not-a-jwt'), 400, 'a bad logout token');
      assertNoStore(await new Browser().get(`${s.appUrl}/backchannel-logout`), 405, 'GET /backchannel-logout');
    });

    test('front-channel logout: 200 and 400', async () => {
      assertNoStore(
        await new Browser().get(`${s.appUrl}${FRONTCHANNEL}?iss=${encodeURIComponent(s.op.issuer)}&sid=no-such-sid`),
        200,
        'a front-channel logout',
      );
      assertNoStore(await new Browser().get(`${s.appUrl}${FRONTCHANNEL}?sid=x`), 400, 'a front-channel logout without iss');
    });

    test('requiresAuth: 401 to a JSON client and the redirect to login for a browser', async () => {
      assertNoStore(await new Browser().get(`${s.appUrl}/profile`, ACCEPT_JSON), 401, 'requiresAuth JSON');
      assertNoStore(await new Browser().get(`${s.appUrl}/profile`, { accept: 'text/html' }), 302, 'requiresAuth browser');
    });

    test('with the provider down: /login answers 503 and /logout its local redirect', async () => {
      const down = await setupProviderLater({ flavour, routes: quietErrors });
      try {
        assertNoStore(await new Browser().get(`${down.appUrl}/login`), 503, 'GET /login, provider down');
        assertNoStore(await new Browser().request(`${down.appUrl}/logout`, { method: 'POST' }), 303, 'POST /logout, provider down');
      } finally {
        await down.close();
      }
    });
  });
}

/** What a leak would look like: the whole value, and for long values the pieces a truncating log might keep. */
function fragments(secret: string): string[] {
  const parts = secret.split('.');
  // A JWT's header is the same for every token of the provider; its payload and signature are its own.
  if (parts.length === 3) return parts.slice(1).filter((p) => p.length >= 16);
  return secret.length >= 24 ? [secret, secret.slice(0, 16), secret.slice(-16)] : [secret];
}

function errorText(err: unknown, depth = 0): string {
  if (depth > 5 || err === undefined) return '';
  // Wrapped, so that JSON.stringify always gives a string (a bare function or symbol gives undefined).
  if (!(err instanceof Error)) return JSON.stringify({ value: err });
  return `${err.name}: ${err.message} | ${errorText(err.cause, depth + 1)}`;
}

const expandErrors = (_key: string, value: unknown): unknown =>
  value instanceof Error ? { name: value.name, text: errorText(value), stack: value.stack } : value;

describe('nothing secret in the logs (every level) or in error messages', () => {
  const { lines, logger } = capturingLogger();
  const errors: unknown[] = [];
  let s: TestSetup;
  before(async () => {
    s = await setup({
      options: { ...WITH_REFRESH_TOKEN, logger },
      jsonErrors: true,
      routes: (app) => {
        app.get('/test/userinfo', (req, res, next) => {
          void req.oidc.fetchUserInfo().then((info) => res.json(info), next);
        });
        app.get('/test/refresh', (req, res, next) => {
          const token = req.oidc.accessToken;
          if (token === undefined) res.status(401).end();
          else void token.refresh().then(() => res.json({ refreshed: true }), next);
        });
        app.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => {
          errors.push(err);
          next(err);
        });
      },
    });
  });
  after(async () => {
    await s.close();
  });

  test('login, userinfo, refresh, a refused refresh, failed callbacks, logout with revocation and back-channel logouts leak no token, code, cookie, session id or secret', async () => {
    const secrets = new Map<string, string>([
      ['client secret', CLIENT_SECRET],
      ['session secret', SESSION_SECRET],
    ]);
    const keep = (name: string, value: string | null | undefined): void => {
      assert.ok(value !== null && value !== undefined && value !== '', `${name} is known to the test`);
      secrets.set(`${name} #${String(secrets.size)}`, value);
    };
    const keepSession = async (b: Browser, name: string): Promise<void> => {
      const cookie = await b.cookie(s.appUrl, SESSION_COOKIE);
      keep(`${name} cookie`, cookie);
      keep(`${name} session id`, sessionIdFromCookie(cookie));
    };
    /** The login cookies of a login in flight: sealed, but still never to be echoed. */
    const keepLoginCookies = async (b: Browser, name: string): Promise<void> => {
      const cookies = (await b.jar.getCookies(`${s.appUrl}/callback`)).filter((c) => c.key.includes(TX_PREFIX) || c.key.includes(BIND_PREFIX));
      assert.equal(cookies.length, 2, `${name}: a login in flight has its two cookies`);
      for (const c of cookies) keep(`${name} ${c.key}`, c.value);
    };
    const keepTokens = async (b: Browser, name: string): Promise<{ idToken: string }> => {
      const tokens = JSON.parse((await b.get(`${s.appUrl}/test/tokens`)).body) as { accessToken: string; refreshToken?: string; idToken: string };
      keep(`${name} access token`, tokens.accessToken);
      keep(`${name} refresh token`, tokens.refreshToken);
      keep(`${name} ID token`, tokens.idToken);
      return tokens;
    };
    const fullLogin = async (user: string): Promise<{ b: Browser; idToken: string; code: string }> => {
      const b = new Browser();
      const answer = await authorize(b, `${s.appUrl}/login`, user);
      await keepLoginCookies(b, `${user} pre-login`);
      const code = new URL(answer.location ?? '').searchParams.get('code') ?? '';
      keep(`${user} authorization code`, code);
      assert.equal((await deliver(b, answer)).status, 302);
      await keepSession(b, user);
      return { b, code, ...(await keepTokens(b, user)) };
    };

    // A full login, a userinfo call, a refresh (debug line) and a logout with revocation.
    const alice = await fullLogin('alice');
    assert.equal((await alice.b.get(`${s.appUrl}/test/userinfo`)).status, 200);
    assert.equal((await alice.b.get(`${s.appUrl}/test/refresh`)).status, 200);
    await keepTokens(alice.b, 'alice refreshed');
    assert.equal((await alice.b.request(`${s.appUrl}/logout`, { method: 'POST' })).status, 303);

    // Failed callbacks: an already redeemed code with a live state, and a fresh code with a wrong state.
    const other = new Browser();
    const state = await liveState(other, s.appUrl);
    await keepLoginCookies(other, 'failed callback');
    assert.equal((await other.get(`${s.appUrl}/callback?code=${alice.code}&state=${state}&iss=${encodeURIComponent(s.op.issuer)}`, ACCEPT_JSON)).status, 400);
    const tampered = new Browser();
    const answer = new URL((await authorize(tampered, `${s.appUrl}/login`, 'erin')).location ?? '');
    keep('erin authorization code', answer.searchParams.get('code'));
    answer.searchParams.set('state', 'not-the-state');
    assert.equal((await tampered.get(answer.href, ACCEPT_JSON)).status, 400);

    // A refresh the provider refuses (the grant was revoked behind the app's back): the session ends.
    const carol = await fullLogin('carol');
    const refreshToken = JSON.parse((await carol.b.get(`${s.appUrl}/test/tokens`)).body) as { refreshToken: string };
    const revoked = await fetch(`${s.op.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: refreshToken.refreshToken }),
    });
    assert.equal(revoked.status, 200);
    assert.equal((await carol.b.get(`${s.appUrl}/test/refresh`, ACCEPT_JSON)).status, 401);

    // Back-channel logouts: one sent by the provider, one signed here, one refused.
    const bob = await fullLogin('bob');
    await s.op.backchannelLogout(CLIENT_ID, 'bob', sidOf(bob.idToken));
    assert.equal((await bob.b.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 401);
    const dave = await fullLogin('dave');
    const valid = await signLogoutToken(s.op, logoutClaims(s.op, 'dave', sidOf(dave.idToken)));
    keep('logout token', valid);
    assert.equal((await postLogoutToken(s.appUrl, valid)).status, 200);
    const refused = await signLogoutToken(s.op, { ...logoutClaims(s.op, 'dave', sidOf(dave.idToken)), aud: 'another-client' });
    keep('refused logout token', refused);
    assert.equal((await postLogoutToken(s.appUrl, refused)).status, 400);

    // The flow reached the places that log: logins, revocation, refresh (debug), refusals, back-channel.
    const text = lines.map((l) => `${l.level} ${l.message}`).join('\n');
    for (const pattern of [/^info .*logged in/m, /revocation/, /^debug .*refresh/m, /^warn .*refresh/m, /back-channel logout refused/, /^info .*back-channel/m])
      assert.match(text, pattern);
    assert.ok(errors.length >= 3, 'the failed callbacks and the refused refresh reached the app as errors');

    const leaks: string[] = [];
    const haystacks = [
      ...lines.map((l) => `log ${l.level} "${l.message}" ${JSON.stringify(l.fields, expandErrors)}`),
      ...errors.map((e) => `error ${errorText(e)}`),
    ];
    for (const [name, secret] of secrets) {
      for (const piece of fragments(secret)) {
        const hit = haystacks.find((h) => h.includes(piece));
        if (hit !== undefined) leaks.push(`${name} in: ${hit.slice(0, 300)}`);
      }
    }
    assert.deepEqual(leaks, []);
  });
});
