import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { baseOptions, buildApp, capturingLogger, setup } from './helpers/app.js';
import { loggedIn } from './helpers/logout.js';
import { assertLoggedInAs, assertLoggedOut, assertOidcError } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { startHostileProvider } from './helpers/hostile-provider.js';
import { lateServer } from './helpers/late-server.js';

/**
 * client_secret_basic (the default) against both kinds of token endpoint seen in the field:
 * one that form-urldecodes the Basic credentials as RFC 6749 §2.3.1 says, and one that reads
 * them as they come. Real client ids hold "-", "_", "." and "~".
 */
async function logsIn(clientId: string, clientSecret: string, basicDecoding: 'form' | 'none'): Promise<{ status: number; tokenRequests: number }> {
  const appServer = await lateServer();
  const hp = await startHostileProvider({ clientId, clientSecret, redirectUri: `${appServer.url}/callback`, basicDecoding });
  try {
    appServer.setHandler(buildApp({ ...baseOptions(hp.issuer, appServer.url), clientId, clientSecret }, { jsonErrors: true }));
    const b = new Browser();
    const start = await b.get(`${appServer.url}/login`);
    assert.equal(start.status, 302, start.body);
    const answer = await b.get(start.location ?? '');
    assert.equal(answer.status, 302, `the provider's authorization endpoint answered ${String(answer.status)}`);
    const callback = await b.get(answer.location ?? '', { accept: 'application/json' });
    if (callback.status === 302) await assertLoggedInAs(b, appServer.url, 'alice');
    return { status: callback.status, tokenRequests: hp.served.token };
  } finally {
    await appServer.close();
    await hp.server.close();
  }
}

