import { metadataOf } from './metadata.js';
import * as client from 'openid-client';
import { describeError } from '../logging/logger.js';
import { createRefusalLog } from '../logging/refusal-log.js';
import type { ResolvedOptions } from '../options/resolved.js';
import { basicCredentials, type BasicCredentials } from './basic-auth.js';
import { translateDiscoveryError } from './errors.js';
import type { ProviderFetch } from '../public-types.js';
import type { EndpointNames } from '../telemetry/provider-calls.js';

/** openid-client's calls, through the app's fetch (a byte body copied: fetch's types take only ArrayBuffer-backed arrays). */
function providerFetch(fetch: ProviderFetch): client.CustomFetch {
  return (url, options) => {
    const body = options.body instanceof Uint8Array ? new Uint8Array(options.body) : (options.body ?? null);
    return fetch(url, {
      method: options.method,
      headers: options.headers,
      body,
      redirect: options.redirect,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  };
}

/** Lazy discovery, one per `oidcAuth()` instance: the app starts even when the provider is down. */
export interface Provider {
  /** the client configuration; rejects with OIDC_PROVIDER_UNAVAILABLE while discovery fails */
  config(): Promise<client.Configuration>;
  /** the configuration if discovery already succeeded, without waiting */
  ready(): client.Configuration | undefined;
}

function clientAuth(opts: ResolvedOptions, basic: BasicCredentials | undefined): client.ClientAuth {
  switch (opts.clientAuthMethod) {
    case 'client_secret_basic':
      // resolveOptions guarantees a secret for this method
      return basic?.auth ?? client.None();
    case 'client_secret_post':
      return client.ClientSecretPost(opts.clientSecret);
    case 'private_key_jwt':
      // resolveOptions guarantees the key for this method
      return opts.clientPrivateKey === undefined ? client.None() : client.PrivateKeyJwt(opts.clientPrivateKey);
    case 'none':
      return client.None();
  }
}

/** `fetch`: the app's, instrumented; `endpoints` learns the metadata's endpoints at discovery, for the telemetry. */
export function createProvider(opts: ResolvedOptions, fetch: ProviderFetch, endpoints: EndpointNames): Provider {
  let pending: Promise<client.Configuration> | undefined;
  let resolved: client.Configuration | undefined;
  // Any request can start a discovery attempt (an anonymous /login): while the provider is
  // down, one line a minute says so, not one per request.
  const failures = createRefusalLog(opts.logger, 'provider discovery failed');

  async function discover(): Promise<client.Configuration> {
    // openid-client checks the ID token's exp and iat with the same tolerance as the package's own checks.
    const metadata: Partial<client.ClientMetadata> = { id_token_signed_response_alg: opts.idTokenSigningAlg, [client.clockTolerance]: opts.clockToleranceSec };
    if (opts.clientSecret !== undefined) metadata.client_secret = opts.clientSecret;
    const viaOption = providerFetch(fetch);
    const basic =
      opts.clientAuthMethod === 'client_secret_basic' && opts.clientSecret !== undefined
        ? basicCredentials(opts.clientId, opts.clientSecret, viaOption)
        : undefined;
    const config = await client.discovery(opts.issuer, opts.clientId, metadata, clientAuth(opts, basic), {
      timeout: Math.ceil(opts.httpTimeoutMs / 1000),
      [client.customFetch]: viaOption,
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- deliberately marked deprecated upstream; only on with allowInsecureRequests
      execute: opts.allowInsecureRequests ? [client.allowInsecureRequests] : [],
    });
    // No enableNonRepudiationChecks: the callback verifies the ID token signature itself
    // (id-token.ts), against the JWKS cache it shares with back-channel logout, so that a key
    // rotation is followed at once instead of after openid-client's 60 s.
    config.timeout = Math.ceil(opts.httpTimeoutMs / 1000);
    config[client.customFetch] = basic?.fetch ?? viaOption;
    return config;
  }

  return {
    config() {
      if (resolved !== undefined) return Promise.resolve(resolved);
      pending ??= discover().then(
        (config) => {
          resolved = config;
          endpoints.learn(metadataOf(config));
          opts.logger.info({ issuer: opts.issuer.href }, 'provider metadata discovered');
          return config;
        },
        (err: unknown) => {
          // Forget the failure so the next request tries again: the provider may be back.
          pending = undefined;
          const translated = translateDiscoveryError(err, opts.issuer);
          // The translated message names the URL and the status: the log must say as much as the page.
          failures.refused(translated.message, { issuer: opts.issuer.href, ...describeError(err) });
          throw translated;
        },
      );
      return pending;
    },
    ready: () => resolved,
  };
}
