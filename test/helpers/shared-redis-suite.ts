import type { Store } from 'express-session';
import { redisSessionIndex, type RedisCommandClient } from '../../lib/index.js';
import { sharedStoreSuite, type KeyPlacement } from './shared-store-suite.js';

/** A Redis client the index accepts, the session store on it, and how the suite asks where a key lives. */
export interface SharedRedis {
  client: RedisCommandClient;
  store: Store;
  /** CLUSTER KEYSLOT of a key, and the port of the master that holds it; undefined on a single Redis */
  placement?: Omit<KeyPlacement, 'sidKey'>;
  close(): Promise<void>;
}

export interface SharedRedisSetup {
  name: string;
  /** whether the package can write its sessions atomically with the ended mark (connect-redis 9 on the index's own client) */
  atomic: boolean;
  connect(): Promise<SharedRedis>;
}

/** The shared store suite (shared-store-suite.ts) on one Redis client: a space is a key prefix of the index's own. */
export function sharedRedisSuite(setup: SharedRedisSetup): void {
  sharedStoreSuite({
    name: setup.name,
    atomic: setup.atomic,
    async connect() {
      const redis = await setup.connect();
      const { placement } = redis;
      return {
        store: redis.store,
        index: (space) => redisSessionIndex(redis.client, space === undefined ? {} : { prefix: `${space}:` }),
        ...(placement === undefined
          ? {}
          : { placement: { ...placement, sidKey: (space: string, issuer: string, sid: string) => `${space}:sid:${issuer}:${sid}` } }),
        close: () => redis.close(),
      };
    },
  });
}
