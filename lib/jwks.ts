import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { TIMED_OUT, within } from './timeout.js';

/** Refetches for unknown kids are at most this frequent, so a flood of bad tokens cannot hammer the provider. */
const MIN_REFETCH_INTERVAL_MS = 5000;

export interface JwksCache {
  /** a jose key resolver over the cached set; refetches once, right away, for an unknown kid */
  resolve(): Promise<JWTVerifyGetKey>;
  /** forget the cached set after a verification failed on an unknown kid; true when a refetch will happen */
  refreshForUnknownKid(): boolean;
}

/** The provider's JWKS, fetched lazily, cached per instance, one fetch in flight at a time. */
export function createJwksCache(jwksUri: () => Promise<URL>, timeoutMs: number, now: () => number = Date.now): JwksCache {
  let current: Promise<JWTVerifyGetKey> | undefined;
  let fetchedAt = 0;

  async function load(): Promise<JWTVerifyGetKey> {
    const url = await jwksUri();
    const response = await within(fetch(url, { headers: { accept: 'application/json' }, redirect: 'error' }), timeoutMs);
    if (response === TIMED_OUT) throw new Error('the JWKS request timed out');
    if (!response.ok) throw new Error(`the JWKS request answered ${String(response.status)}`);
    const body = (await response.json()) as JSONWebKeySet;
    fetchedAt = now();
    return createLocalJWKSet(body);
  }

  return {
    resolve() {
      current ??= load().catch((err: unknown) => {
        current = undefined;
        throw err;
      });
      return current;
    },
    refreshForUnknownKid() {
      if (now() - fetchedAt < MIN_REFETCH_INTERVAL_MS) return false;
      current = undefined;
      return true;
    },
  };
}

export function isUnknownKid(err: unknown): boolean {
  return err instanceof errors.JWKSNoMatchingKey;
}
