import { metadataOf } from './metadata.js';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Configuration } from 'openid-client';
import type { ProviderFetch } from '../public-types.js';
import { TIMED_OUT, within } from '../timeout.js';
import { unavailable } from './errors.js';

/** Forced refetches (for an unknown kid) are at most this frequent, so a flood of bad tokens cannot hammer the provider. */
const MIN_REFETCH_INTERVAL_MS = 5000;

export interface JwksCache {
  /** a jose key resolver over the cached set; refetches once, right away, for an unknown kid */
  resolve(): Promise<JWTVerifyGetKey>;
  /**
   * Forget the cached set after a verification failed on an unknown kid; true when the caller
   * should resolve() and verify once more. `failed` is the resolver that found no key: when
   * another request has already replaced it (or is fetching its replacement), the caller retries
   * against that set and no new fetch is made.
   */
  refreshForUnknownKid(failed?: JWTVerifyGetKey): boolean;
}

/** The provider's jwks_uri from its metadata: https only, unless insecure requests are allowed. */
export function jwksUriOf(config: Configuration, allowInsecure: boolean): URL {
  const uri = metadataOf(config).jwks_uri;
  if (uri === undefined) throw new Error('the provider publishes no jwks_uri');
  const url = new URL(uri);
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) throw new Error('the provider jwks_uri is not https');
  return url;
}

/** The provider's JWKS, fetched lazily, cached per instance, one fetch in flight at a time. */
export function createJwksCache(
  jwksUri: () => Promise<URL>,
  timeoutMs: number,
  now: () => number = Date.now,
  fetch: ProviderFetch = globalThis.fetch,
): JwksCache {
  let current: Promise<JWTVerifyGetKey> | undefined;
  let latest: JWTVerifyGetKey | undefined;
  let loading = false;
  // The limit counts forced refetches only, not the first (lazy) fetch: a provider that rotates
  // its key seconds after that fetch must still be followed at once, or logins fail until the
  // interval has passed.
  let forcedAt = Number.NEGATIVE_INFINITY;

  async function load(): Promise<JWTVerifyGetKey> {
    const url = await jwksUri();
    const response = await within(fetch(url.href, { headers: { accept: 'application/json' }, redirect: 'error' }), timeoutMs);
    if (response === TIMED_OUT) throw new Error('the JWKS request timed out');
    if (!response.ok) throw new Error(`the JWKS request answered ${String(response.status)}`);
    const body = (await response.json()) as JSONWebKeySet;
    return createLocalJWKSet(body);
  }

  return {
    resolve() {
      if (current === undefined) {
        loading = true;
        current = load().then(
          (keys) => {
            loading = false;
            latest = keys;
            return keys;
          },
          (err: unknown) => {
            loading = false;
            current = undefined;
            throw err;
          },
        );
      }
      return current;
    },
    refreshForUnknownKid(failed) {
      if (failed !== undefined && (loading || (latest !== undefined && latest !== failed))) return true;
      if (now() - forcedAt < MIN_REFETCH_INTERVAL_MS) return false;
      forcedAt = now();
      current = undefined;
      return true;
    },
  };
}

export function isUnknownKid(err: unknown): boolean {
  return err instanceof errors.JWKSNoMatchingKey;
}

/** The provider's keys for a verification; failing to fetch them is our outage (503: the provider retries), not a bad token. */
export async function signingKeysOf(jwks: JwksCache): Promise<JWTVerifyGetKey> {
  try {
    return await jwks.resolve();
  } catch (err) {
    throw unavailable('its signing keys could not be fetched', err);
  }
}
