import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { oidcAuth, OidcAuthError } from '../lib/index.js';
import { baseOptions, setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, jsonOf } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';
import { recordProviderRequests, type ProviderRequest } from './helpers/provider-requests.js';

for (const pushed of [false, true]) {
  describe(`signed request objects (RFC 9101)${pushed ? ', pushed (PAR)' : ''}, at a provider that requires them`, () => {
    let s: TestSetup;
    let requests: ProviderRequest[] = [];
    before(async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      s = await setup({
        jsonErrors: true,
        withoutClientSecret: true,
        options: {
          clientAuthMethod: 'private_key_jwt',
          clientPrivateKey: { key: privateKey, kid: 'app-key' },
          signedRequestObjects: true,
          pushedAuthorizationRequests: pushed,
        },
        client: {
          client_secret: undefined,
          token_endpoint_auth_method: 'private_key_jwt',
          request_object_signing_alg: 'ES256',
          jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'app-key', alg: 'ES256', use: 'sig' }] },
        },
        provider: { features: { requestObjects: { enabled: true, requireSignedRequestObject: true }, pushedAuthorizationRequests: { enabled: true } } },
      });
      requests = recordProviderRequests(s.op);
    });
    after(async () => {
      await s.close();
    });

    test("login works; the request travels as one ES256 request object signed with the app's key", async () => {
      const b = new Browser({ navigations: true });
      const callback = await login(b, `${s.appUrl}/login`, 'alice');
      assert.equal(callback.status, 302, callback.body);
      assert.equal((jsonOf(await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)) as { sub: string }).sub, 'alice');
      const authorization = requests.find(({ method, url }) => method === 'GET' && url.pathname === '/auth');
      assert.ok(authorization !== undefined);
      const carried = pushed ? new URLSearchParams(requests.find(({ url }) => url.pathname === '/request')?.body ?? '') : authorization.url.searchParams;
      assert.deepEqual([...authorization.url.searchParams.keys()].sort(), pushed ? ['client_id', 'request_uri'] : ['client_id', 'request']);
      const requestObject = carried.get('request') ?? '';
      assert.equal(decodeProtectedHeader(requestObject).alg, 'ES256');
      assert.equal(decodeProtectedHeader(requestObject).kid, 'app-key');
      const claims = decodeJwt(requestObject);
      assert.equal(claims['redirect_uri'], `${s.appUrl}/callback`);
      assert.equal(claims['code_challenge_method'], 'S256');
    });
  });
}

test('signedRequestObjects without clientPrivateKey, or not a boolean, is refused at oidcAuth()', () => {
  const base = baseOptions('https://idp.example.com', 'https://app.example.com');
  assert.throws(
    () => oidcAuth({ ...base, signedRequestObjects: true }),
    (err: unknown) =>
      err instanceof OidcAuthError && err.problems.includes('"signedRequestObjects" needs "clientPrivateKey": the request object is signed with it'),
  );
  assert.throws(
    () => oidcAuth({ ...base, signedRequestObjects: 'yes' as unknown as boolean }),
    (err: unknown) => err instanceof OidcAuthError && err.problems.includes('"signedRequestObjects" must be a boolean (got "yes")'),
  );
});
