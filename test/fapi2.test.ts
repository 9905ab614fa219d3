import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, mock, test } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import type { OidcAuthOptions } from '../lib/index.js';
import { baseOptions, CLIENT_ID, setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, configProblems, jsonOf } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';
import { WITH_REFRESH_TOKEN } from './helpers/logout.js';
import { testSigningKeys } from './helpers/provider.js';
import { recordProviderRequests, type ProviderRequest } from './helpers/provider-requests.js';

afterEach(() => {
  mock.timers.reset();
});

interface Tokens {
  accessToken: string;
  refreshToken?: string;
}

/** The app's private_key_jwt key (ES256) and its public JWK, which the provider registers. */
async function clientKey(): Promise<{ key: CryptoKey; publicJwk: Record<string, unknown> }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { key: privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid: 'app-key', alg: 'ES256', use: 'sig' } };
}

/** The app with profile "fapi2" against oidc-provider's FAPI 2.0 profile for its client; `options` added to the app's. */
async function fapiSetup(options: Partial<OidcAuthOptions> = {}): Promise<TestSetup> {
  const app = await clientKey();
  const { privateKey: opKey } = await generateKeyPair('ES256', { extractable: true });
  return setup({
    jsonErrors: true,
    withoutClientSecret: true,
    options: {
      ...WITH_REFRESH_TOKEN,
      profile: 'fapi2',
      clientAuthMethod: 'private_key_jwt',
      clientPrivateKey: { key: app.key, kid: 'app-key' },
      idTokenSigningAlg: 'ES256',
      ...options,
    },
    client: {
      client_secret: undefined,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [app.publicJwk] },
      id_token_signed_response_alg: 'ES256',
      dpop_bound_access_tokens: true,
    },
    provider: {
      // FAPI 2.0 for the app's client; the tests' own introspection client keeps its secret.
      features: {
        fapi: { enabled: true, profile: (_ctx: unknown, client: { clientId?: string } | undefined) => (client?.clientId === CLIENT_ID ? '2.0' : undefined) },
        pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
        dPoP: { enabled: true },
      },
      // The ES256 key signs the app's ID tokens; the RSA one stays for the tests' introspection client.
      configuration: { jwks: { keys: [...(await testSigningKeys()).jwks.keys, { ...(await exportJWK(opKey)), kid: 'op-es256', alg: 'ES256', use: 'sig' }] } },
    },
  });
}

