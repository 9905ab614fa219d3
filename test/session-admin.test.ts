import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type express from 'express';
import type { Session } from 'express-session';
import { oidcAuth, requiresAuth, type PostLogoutContext } from '../lib/index.js';
import { capturingLogger } from './helpers/app.js';
import { ACCEPT_JSON, assertLoggedInAs, assertLoggedOut, assertOidcError, jsonOf } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';
import { Gate } from './helpers/gates.js';
import { appWithSessionAdmin, providerForInstances, selfServiceRoutes, sharedRedisOptions } from './helpers/instances.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import type { TestProvider } from './helpers/provider.js';
import { REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';

interface Tokens {
  accessToken: string;
  refreshToken?: string;
}

interface SessionRow {
  session: string;
  userAgent?: string;
  loggedInAt: number;
  current: boolean;
}

describe("ending and listing a user's sessions from the app's own code, two instances on Redis", { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let client: RedisClient;
  let op: TestProvider;
  let a: LateServer;
  let b: LateServer;
  const ended: PostLogoutContext[] = [];
  let gate: Gate | undefined;

  function instance(server: LateServer): express.Express {
    return appWithSessionAdmin({ ...sharedRedisOptions(op.issuer, server, client), hooks: { postLogout: (ctx) => void ended.push(ctx) } }, (app, auth) => {
      selfServiceRoutes(app, auth);
      // A request of the session still running when the sessions are ended, which then writes to it.
      app.get(
        '/held',
        requiresAuth(async (req, res) => {
          await gate?.hold();
          (req.session as Session & { note?: string }).note = 'written after the end';
          res.json({ ok: true });
        }),
      );
    });
  }

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

  test("endSessions({ sub }) on A ends the user's three sessions made on A and B, revokes their tokens, runs postLogout once each, and a request in flight brings none back", async () => {
    const sessions = [await loggedIn(a, 'ada'), await loggedIn(a, 'ada'), await loggedIn(b, 'ada')];
    const other = await loggedIn(b, 'bob');
    const tokens = await Promise.all(sessions.map(async (s) => jsonOf(await s.get(`${a.url}/test/tokens`, ACCEPT_JSON)) as Tokens));
    const [, , third] = sessions;
    assert.ok(third !== undefined);
    gate = new Gate('held');
    const held = third.get(`${b.url}/held`, ACCEPT_JSON);
    await gate.arrived;
    ended.length = 0;

    const answer = await new Browser().request(`${a.url}/admin/end-user?sub=ada`, { method: 'POST', headers: ACCEPT_JSON });
    assert.deepEqual(jsonOf(answer), { ended: 3 });
    gate.open();
    await held;
    gate = undefined;

    for (const s of sessions) {
      await assertLoggedOut(s, a.url);
      await assertLoggedOut(s, b.url);
    }
    await assertLoggedInAs(other, a.url, 'bob');
    for (const t of tokens) {
      assert.equal((await op.introspect(t.accessToken)).active, false);
      assert.equal((await op.introspect(t.refreshToken ?? '')).active, false);
    }
    assert.deepEqual(
      ended.map((e) => [e.trigger, e.user?.sub]),
      [
        ['admin', 'ada'],
        ['admin', 'ada'],
        ['admin', 'ada'],
      ],
    );
    assert.equal((await client.keys('sess:*')).length, 1, "only bob's session is left in Redis");
  });

  test("listSessions shows the user's sessions on both instances, without their ids; one ended by its handle logs only that browser out", async () => {
    const first = await loggedIn(a, 'cyd');
    const second = await loggedIn(b, 'cyd');
    const listed = jsonOf(await first.get(`${b.url}/me/sessions`, ACCEPT_JSON)) as SessionRow[];
    assert.equal(listed.length, 2);
    assert.deepEqual(listed.map((row) => row.current).sort(), [false, true]);
    const cookies = (await first.jar.getCookies(a.url)).map((c) => decodeURIComponent(c.value));
    for (const row of listed) {
      assert.match(row.session, /^[\w-]{20,}$/);
      assert.equal(row.userAgent, 'node', 'the User-Agent the browser logged in with (Node\'s fetch says "node")');
      assert.ok(
        cookies.every((cookie) => !cookie.includes(row.session)),
        'a handle is not the session id',
      );
    }
    const other = listed.find((row) => !row.current);
    assert.ok(other !== undefined);
    const answer = await first.request(`${a.url}/me/sessions/end?session=${encodeURIComponent(other.session)}`, { method: 'POST', headers: ACCEPT_JSON });
    assert.deepEqual(jsonOf(answer), { ended: 1 });
    await assertLoggedOut(second, b.url);
    await assertLoggedInAs(first, b.url, 'cyd');
    assert.equal((jsonOf(await first.get(`${a.url}/me/sessions`, ACCEPT_JSON)) as SessionRow[]).length, 1);
  });

  test('a cross-site endSessions request (another Origin, Origin null, Sec-Fetch-Site: cross-site) gets 403 OIDC_CROSS_SITE_REQUEST and ends nothing; same-origin and header-less ones are accepted', async () => {
    const first = await loggedIn(a, 'fay');
    const second = await loggedIn(b, 'fay');
    ended.length = 0;
    const endAll = `${a.url}/admin/end-user?sub=fay`;
    // A sibling subdomain is same-site: only its Origin gives it away. Origin null: a sandboxed frame's form.
    const crossSite = [
      { origin: 'https://evil.example.test' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: new URL(b.url).origin.replace('127.0.0.1', 'localhost') },
    ];
    for (const headers of crossSite) {
      const answer = await first.request(endAll, { method: 'POST', headers: { ...ACCEPT_JSON, ...headers } });
      assertOidcError(answer, 403, 'OIDC_CROSS_SITE_REQUEST');
    }
    await assertLoggedInAs(first, b.url, 'fay');
    await assertLoggedInAs(second, a.url, 'fay');
    assert.deepEqual(ended, [], 'postLogout never ran');

    const sameOrigin = await first.request(endAll, {
      method: 'POST',
      headers: { ...ACCEPT_JSON, origin: new URL(a.url).origin, 'sec-fetch-site': 'same-origin' },
    });
    assert.deepEqual(jsonOf(sameOrigin), { ended: 2 });
    await assertLoggedOut(first, b.url);
    await assertLoggedOut(second, a.url);

    const third = await loggedIn(b, 'fay');
    const headerless = await new Browser().request(endAll, { method: 'POST', headers: ACCEPT_JSON });
    assert.deepEqual(jsonOf(headerless), { ended: 1 }, 'a server-side caller (no Origin, no Sec-Fetch-Site) is accepted');
    await assertLoggedOut(third, b.url);
  });

  test('a handle only ends a session of the user it is given with', async () => {
    const dee = await loggedIn(a, 'dee');
    const eve = await loggedIn(a, 'eve');
    const [deeSession] = jsonOf(await dee.get(`${a.url}/me/sessions`, ACCEPT_JSON)) as SessionRow[];
    assert.ok(deeSession !== undefined);
    const answer = await eve.request(`${a.url}/me/sessions/end?session=${encodeURIComponent(deeSession.session)}`, { method: 'POST', headers: ACCEPT_JSON });
    assert.deepEqual(jsonOf(answer), { ended: 0 });
    await assertLoggedInAs(dee, a.url, 'dee');
  });
});

test('bad selectors and a missing request are refused with OIDC_CONFIG_INVALID, before anything is ended', async () => {
  const auth = oidcAuth({
    issuer: 'https://idp.example.com',
    clientId: 'app',
    clientSecret: 'a-client-secret-for-this-test-0123456789',
    baseUrl: 'https://app.example.com',
    session: { secret: 'a-session-secret-for-this-test-0123456789' },
  });
  const request = { headers: {} } as unknown as express.Request;
  await assert.rejects(auth.endSessions({ sub: '' }, { request }), { code: 'OIDC_CONFIG_INVALID' });
  await assert.rejects(auth.endSessions({ sid: 's', sub: 'x' }, { request }), { code: 'OIDC_CONFIG_INVALID' });
  await assert.rejects(auth.endSessions({ sub: 'x' }, {} as unknown as { request: express.Request }), { code: 'OIDC_CONFIG_INVALID' });
  await assert.rejects(auth.listSessions({ sid: 's' } as unknown as { sub: string }, { request }), { code: 'OIDC_CONFIG_INVALID' });
});

test('a cross-site request is refused before endSessions asks the provider or the index anything', async () => {
  // Nothing listens on port 1: had endSessions looked anything up, it would reject with OIDC_PROVIDER_UNAVAILABLE.
  const auth = oidcAuth({
    issuer: 'https://127.0.0.1:1',
    clientId: 'app',
    clientSecret: 'a-client-secret-for-this-test-0123456789',
    baseUrl: 'https://app.example.com',
    session: { secret: 'a-session-secret-for-this-test-0123456789' },
    logger: capturingLogger().logger,
  });
  const requestWith = (headers: Record<string, string>): express.Request => ({ headers }) as unknown as express.Request;
  for (const headers of [{ origin: 'https://evil.example.com' }, { 'sec-fetch-site': 'cross-site' }]) {
    await assert.rejects(auth.endSessions({ sub: 'x' }, { request: requestWith(headers) }), { code: 'OIDC_CROSS_SITE_REQUEST', status: 403 });
  }
  // The control: a same-origin request gets past the check, to the provider that is down.
  await assert.rejects(auth.endSessions({ sub: 'x' }, { request: requestWith({ origin: 'https://app.example.com', 'sec-fetch-site': 'same-origin' }) }), {
    code: 'OIDC_PROVIDER_UNAVAILABLE',
  });
});
