import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, mock, test } from 'node:test';
import { setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, jsonOf } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';
import { startDpopResource, type DpopResource, type ResourceCall } from './helpers/dpop-resource.js';
import { WITH_REFRESH_TOKEN } from './helpers/logout.js';
import { recordProviderRequests, type ProviderRequest } from './helpers/provider-requests.js';
import { buildApp, clientFor } from './helpers/app.js';
import { sharedRedisOptions } from './helpers/instances.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';
import { REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';

interface Tokens {
  accessToken: string;
  refreshToken?: string;
}

afterEach(() => {
  mock.timers.reset();
});

describe('DPoP (RFC 9449) at a provider that requires it for this client', () => {
  let s: TestSetup;
  let resource: DpopResource;
  before(async () => {
    s = await setup({
      jsonErrors: true,
      options: { ...WITH_REFRESH_TOKEN, dpop: true },
      client: { dpop_bound_access_tokens: true },
      provider: { features: { dPoP: { enabled: true } } },
      routes: (app) => {
        app.get('/test/userinfo', (req, res, next) => {
          req.oidc.fetchUserInfo().then((info) => res.json({ sub: info.sub, tokenType: req.oidc.accessToken?.tokenType }), next);
        });
        app.get('/api/resource', (req, res, next) => {
          req.oidc.callApi(`${resource.url}/resource`).then(async (answer) => {
            res.status(answer.status).json(await answer.json());
          }, next);
        });
      },
    });
    resource = await startDpopResource(s.op);
  });
  after(async () => {
    await resource.close();
    await s.close();
  });

  async function tokensOf(b: Browser): Promise<Tokens> {
    return jsonOf(await b.get(`${s.appUrl}/test/tokens`, ACCEPT_JSON)) as Tokens;
  }

  test("the tokens are bound to the session's key: a call through req.oidc.callApi() passes, the token alone does not", async () => {
    const b = new Browser();
    assert.equal((await login(b, `${s.appUrl}/login`, 'alice')).status, 302);
    const { accessToken } = await tokensOf(b);
    const introspection = await s.op.introspect(accessToken);
    assert.equal(introspection.active, true);
    assert.equal(typeof (introspection['cnf'] as { jkt?: unknown } | undefined)?.jkt, 'string', 'the provider bound the token to a key');

    const call = await b.get(`${s.appUrl}/api/resource`, ACCEPT_JSON);
    assert.equal(call.status, 200, call.body);
    assert.equal((jsonOf(call) as ResourceCall).jkt, (introspection['cnf'] as { jkt: string }).jkt);

    const stolenAsBearer = await fetch(`${resource.url}/resource`, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(stolenAsBearer.status, 401);
    const stolenWithoutProof = await fetch(`${resource.url}/resource`, { headers: { authorization: `DPoP ${accessToken}` } });
    assert.equal(stolenWithoutProof.status, 401);
    assert.equal(((await stolenWithoutProof.json()) as ResourceCall).reason, 'no proof');
  });

  test('after the access token expires, getAccessToken() refreshes with a proof from the same key, and the new token works', async () => {
    const b = new Browser();
    await login(b, `${s.appUrl}/login`, 'alice');
    const before = await tokensOf(b);
    const jkt = (await s.op.introspect(before.accessToken))['cnf'] as { jkt: string };
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 3601 * 1000 });
    const call = await b.get(`${s.appUrl}/api/resource`, ACCEPT_JSON);
    assert.equal(call.status, 200, call.body);
    const after = await tokensOf(b);
    assert.notEqual(after.accessToken, before.accessToken, 'refreshed');
    assert.deepEqual((await s.op.introspect(after.accessToken))['cnf'], jkt, 'bound to the same session key');
  });

  test('logout revokes the DPoP-bound tokens: the provider calls them inactive', async () => {
    const b = new Browser();
    await login(b, `${s.appUrl}/login`, 'alice');
    const { accessToken, refreshToken } = await tokensOf(b);
    assert.ok(refreshToken !== undefined);
    assert.equal((await b.request(`${s.appUrl}/logout`, { method: 'POST', headers: ACCEPT_JSON })).status, 200);
    assert.equal((await s.op.introspect(accessToken)).active, false);
    assert.equal((await s.op.introspect(refreshToken)).active, false);
  });

  test('userinfo, which the provider also guards with DPoP, is called with a proof; the token type says dpop', async () => {
    const b = new Browser();
    await login(b, `${s.appUrl}/login`, 'alice');
    const info = await b.get(`${s.appUrl}/test/userinfo`, ACCEPT_JSON);
    assert.equal(info.status, 200, info.body);
    assert.deepEqual(jsonOf(info), { sub: 'alice', tokenType: 'dpop' }, 'openid-client lowercases token_type');
  });
});

