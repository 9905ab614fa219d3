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
      const b = new Browser({ navigations: true });
      const callback = await login(b, `${s.appUrl}/login`, 'alice');
      assert.equal(callback.status, 302, callback.body);
      assert.equal((jsonOf(await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)) as { sub: string }).sub, 'alice');
      const authorization = seen.find(({ method, url }) => method === 'GET' && url.pathname === '/auth');
      assert.ok(authorization !== undefined, `no authorization request reached the provider (${seen.map((r) => r.url.pathname).join(', ')})`);
      assert.deepEqual([...authorization.url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
      assert.match(authorization.url.searchParams.get('request_uri') ?? '', /^urn:ietf:params:oauth:request_uri:/);
      assert.equal(seen.filter(({ method, url }) => method === 'POST' && url.pathname === '/request').length, 1, 'the parameters were pushed first, once');
    });

    test("1,000 GET /login that are not browser navigations make no call to the provider: 400 OIDC_NAVIGATION_REQUIRED, or 401 for a page's fetch", async () => {
      // A navigation first, so discovery is done: what follows must cost the provider nothing at all.
      assert.equal((await new Browser({ navigations: true }).get(`${s.appUrl}/login`)).status, 302);
      const seen = recordProviderRequests(s.op);
      // Node's fetch, like curl and most bots, sends no Sec-Fetch-Dest; a page's fetch says "empty"; a client asking for JSON.
      const kinds: Record<string, string>[] = [{}, { 'sec-fetch-dest': 'empty' }, ACCEPT_JSON];
      const answers: { status: number; code: string | undefined; cookies: number }[] = [];
      for (let sent = 0; sent < 1000; sent += 50) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const res = await fetch(`${s.appUrl}/login?returnTo=/profile`, { headers: kinds[(sent + i) % kinds.length] ?? {} });
            const body = (await res.json()) as { code?: string };
            return { status: res.status, code: body.code, cookies: res.headers.getSetCookie().length };
          }),
        );
        answers.push(...batch);
      }
      assert.equal(answers.length, 1000);
      assert.deepEqual(
        seen.map(({ method, url }) => `${method} ${url.pathname}`),
        [],
        'no request reached the provider',
      );
      assert.deepEqual(new Set(answers.map((a) => `${String(a.status)} ${a.code ?? ''}`)), new Set(['400 OIDC_NAVIGATION_REQUIRED', '401 ']));
      assert.equal(answers.filter((a) => a.cookies > 0).length, 0, 'and no cookie was set');
      const refused = await fetch(`${s.appUrl}/login`);
      assert.match(((await refused.json()) as { message: string }).message, /only starts from a browser opening this page .*Sec-Fetch-Mode: navigate/);
    });
  });
}

describe('pushedAuthorizationRequests: true at a provider without a PAR endpoint', () => {
  let s: TestSetup;
  before(async () => {
    s = await setup({
      jsonErrors: true,
      options: { pushedAuthorizationRequests: true },
      provider: { features: { pushedAuthorizationRequests: { enabled: false } } },
    });
  });
  after(async () => {
    await s.close();
  });

  test('the login fails with OIDC_CONFIG_INVALID naming the option, and sets no cookie', async () => {
    const page = await new Browser({ navigations: true }).get(`${s.appUrl}/login`);
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
    const page = await new Browser({ navigations: true }).get(`${s.appUrl}/login`);
    const body = assertOidcError(page, 500, 'OIDC_CONFIG_INVALID');
    assert.match(
      body.message,
      /refused the app's client authentication \(a 401 challenge\) at its pushed authorization request endpoint: check "clientId", "clientSecret" and "clientAuthMethod"/,
    );
    assert.doesNotMatch(body.message, /not-the-secret/);
    assert.deepEqual(page.headers.getSetCookie(), []);
  });
});

describe('pushed authorization requests with attemptSilentLogin', () => {
  let s: TestSetup;
  before(async () => {
    s = await setup({
      jsonErrors: true,
      options: { pushedAuthorizationRequests: true, attemptSilentLogin: true },
      provider: { features: { pushedAuthorizationRequests: { enabled: true } } },
    });
  });
  after(async () => {
    await s.close();
  });

  test('a client without Fetch Metadata gets the page, anonymous, and the provider hears nothing; a browser navigation is sent to a silent login, pushed', async () => {
    const seen = recordProviderRequests(s.op);
    const bot = await fetch(`${s.appUrl}/`, { headers: { accept: 'text/html' } });
    assert.equal(bot.status, 200);
    assert.deepEqual(await bot.json(), { page: 'home', authenticated: false, logoutCompleted: false });
    assert.equal(seen.length, 0, 'no request reached the provider');
    const page = await new Browser({ navigations: true }).get(`${s.appUrl}/`);
    assert.equal(page.status, 302);
    assert.equal(new URL(page.location ?? '').pathname, '/auth');
    assert.equal(seen.filter(({ method, url }) => method === 'POST' && url.pathname === '/request').length, 1);
  });
});
