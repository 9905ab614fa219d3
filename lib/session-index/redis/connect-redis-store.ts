import type { SessionData, Store } from 'express-session';

/**
 * What the package needs of a connect-redis `RedisStore` (v7 to v9, whose fields are public)
 * to write its sessions itself, exactly as connect-redis would: the same key, the same
 * serialization, the same expiry. Recognised by shape, so the package does not depend on
 * connect-redis.
 */
export interface ConnectRedisStore {
  client: unknown;
  prefix: string;
  serializer: { stringify(data: SessionData): string };
  disableTTL: boolean;
  getTTL(data: SessionData): number;
}

function hasFunction(value: object, name: string): boolean {
  return typeof (value as Record<string, unknown>)[name] === 'function';
}

export function asConnectRedisStore(store: Store): ConnectRedisStore | undefined {
  const fields = store as unknown as Record<string, unknown>;
  const { client, prefix, serializer, disableTTL } = fields;
  if (typeof client !== 'object' || client === null || typeof prefix !== 'string') return undefined;
  if (typeof serializer !== 'object' || serializer === null || !hasFunction(serializer, 'stringify')) return undefined;
  if (!hasFunction(store, 'getTTL') || (disableTTL !== undefined && typeof disableTTL !== 'boolean')) return undefined;
  const typed = store as unknown as ConnectRedisStore;
  return {
    client,
    prefix,
    serializer: { stringify: (data) => typed.serializer.stringify(data) },
    disableTTL: disableTTL === true,
    getTTL: (data) => typed.getTTL(data),
  };
}