describe('DPoP nonces (RFC 9449 section 8): a provider that wants its own fresh nonce in every proof', () => {
  let s: TestSetup;
  let requests: ProviderRequest[] = [];
  before(async () => {
    s = await setup({
      jsonErrors: true,
      options: { ...WITH_REFRESH_TOKEN, dpop: true },
      client: { dpop_bound_access_tokens: true },
      provider: { features: { dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true } } },
      routes: (app) => {
        app.get('/test/userinfo', (req, res, next) => {
          req.oidc.fetchUserInfo().then((info) => res.json({ sub: info.sub }), next);
        });
      },
    });
    requests = recordProviderRequests(s.op);
  });
  after(async () => {
    await s.close();
  });

  test("the code and the refresh token are each exchanged after one retry with the provider's nonce, and the tokens stay bound to the session key", async () => {
    const tokenRequests = (): ProviderRequest[] => requests.filter(({ method, url }) => method === 'POST' && url.pathname === '/token');
    const b = new Browser();
    const callback = await login(b, `${s.appUrl}/login`, 'alice');
    assert.equal(callback.status, 302, callback.body);
    assert.deepEqual(
      tokenRequests().map(({ body }) => new URLSearchParams(body).get('grant_type')),
      ['authorization_code', 'authorization_code'],
      'refused for want of a nonce, then sent again with it',
    );
    const before = jsonOf(await b.get(`${s.appUrl}/test/tokens`, ACCEPT_JSON)) as Tokens;
    const bound = (await s.op.introspect(before.accessToken))['cnf'];

    mock.timers.enable({ apis: ['Date'], now: Date.now() + 3601 * 1000 });
    const refreshed = await b.get(`${s.appUrl}/api/token`, ACCEPT_JSON);
    assert.equal(refreshed.status, 200, refreshed.body);
    assert.deepEqual(
      tokenRequests()
        .slice(2)
        .map(({ body }) => new URLSearchParams(body).get('grant_type')),
      ['refresh_token', 'refresh_token'],
    );
    const after = jsonOf(await b.get(`${s.appUrl}/test/tokens`, ACCEPT_JSON)) as Tokens;
    assert.notEqual(after.accessToken, before.accessToken);
    assert.deepEqual((await s.op.introspect(after.accessToken))['cnf'], bound);
  });

  test('a session keeps its handle and the nonce it learned: userinfo twice after login is one request each, not a refused proof and a retry', async () => {
    const b = new Browser();
    assert.equal((await login(b, `${s.appUrl}/login`, 'alice')).status, 302);
    const userinfoRequests = (): number => requests.filter(({ url }) => url.pathname === '/me').length;
    const before = userinfoRequests();
    for (let call = 0; call < 2; call++) {
      const info = await b.get(`${s.appUrl}/test/userinfo`, ACCEPT_JSON);
      assert.equal(info.status, 200, info.body);
    }
    assert.equal(userinfoRequests() - before, 2, "the token response's nonce served the first call, the first call's the second");
  });
});

describe('a provider that requires DPoP, and an app without dpop: true', () => {
  let s: TestSetup;
  before(async () => {
    s = await setup({ jsonErrors: true, client: { dpop_bound_access_tokens: true }, provider: { features: { dPoP: { enabled: true } } } });
  });
  after(async () => {
    await s.close();
  });

  test('the login fails, and since oidc-provider only says invalid_grant, the message says what it may mean', async () => {
    const b = new Browser();
    const page = await login(b, `${s.appUrl}/login`, 'alice');
    assert.equal(page.status, 400, page.body);
    const body = jsonOf(page) as { code: string; message: string };
    assert.equal(body.code, 'OIDC_CALLBACK_INVALID');
    assert.match(body.message, /\(invalid_grant\).*If the provider binds this client's tokens with DPoP, set "dpop: true"\./);
    assert.equal((await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 401);
  });
});

describe('DPoP with two instances sharing Redis', { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let client: RedisClient;
  let op: TestProvider;
  let a: LateServer;
  let b: LateServer;
  let resource: DpopResource;

  before(async () => {
    ({ redis, client } = await startRedisWithClient());
    a = await lateServer();
    b = await lateServer();
    op = await startTestProvider({
      clients: [
        {
          ...clientFor(a.url),
          redirect_uris: [a, b].map((x) => `${x.url}/callback`),
          post_logout_redirect_uris: [a, b].map((x) => `${x.url}/`),
          dpop_bound_access_tokens: true,
        },
      ],
      features: { dPoP: { enabled: true } },
    });
    resource = await startDpopResource(op);
    for (const server of [a, b]) {
      server.setHandler(
        buildApp(
          { ...sharedRedisOptions(op.issuer, server, client), dpop: true },
          {
            jsonErrors: true,
            routes: (app) => {
              app.get('/api/resource', (req, res, next) => {
                req.oidc.callApi(`${resource.url}/resource`).then(async (answer) => {
                  res.status(answer.status).json(await answer.json());
                }, next);
              });
            },
          },
        ),
      );
    }
  });
  after(async () => {
    await a.close();
    await b.close();
    await resource.close();
    await op.close();
    await client.quit().catch(() => undefined);
    await redis.close();
  });

  test("logged in through A, the expired token is refreshed through B with the session's own key, and B's call passes", async () => {
    const browser = new Browser();
    assert.equal((await login(browser, `${a.url}/login`, 'alice')).status, 302);
    const first = await browser.get(`${a.url}/api/resource`, ACCEPT_JSON);
    assert.equal(first.status, 200, first.body);
    const jkt = (jsonOf(first) as ResourceCall).jkt;
    const before = (jsonOf(await browser.get(`${a.url}/test/tokens`, ACCEPT_JSON)) as Tokens).accessToken;
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 3601 * 1000 });
    const throughB = await browser.get(`${b.url}/api/resource`, ACCEPT_JSON);
    assert.equal(throughB.status, 200, throughB.body);
    assert.equal((jsonOf(throughB) as ResourceCall).jkt, jkt, 'the same key on both instances');
    const after = (jsonOf(await browser.get(`${a.url}/test/tokens`, ACCEPT_JSON)) as Tokens).accessToken;
    assert.notEqual(after, before, 'B refreshed, and A sees the new token');
  });
});