describe('client_secret_basic with ordinary client ids and secrets', () => {
  for (const decoding of ['form', 'none'] as const) {
    const provider = decoding === 'form' ? 'a provider that form-urldecodes Basic credentials' : 'a provider that reads Basic credentials as they come';
    test(`a client id with - _ . ~ and a secret with - _ . ~ ! * ' ( ) log in at ${provider}`, async () => {
      const result = await logsIn('interop-rp_1.app~x', "s3cret-value_with.some~chars!*'()", decoding);
      assert.deepEqual(result, { status: 302, tokenRequests: 1 });
    });
  }

  test('a secret with ":", "%", "+" and a space still logs in at a provider that decodes (they must be encoded)', async () => {
    const result = await logsIn('my-app', 'a:b%c+d e-0123456789abcdef', 'form');
    assert.deepEqual(result, { status: 302, tokenRequests: 1 });
  });

  // A base64 secret holds + / =; no single form of the Basic header reads the same at both kinds of provider.
  const BASE64ISH = 'Zm9v+YmFy/YmF6==:50%off-secret';
  test('a secret with + / = : % logs in at a provider that decodes, on the first token request', async () => {
    assert.deepEqual(await logsIn('interop-rp', BASE64ISH, 'form'), { status: 302, tokenRequests: 1 });
  });

  test('a secret with + / = : % logs in at a provider that does not decode: the refused form is retried once in the other, which is kept', async () => {
    const appServer = await lateServer();
    const hp = await startHostileProvider({ clientId: 'interop-rp', clientSecret: BASE64ISH, redirectUri: `${appServer.url}/callback`, basicDecoding: 'none' });
    try {
      appServer.setHandler(buildApp({ ...baseOptions(hp.issuer, appServer.url), clientId: 'interop-rp', clientSecret: BASE64ISH }, { jsonErrors: true }));
      for (const [login, expectedTokenRequests] of [
        [1, 2],
        [2, 3],
      ] as const) {
        const b = new Browser();
        const start = await b.get(`${appServer.url}/login`);
        const answer = await b.get(start.location ?? '');
        const callback = await b.get(answer.location ?? '', { accept: 'application/json' });
        assert.equal(callback.status, 302, `login ${String(login)}: ${callback.body}`);
        assert.equal(hp.served.token, expectedTokenRequests, login === 1 ? 'the encoded form, refused, then the raw one' : 'the raw form at once');
        await assertLoggedInAs(b, appServer.url, 'alice');
      }
    } finally {
      await appServer.close();
      await hp.server.close();
    }
  });

  test('a wrong secret with + / = : % is tried in both forms, then refused with the client-authentication message', async () => {
    const appServer = await lateServer();
    const hp = await startHostileProvider({ clientId: 'interop-rp', clientSecret: BASE64ISH, redirectUri: `${appServer.url}/callback`, basicDecoding: 'none' });
    try {
      appServer.setHandler(
        buildApp({ ...baseOptions(hp.issuer, appServer.url), clientId: 'interop-rp', clientSecret: `${BASE64ISH}+wrong` }, { jsonErrors: true }),
      );
      const b = new Browser();
      const start = await b.get(`${appServer.url}/login`);
      const answer = await b.get(start.location ?? '');
      const callback = await b.get(answer.location ?? '', { accept: 'application/json' });
      assert.match(assertOidcError(callback, 500, 'OIDC_CONFIG_INVALID').message, /client authentication/);
      assert.equal(hp.served.token, 2, 'both forms, no more');
    } finally {
      await appServer.close();
      await hp.server.close();
    }
  });

  const refusals: [string, { status: number; error: string; challenge?: string }][] = [
    ['400 invalid_client', { status: 400, error: 'invalid_client' }],
    ['400 unauthorized_client', { status: 400, error: 'unauthorized_client' }],
    ['401 with a WWW-Authenticate challenge', { status: 401, error: 'invalid_client', challenge: 'Basic realm="idp"' }],
  ];
  for (const [shape, clientRefusal] of refusals) {
    test(`a wrong secret refused with ${shape} answers 500 OIDC_CONFIG_INVALID naming client authentication, the options to check and what the provider supports`, async () => {
      const appServer = await lateServer();
      const hp = await startHostileProvider({
        clientId: 'my-app',
        clientSecret: 'the-real-secret-0123456789',
        redirectUri: `${appServer.url}/callback`,
        clientRefusal,
      });
      try {
        const { lines, logger } = capturingLogger();
        appServer.setHandler(
          buildApp({ ...baseOptions(hp.issuer, appServer.url), clientId: 'my-app', clientSecret: 'another-secret-0123456789', logger }, { jsonErrors: true }),
        );
        const b = new Browser();
        const start = await b.get(`${appServer.url}/login`);
        const answer = await b.get(start.location ?? '');
        const callback = await b.get(answer.location ?? '', { accept: 'application/json' });
        const body = assertOidcError(callback, 500, 'OIDC_CONFIG_INVALID');
        assert.match(body.message, /client authentication/);
        assert.match(body.message, /"clientSecret"/);
        assert.match(body.message, /"clientAuthMethod" \(now client_secret_basic\)/);
        assert.match(body.message, /it supports: client_secret_basic/);
        assert.ok(!body.message.includes('another-secret') && !body.message.includes('the-real-secret'), 'no secret in the message');
        const warned = lines.filter((l) => l.level === 'warn').map((l) => String(l.fields['reason']));
        assert.ok(
          warned.some((r) => r.includes('client authentication')),
          `the log says it too: ${JSON.stringify(warned)}`,
        );
        assert.equal(hp.served.token, 1);
        await assertLoggedOut(b, appServer.url);
      } finally {
        await appServer.close();
        await hp.server.close();
      }
    });
  }

  test('a secret with + / = : % logs in and out (revocation included) with oidc-provider, which decodes', async () => {
    const s = await setup({ client: { client_secret: BASE64ISH }, options: { clientSecret: BASE64ISH } });
    try {
      const { browser } = await loggedIn(s, 'alice');
      await assertLoggedInAs(browser, s.appUrl, 'alice');
      const logout = await browser.request(`${s.appUrl}/logout`, { method: 'POST', headers: { accept: 'application/json' } });
      assert.equal(logout.status, 200);
      await assertLoggedOut(browser, s.appUrl);
    } finally {
      await s.close();
    }
  });
});
