import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type express from 'express';
import { CLIENT_ID, clientFor } from './helpers/app.js';
import { ACCEPT_JSON, assertLoggedOut, assertOidcError, jsonOf } from './helpers/assertions.js';
import { Browser, deliver, login } from './helpers/browser.js';
import { appWithSessionAdmin, providerForInstances, sharedRedisOptions } from './helpers/instances.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';
import { REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';
import { browserWithProviderSessionOf, idTokenClaims, nextLogin, promptIgnoringProvider } from './helpers/reauthentication.js';

describe('logout.reauthenticate with two instances on Redis', { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let client: RedisClient;
  let op: TestProvider;
  let a: LateServer;
  let b: LateServer;

  // Without the consent prompt the shared options ask for (a refresh token): a silent login is then visible as such.
  const instance = (server: LateServer): express.Express =>
    appWithSessionAdmin({ ...sharedRedisOptions(op.issuer, server, client), scope: 'openid profile email', authorizationParams: {} });

  before(async () => {
    ({ redis, client } = await startRedisWithClient());
    a = await lateServer();
    b = await lateServer();
    op = await providerForInstances([a, b]);
    a.setHandler(instance(a));
    b.setHandler(instance(b));
  });
  after(async () => {
    await a.close();
    await b.close();
    await op.close();
    await client.quit().catch(() => undefined);
    await redis.close();
  });

  async function loggedIn(server: LateServer, user: string): Promise<Browser> {
    const browser = new Browser();
    assert.equal((await login(browser, `${server.url}/login`, user)).status, 302);
    return browser;
  }

  test('a fresh browser with the provider session logs in silently on the other instance', async () => {
    const first = await loggedIn(a, 'fay');
    const next = await nextLogin(await browserWithProviderSessionOf(first, op.issuer), b.url);
    assert.equal(next.outcome, 'back to the callback');
  });

  test("after the user's own logout on A, the next login on B shows the provider's login form", async () => {
    const browser = await loggedIn(a, 'gus');
    assert.equal((await browser.request(`${a.url}/logout`, { method: 'POST' })).status, 303);
    const next = await nextLogin(browser, b.url);
    assert.equal(next.request.searchParams.get('prompt'), 'login');
    assert.equal(next.outcome, 'login form');
  });

  test('after endSessions({ sub }) on B from another browser, the browser logged in on A is asked for credentials', async () => {
    const browser = await loggedIn(a, 'hal');
    assert.deepEqual(jsonOf(await new Browser().request(`${b.url}/admin/end-user?sub=hal`, { method: 'POST', headers: ACCEPT_JSON })), { ended: 1 });
    await assertLoggedOut(browser, a.url);
    assert.equal((await nextLogin(browser, a.url)).outcome, 'login form');
  });

  test('after a back-channel logout (received by A) of a session made on B, that browser is asked for credentials', async () => {
    const browser = await loggedIn(b, 'ida');
    const { idToken } = jsonOf(await browser.get(`${b.url}/test/tokens`, ACCEPT_JSON)) as { idToken: string };
    await op.backchannelLogout(CLIENT_ID, 'ida', String(idTokenClaims(idToken)['sid']));
    await assertLoggedOut(browser, b.url);
    assert.equal((await nextLogin(browser, b.url, '/profile')).outcome, 'login form');
  });
});

describe('logout.reauthenticate on Redis, at a provider without an end_session_endpoint that reports auth_time', { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let client: RedisClient;
  let op: TestProvider;
  let server: LateServer;

  before(async () => {
    ({ redis, client } = await startRedisWithClient());
    server = await lateServer();
    // Logins 10 minutes old (auth_time), so an answer from the old provider session shows it.
    op = await startTestProvider({
      clients: [clientFor(server.url, { require_auth_time: true })],
      features: { rpInitiatedLogout: { enabled: false } },
      authentication: () => ({ ageSec: 600 }),
    });
    server.setHandler(appWithSessionAdmin({ ...sharedRedisOptions(op.issuer, server, client), scope: 'openid profile email', authorizationParams: {} }));
  });
  after(async () => {
    await server.close();
    await op.close();
    await client.quit().catch(() => undefined);
    await redis.close();
  });

  test("after the user's own logout the next login shows the login form; an answer from the old provider session is refused, and no session reaches Redis", async () => {
    const browser = new Browser();
    assert.equal((await login(browser, `${server.url}/login`, 'jan')).status, 302);
    assert.equal((await browser.request(`${server.url}/logout`, { method: 'POST' })).location, `${server.url}/`);
    assert.equal((await nextLogin(browser, server.url)).outcome, 'login form');
    promptIgnoringProvider(op);
    const next = await nextLogin(browser, server.url);
    assert.equal(next.outcome, 'back to the callback', 'the provider ignored prompt=login');
    assertOidcError(await deliver(browser, next.page), 403, 'OIDC_REAUTHENTICATION_FAILED');
    await assertLoggedOut(browser, server.url);
    assert.deepEqual(await client.keys('sess:*'), [], 'no session was stored');
  });
});
