import type { Attributes } from '@opentelemetry/api';
import type { ProviderFetch } from '../public-types.js';
import { ATTR, errorTypeOf, type Telemetry } from './telemetry.js';

/** The provider's endpoints the package calls, named for the `express_oidc_auth.provider.endpoint` attribute. */
const METADATA_ENDPOINTS = {
  token_endpoint: 'token',
  revocation_endpoint: 'revocation',
  userinfo_endpoint: 'userinfo',
  pushed_authorization_request_endpoint: 'par',
  jwks_uri: 'jwks',
} as const;

export interface EndpointNames {
  /** learns the endpoints from the provider's metadata, once discovery succeeded */
  learn(metadata: Partial<Record<keyof typeof METADATA_ENDPOINTS, unknown>>): void;
  nameOf(url: URL): string;
}

export function endpointNames(): EndpointNames {
  const known = new Map<string, string>();
  return {
    learn(metadata) {
      for (const [field, name] of Object.entries(METADATA_ENDPOINTS) as [keyof typeof METADATA_ENDPOINTS, string][]) {
        const value = metadata[field];
        if (typeof value === 'string') known.set(value.split('?')[0] ?? value, name);
      }
    },
    nameOf(url) {
      const bare = url.origin + url.pathname;
      const name = known.get(bare);
      if (name !== undefined) return name;
      return url.pathname.endsWith('/.well-known/openid-configuration') || url.pathname.endsWith('/.well-known/oauth-authorization-server')
        ? 'discovery'
        : 'other';
    },
  };
}

/**
 * Every call to the provider, in a CLIENT span and the `http.client.request.duration`
 * histogram (OpenTelemetry's HTTP client conventions). The query string is left out of
 * url.full; the request and response bodies, which hold codes and tokens, are never read.
 */
export function instrumentedFetch(fetch: ProviderFetch, telemetry: Telemetry, endpoints: EndpointNames): ProviderFetch {
  return async (url, init) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return fetch(url, init);
    }
    const method = (init.method ?? 'GET').toUpperCase();
    const endpoint = endpoints.nameOf(parsed);
    const attributes: Attributes = {
      [ATTR.method]: method,
      [ATTR.serverAddress]: parsed.hostname,
      [ATTR.serverPort]: parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port),
      [ATTR.endpoint]: endpoint,
      [ATTR.urlFull]: parsed.origin + parsed.pathname,
    };
    const call = telemetry.providerCall(attributes, `${method} ${endpoint}`);
    try {
      const response = await fetch(url, init);
      call.finish(response.status, response.status >= 400 ? String(response.status) : undefined);
      return response;
    } catch (err) {
      call.finish(undefined, errorTypeOf(err));
      throw err;
    }
  };
}
