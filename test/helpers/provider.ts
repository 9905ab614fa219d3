import '../../example-app/quiet-dev-provider.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { lateServer, type LateServer } from './late-server.js';
import { authenticatingHandler, stepUpPolicy, type ChooseAuthentication } from './provider-authentication.js';

export const INTROSPECTION_CLIENT = { client_id: 'introspector', client_secret: 'introspector-secret-introspector-secret' };

export interface TestProvider {
  readonly issuer: string;
  readonly provider: Provider;
  readonly server: LateServer;
  /** the provider's own request handler, for tests that put a misbehaving layer in front of it */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** the provider's own view of a token (RFC 7662), asked by a separate confidential client */
  introspect(token: string): Promise<{ active: boolean } & Record<string, unknown>>;
  /** names of the provider events seen, in order (grant.success, backchannel.error…) */
  readonly events: string[];
  /** the provider's own signing key (kid SIGNING_KID), to forge tokens only the provider could sign */
  readonly signingKey: CryptoKey;
  /** makes the provider send a back-channel logout token for this user (and provider session) to the client */
  backchannelLogout(clientId: string, sub: string, sid: string | undefined): Promise<void>;
  close(): Promise<void>;
}

export interface TestProviderOptions {
  clients: ClientMetadata[];
  /** feature switches layered over the test defaults */
  features?: Configuration['features'];
  /** extra configuration layered over the test defaults */
  configuration?: Partial<Configuration>;
  /** an already reserved server to run on (to know the issuer before the provider exists) */
  server?: LateServer;
  /**
   * step-up: the login page reports this acr and auth_time (given the acr_values asked for),
   * and a session without a requested acr is asked to log in again. Default: oidc-provider's
   * own (no acr, auth_time now)
   */
  authentication?: ChooseAuthentication;
}

export const SIGNING_KID = 'test-key-1';

export interface TestSigningKeys {
  privateKey: CryptoKey;
  jwks: { keys: Record<string, unknown>[] };
}

let signingKeys: Promise<TestSigningKeys> | undefined;

/**
 * The providers' signing key, made once per process: an RSA key costs 100-300 ms of CPU to
 * generate, and the suite starts a provider for most suites and many tests. Nothing depends
 * on two providers having different keys (each app trusts only its own provider's JWKS);
 * a test that needs a key the provider does not hold makes one (otherRsaKey in logout-token.ts).
 */
export function testSigningKeys(): Promise<TestSigningKeys> {
  signingKeys ??= (async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    return { privateKey, jwks: { keys: [{ ...jwk, kid: SIGNING_KID, alg: 'RS256', use: 'sig' }] } };
  })();
  return signingKeys;
}

/** A real oidc-provider (the certified implementation) on 127.0.0.1, dev login pages on. */
export async function startTestProvider(options: TestProviderOptions): Promise<TestProvider> {
  const server = options.server ?? (await lateServer());
  const issuer = server.url;
  const signing = await testSigningKeys();
  const provider = new Provider(issuer, {
    clients: [...options.clients, { ...INTROSPECTION_CLIENT, redirect_uris: [], response_types: [], grant_types: [] }],
    jwks: signing.jwks,
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
    // Profile claims in the ID token, as most hosted providers do.
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'] },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, name: `User ${id}`, preferred_username: id, email: `${id}@example.test`, email_verified: true }),
    }),
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      ...options.features,
    },
    // The provider's SSRF guard refuses back-channel calls to 127.0.0.1; in tests that is exactly where the app is.
    fetch: (url: URL | string, init: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _ignored, ...rest } = init;
      return fetch(url, rest);
    },
    ...(options.authentication === undefined ? {} : { acrValues: ['pwd', 'mfa', 'hwk'], interactions: { policy: stepUpPolicy() } }),
    ...options.configuration,
  } as Configuration);
  const events: string[] = [];
  const record = (name: string) => () => {
    events.push(name);
  };
  provider.on('grant.success', record('grant.success'));
  provider.on('grant.error', record('grant.error'));
  provider.on('grant.revoked', record('grant.revoked'));
  provider.on('backchannel.success', record('backchannel.success'));
  provider.on('backchannel.error', record('backchannel.error'));
  provider.on('end_session.success', record('end_session.success'));
  provider.on('server_error', record('server_error'));
  const handle = provider.callback();
  const plain = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res);
  };
  const handler = options.authentication === undefined ? plain : authenticatingHandler(provider, options.authentication, plain);
  server.setHandler(handler);
  return {
    issuer,
    provider,
    server,
    handler,
    events,
    signingKey: signing.privateKey,
    async backchannelLogout(clientId, sub, sid) {
      // Client#backchannelLogout exists at run time but is missing from @types/oidc-provider.
      const client = (await provider.Client.find(clientId)) as unknown as { backchannelLogout(sub: string, sid?: string): Promise<void> } | undefined;
      if (client === undefined) throw new Error(`no client ${clientId}`);
      await client.backchannelLogout(sub, sid);
    },
    async introspect(token) {
      const res = await fetch(`${issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.client_id}:${INTROSPECTION_CLIENT.client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token }),
      });
      return (await res.json()) as { active: boolean } & Record<string, unknown>;
    },
    close: () => server.close(),
  };
}
