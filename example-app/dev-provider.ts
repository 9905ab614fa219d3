import './quiet-dev-provider.js';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { type Account, type ClientMetadata, type Configuration } from 'oidc-provider';
import type { Logger } from '../lib/index.js';

/**
 * A DEVELOPMENT OpenID provider (panva's oidc-provider, the certified implementation),
 * embedded so the example runs with no account anywhere. Its login page accepts any
 * username and password. Keys, cookie keys and the client secret are random per start:
 * never expose it beyond localhost, never use it for anything real.
 */

export const DEV_CLIENT_ID = 'example-app';

export interface DevProviderInput {
  /** the provider's own URL, port included (its server is already listening) */
  issuer: string;
  /** the example app's URL: the client's redirect, post-logout and back-channel URIs hang off it */
  appUrl: string;
  logger: Logger;
}

export interface DevProvider {
  readonly provider: Provider;
  readonly clientId: string;
  readonly clientSecret: string;
  /** the node:http handler to serve the provider with */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
}

function signingKeys(): Configuration['jwks'] {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: `dev-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' }] };
}

/** The account id is whatever was typed as the login; the claims are made up from it. */
function devAccount(login: string): Account {
  const local = login.split('@')[0] ?? login;
  const name = local.charAt(0).toUpperCase() + local.slice(1);
  const email = login.includes('@') ? login : `${login}@example.com`;
  return {
    accountId: login,
    claims: () => ({ sub: login, name, preferred_username: login, email, email_verified: true }),
  };
}

function appClient(appUrl: string, clientSecret: string): ClientMetadata {
  const base = appUrl.replace(/\/+$/, '');
  return {
    client_id: DEV_CLIENT_ID,
    client_secret: clientSecret,
    redirect_uris: [`${base}/callback`],
    post_logout_redirect_uris: [`${base}/`],
    backchannel_logout_uri: `${base}/backchannel-logout`,
    // puts `sid` in the ID token and the logout token, so back-channel logout ends exactly this session
    backchannel_logout_session_required: true,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
}

export function createDevProvider({ issuer, appUrl, logger }: DevProviderInput): DevProvider {
  const clientSecret = randomBytes(32).toString('base64url');
  const appOrigin = new URL(appUrl).origin;

  const configuration: Configuration = {
    clients: [appClient(appUrl, clientSecret)],
    jwks: signingKeys(),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    findAccount: (_ctx, id) => devAccount(id),
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'] },
    // name and email in the ID token itself, as most hosted providers do
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    // oidc-provider's SSRF guard refuses calls to loopback addresses, which is where the
    // example app lives. Lift it for the app's own origin only; every other destination keeps it.
    fetch: (input, init) => {
      const target = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      if (target.origin !== appOrigin) return fetch(input, init);
      const options: RequestInit = { ...init };
      Reflect.deleteProperty(options, 'dispatcher');
      return fetch(input, options);
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.on('backchannel.error', (_ctx, err, _client, accountId) => {
    logger.warn({ accountId, error: err.message }, 'dev provider: back-channel logout to the app failed');
  });
  provider.on('server_error', (_ctx, err) => {
    logger.error({ error: err.message }, 'dev provider: internal error');
  });

  const handle = provider.callback();
  return {
    provider,
    clientId: DEV_CLIENT_ID,
    clientSecret,
    handler: (req, res) => {
      void handle(req, res);
    },
  };
}
