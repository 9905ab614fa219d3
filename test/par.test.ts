import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, assertOidcError, jsonOf } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';
import { recordProviderRequests } from './helpers/provider-requests.js';

for (const [name, requiredByProvider, option] of [
  ['a provider that requires PAR', true, false],
  ['pushedAuthorizationRequests: true at a provider that only offers PAR', false, true],
] as const) {
  describe(`pushed authorization requests (RFC 9126): ${name}`, () => {
    let s: TestSetup;
    before(async () => {
      s = await setup({
        jsonErrors: true,
        options: option ? { pushedAuthorizationRequests: true } : {},
        provider: { features: { pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: requiredByProvider } } },
      });
    });
    after(async () => {
      await s.close();
    });

    test('login works, and the authorization request the browser carries has only client_id and request_uri', async () => {
      const seen = recordProviderRequests(s.op);
      const b = new Browser();
      const callback = await login(b, `${s.appUrl}/login`, 'alice');
      assert.equal(callback.status, 302, callback.body);
      assert.equal((jsonOf(await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)) as { sub: string }).sub, 'alice');
      const authorization = seen.find(({ method, url }) => method === 'GET' && url.pathname === '/auth');
      assert.ok(authorization !== undefined, `no authorization request reached the provider (${seen.map((r) => r.url.pathname).join(', ')})`);
      assert.deepEqual([...authorization.url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
      assert.match(authorization.url.searchParams.get('request_uri') ?? '', /^urn:ietf:params:oauth:request_uri:/);
      assert.ok(seen.some(({ method, url }) => method === 'POST' && url.pathname === '/request'), 'the parameters were pushed first');
    });
  });
}

describe('pushedAuthorizationRequests: true at a provider without a PAR endpoint', () => {
  let s: TestSetup;
  before(async () => {
    s = await setup({ jsonErrors: true, options: { pushedAuthorizationRequests: true }, provider: { features: { pushedAuthorizationRequests: { enabled: false } } } });
  });
  after(async () => {
    await s.close();
  });

  test('the login fails with OIDC_CONFIG_INVALID naming the option, and sets no cookie', async () => {
    const page = await new Browser().get(`${s.appUrl}/login`);
    const body = assertOidcError(page, 500, 'OIDC_CONFIG_INVALID');
    assert.match(body.message, /pushedAuthorizationRequests is on, but the provider publishes no pushed_authorization_request_endpoint/);
    assert.deepEqual(page.headers.getSetCookie(), []);
  });
});

describe('a provider that refuses the pushed request', () => {
  let s: TestSetup;
  before(async () => {
    s = await setup({
      jsonErrors: true,
      options: { clientSecret: 'not-the-secret-the-provider-knows-0123456789' },
      provider: { features: { pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true } } },
    });
  });
  after(async () => {
    await s.close();
  });

  test('a refused client authentication says which options to check, and nothing is set', async () => {
    const page = await new Browser().get(`${s.appUrl}/login`);
    const body = assertOidcError(page, 500, 'OIDC_CONFIG_INVALID');
    assert.match(body.message, /refused the app's client authentication \(a 401 challenge\) at its pushed authorization request endpoint: check "clientId", "clientSecret" and "clientAuthMethod"/);
    assert.doesNotMatch(body.message, /not-the-secret/);
    assert.deepEqual(page.headers.getSetCookie(), []);
  });
});