describe('profile: "fapi2" against oidc-provider\'s FAPI 2.0 profile (PAR, DPoP, private_key_jwt, ES256)', () => {
  let s: TestSetup;
  let requests: ProviderRequest[] = [];

  before(async () => {
    s = await fapiSetup();
    requests = recordProviderRequests(s.op);
  });
  after(async () => {
    await s.close();
  });

  test('login → refresh → logout: pushed request, DPoP-bound tokens, revoked at the end', async () => {
    const b = new Browser({ navigations: true });
    const callback = await login(b, `${s.appUrl}/login`, 'alice');
    assert.equal(callback.status, 302, callback.body);
    const authorization = requests.find(({ method, url }) => method === 'GET' && url.pathname === '/auth');
    assert.deepEqual([...(authorization?.url.searchParams.keys() ?? [])].sort(), ['client_id', 'request_uri']);
    const before = jsonOf(await b.get(`${s.appUrl}/test/tokens`, ACCEPT_JSON)) as Tokens;
    assert.equal(typeof ((await s.op.introspect(before.accessToken))['cnf'] as { jkt?: unknown } | undefined)?.jkt, 'string', 'sender-constrained');

    mock.timers.enable({ apis: ['Date'], now: Date.now() + 3601 * 1000 });
    const token = await b.get(`${s.appUrl}/api/token`, ACCEPT_JSON);
    assert.equal(token.status, 200, token.body);
    const after = jsonOf(await b.get(`${s.appUrl}/test/tokens`, ACCEPT_JSON)) as Tokens;
    assert.notEqual(after.accessToken, before.accessToken, 'refreshed');
    mock.timers.reset();

    assert.equal((await b.request(`${s.appUrl}/logout`, { method: 'POST', headers: ACCEPT_JSON })).status, 200);
    assert.equal((await s.op.introspect(after.accessToken)).active, false);
    assert.equal((await s.op.introspect(after.refreshToken ?? '')).active, false);
    assert.equal((await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 401);
  });
});

describe('profile: "fapi2" with a provider that does not announce iss in its authorization responses', () => {
  test('/login refuses before anything is sent to the provider, and says that RFC 9207 support is missing', async () => {
    // oidc-provider always announces it: the app's own fetch takes the announcement out of the
    // real discovery document, as a provider without RFC 9207 would publish it.
    const withoutIss: NonNullable<OidcAuthOptions['fetch']> = async (url, init) => {
      const response = await fetch(url, init);
      if (!url.endsWith('/.well-known/openid-configuration')) return response;
      const { authorization_response_iss_parameter_supported: announced, ...metadata } = (await response.json()) as Record<string, unknown>;
      assert.equal(announced, true, 'the real provider announced it');
      return Response.json(metadata, { status: response.status });
    };
    const s = await fapiSetup({ fetch: withoutIss });
    try {
      const requests = recordProviderRequests(s.op);
      const answer = await new Browser({ navigations: true }).get(`${s.appUrl}/login`);
      assert.equal(answer.status, 500);
      const body = jsonOf(answer) as { code?: string; message?: string };
      assert.equal(body.code, 'OIDC_CONFIG_INVALID');
      assert.match(body.message ?? '', /RFC 9207/);
      assert.match(body.message ?? '', /authorization_response_iss_parameter_supported/);
      assert.deepEqual(
        requests.filter(({ url }) => url.pathname !== '/.well-known/openid-configuration').map(({ method, url }) => `${method} ${url.pathname}`),
        [],
        'no pushed request, no authorization request',
      );
    } finally {
      await s.close();
    }
  });
});

describe('profile: "fapi2" refuses at oidcAuth() what FAPI 2.0 forbids', () => {
  // A client that authenticates with its key: the test defaults without their secret.
  const { clientSecret: _secret, ...keyClient } = baseOptions('https://idp.example.com', 'https://app.example.com');

  function problemsOf(extra: Partial<OidcAuthOptions>, base: OidcAuthOptions = keyClient): readonly string[] {
    return configProblems({ ...base, ...extra });
  }

  test('a client secret, PAR or DPoP turned off, an RS256 ID token, an RS256 client key', async () => {
    const fapi = { profile: 'fapi2' } as const;
    assert.deepEqual(problemsOf({ ...fapi, idTokenSigningAlg: 'PS256' }, baseOptions('https://idp.example.com', 'https://app.example.com')), [
      '"clientAuthMethod" must be "private_key_jwt" with profile "fapi2" (got "client_secret_basic"): FAPI 2.0 forbids client secrets and public clients',
    ]);
    const { key } = await clientKey();
    const good = { ...fapi, clientPrivateKey: { key }, idTokenSigningAlg: 'ES256' };
    assert.deepEqual(problemsOf(good), []);
    assert.deepEqual(problemsOf({ ...good, pushedAuthorizationRequests: false }), [
      '"pushedAuthorizationRequests" cannot be false with profile "fapi2": FAPI 2.0 requires pushed authorization requests',
    ]);
    assert.deepEqual(problemsOf({ ...good, dpop: false }), ['"dpop" cannot be false with profile "fapi2": FAPI 2.0 requires sender-constrained tokens (DPoP)']);
    assert.deepEqual(problemsOf({ ...good, idTokenSigningAlg: 'RS256' }), [
      '"idTokenSigningAlg" must be PS256, ES256 or EdDSA with profile "fapi2" (got "RS256")',
    ]);
    assert.deepEqual(problemsOf({ ...fapi, clientPrivateKey: { key } }), [
      '"idTokenSigningAlg" is required with profile "fapi2": PS256, ES256 or EdDSA (the default, RS256, is not allowed by FAPI 2.0)',
    ]);
    const { privateKey: rs256 } = await generateKeyPair('RS256');
    assert.deepEqual(problemsOf({ ...good, clientPrivateKey: { key: rs256 } }), [
      '"clientPrivateKey" must sign with PS256, ES256 or EdDSA with profile "fapi2" (got a RSASSA-PKCS1-v1_5 key)',
    ]);
    const { privateKey: p384 } = await generateKeyPair('ES384');
    assert.equal(problemsOf({ ...good, clientPrivateKey: { key: p384 } }).length, 1);
    const { privateKey: ps256 } = await generateKeyPair('PS256');
    assert.deepEqual(problemsOf({ ...good, clientPrivateKey: { key: ps256 } }), []);
    assert.deepEqual(problemsOf({ profile: 'fapi1' as 'fapi2' }), ['"profile" must be "fapi2" or left out (got "fapi1")']);
  });
});
