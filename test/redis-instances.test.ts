import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import { redisSessionIndex } from '../lib/index.js';
import { ACCEPT_JSON, assertLoggedInAs, assertLoggedOut } from './helpers/assertions.js';
import { buildApp } from './helpers/app.js';
import { authorize, Browser, deliver, login } from './helpers/browser.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { providerForInstances, sharedRedisOptions } from './helpers/instances.js';
import { logoutClaims, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';
import { type TestProvider } from './helpers/provider.js';
import { REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';

describe('several app instances sharing Redis', { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let client: RedisClient;
  let op: TestProvider;
  let a: LateServer;
  let b: LateServer;

  before(async () => {
    ({ redis, client } = await startRedisWithClient());
    a = await lateServer();
    b = await lateServer();
    // Both instances are the same client; the back-channel URI points at instance A only.
    op = await providerForInstances([a, b]);
    for (const server of [a, b]) server.setHandler(buildApp(sharedRedisOptions(op.issuer, server, client), { jsonErrors: true }));
  });

  after(async () => {
    await a.close();
    await b.close();
    await op.close();
    await client.quit().catch(() => undefined);
    await redis.close();
  });

  async function userKeys(sub: string): Promise<string[]> {
    const keys = [...(await client.keys('sess:*')), ...(await client.keys(`oidc:sub:*${sub}`)), ...(await client.keys('oidc:sid:*'))];
    return keys.sort();
  }

  test('log in through A, use through B; logout through B ends it on A and leaves no key of that user in Redis', async () => {
    const browser = new Browser();
    const callback = await login(browser, `${a.url}/login`, 'erin');
    assert.equal(callback.status, 302);
    await assertLoggedInAs(browser, b.url, 'erin');
    assert.ok((await userKeys('erin')).length >= 2, 'the session and its index entries are in Redis');

    const answer = await browser.request(`${b.url}/logout`, { method: 'POST' });
    assert.equal(answer.status, 303);
    await assertLoggedOut(browser, a.url);
    assert.deepEqual(await userKeys('erin'), []);
  });

  test('a back-channel logout delivered to A ends a session created through B, and leaves no key behind', async () => {
    const browser = new Browser();
    assert.equal((await login(browser, `${b.url}/login`, 'frank')).status, 302);
    const tokens = JSON.parse((await browser.get(`${b.url}/test/tokens`)).body) as { idToken: string };
    await op.backchannelLogout('test-app', 'frank', sidOf(tokens.idToken));
    await assertLoggedOut(browser, b.url);
    await assertLoggedOut(browser, a.url);
    assert.deepEqual(await userKeys('frank'), []);
  });

  test('a logout token replayed to the other instance is refused: the replay memory is shared', async () => {
    const browser = new Browser();
    assert.equal((await login(browser, `${a.url}/login`, 'gina')).status, 302);
    const tokens = JSON.parse((await browser.get(`${a.url}/test/tokens`)).body) as { idToken: string };
    const token = await signLogoutToken(op, logoutClaims(op, 'gina', sidOf(tokens.idToken)));
    assert.equal((await postLogoutToken(a.url, token)).status, 200);
    const replay = await postLogoutToken(b.url, token);
    assert.equal(replay.status, 400);
    assert.match(((await replay.json()) as { error_description: string }).error_description, /already used/);
  });

  test('20 concurrent requests with an expired access token, spread over both instances, cause exactly one refresh grant', async () => {
    const browser = new Browser();
    assert.equal((await login(browser, `${a.url}/login`, 'ivy')).status, 302);
    const grants = (): number => op.events.filter((e) => e === 'grant.success').length;
    const before = grants();
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 3601 * 1000 });
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => browser.get(`${(i % 2 === 0 ? a : b).url}/api/token`, ACCEPT_JSON)));
      assert.deepEqual(
        answers.map((r) => r.status),
        Array<number>(20).fill(200),
      );
      assert.equal(grants() - before, 1);
      assert.equal(new Set(answers.map((r) => (JSON.parse(r.body) as { token: string }).token)).size, 1, 'every request got the same new token');
    } finally {
      mock.timers.reset();
    }
  });

  test('a claim that outlived its ttl and was taken by another instance is not released by the first one', async () => {
    const first = redisSessionIndex(client);
    const second = redisSessionIndex(client);
    assert.equal(await first.claimOnce('refresh:lapsed', 50), true);
    for (let i = 0; i < 50 && (await client.exists('oidc:once:refresh:lapsed')) === 1; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await second.claimOnce('refresh:lapsed', 60_000), true, 'the lapsed claim can be taken');
    await first.release('refresh:lapsed');
    assert.equal(await second.claimOnce('refresh:lapsed', 60_000), false, 'still held by the second instance');
    await second.release('refresh:lapsed');
    assert.equal(await first.claimOnce('refresh:lapsed', 60_000), true, 'released by its owner');
    await first.release('refresh:lapsed');
  });

  test('Redis stopped: /login still redirects (it stores nothing); the callback, logout, back-channel logout and sessions answer 503 within a bound; restarted, everything works again', async () => {
    const browser = new Browser();
    assert.equal((await login(browser, `${a.url}/login`, 'hank')).status, 302);
    const tokens = JSON.parse((await browser.get(`${a.url}/test/tokens`)).body) as { idToken: string };
    const sid = sidOf(tokens.idToken);
    const newcomer = new Browser();
    const answer = await authorize(newcomer, `${a.url}/login`, 'ivy');

    await redis.stop();
    const started = Date.now();
    const logoutToken = await signLogoutToken(op, logoutClaims(op, 'hank', sid));
    // Each waits for the store bound on its own: sent at once, they wait side by side. The
    // logged-in browser's two requests stay in order (one cookie jar).
    const [[profile, logout], loginAttempt, callback, backchannel] = await Promise.all([
      (async () =>
        [await browser.get(`${a.url}/profile`, ACCEPT_JSON), await browser.request(`${b.url}/logout`, { method: 'POST', headers: ACCEPT_JSON })] as const)(),
      new Browser().get(`${a.url}/login`),
      deliver(newcomer, answer),
      postLogoutToken(a.url, logoutToken),
    ]);
    assert.equal(profile.status, 503);
    assert.equal((JSON.parse(profile.body) as { code: string }).code, 'OIDC_SESSION_STORE_FAILED');
    assert.equal(loginAttempt.status, 302, 'a login transaction lives in cookies, not in the store');
    assert.equal(callback.status, 503, 'the session a successful login creates cannot be stored');
    assert.equal(logout.status, 503);
    assert.equal(backchannel.status, 503);
    assert.equal(((await backchannel.json()) as { error: string }).error, 'temporarily_unavailable');
    assert.ok(Date.now() - started < 5 * 5000, 'each answer came within the store bound');

    await redis.start();
    for (let i = 0; i < 100 && !client.isReady; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(client.isReady, 'node-redis reconnected');
    // The test's redis-server keeps nothing on disk, so the old session is gone: an answer, not an error.
    assert.equal((await browser.get(`${b.url}/profile`, ACCEPT_JSON)).status, 401);
    const fresh = new Browser();
    assert.equal((await login(fresh, `${b.url}/login`, 'hank')).status, 302);
    await assertLoggedInAs(fresh, a.url, 'hank');
    assert.equal((await postLogoutToken(a.url, await signLogoutToken(op, logoutClaims(op, 'hank', undefined)))).status, 200);
    await assertLoggedOut(fresh, b.url);
  });
});
