import { randomUUID } from 'node:crypto';
import { asConnectRedisStore } from './connect-redis-store.js';
import { OidcAuthError, OidcAuthErrorCode } from '../../errors.js';
import { commandRunner, type RedisClientLike } from './redis-commands.js';
import { entryKeys, type SessionIndex, type SessionIndexEntry } from '../session-index.js';

/**
 * A node-redis client (`createClient`, `createCluster`, `createSentinel`; v4 or v5) or an
 * ioredis `Redis` or `Cluster`: the index sends raw commands, the same in every version.
 */
export type RedisCommandClient = RedisClientLike;

/**
 * KEYS: the session, its ended mark. ARGV: the session, its expiry in seconds ('' for none),
 * 'create' or 'update'. 1 written, 0 ended. An update writes only over a key that exists
 * (C1 of ended-marks.ts): a login destroyed by a logout stays destroyed even when its
 * mark was evicted, expired or never written.
 */
const SET_UNLESS_ENDED = [
  "if redis.call('exists', KEYS[2]) == 1 then return 0 end",
  "if ARGV[3] == 'update' and redis.call('exists', KEYS[1]) == 0 then return 0 end",
  "if ARGV[2] == '' then redis.call('set', KEYS[1], ARGV[1]) else redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2]) end",
  'return 1',
].join(' ');

const RELEASE_IF_OWNER = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Options of `redisSessionIndex(client, options)`. */
export interface RedisSessionIndexOptions {
  /** prefix of the index's own keys. Default `oidc:` */
  prefix?: string;
  /**
   * the session store's key prefix (connect-redis's `prefix`). Default `sess:`, connect-redis's
   * own. A session's ended mark carries its session key as a hash tag, so that in a Redis
   * Cluster both are in one slot and a login is written atomically with the mark's check.
   */
  sessionPrefix?: string;
}

/**
 * A session index shared by every app instance, in Redis: one sorted set per sid and per
 * sub, members are session ids scored by their expiry. A back-channel logout is one
 * ZRANGEBYSCORE, whatever the number of sessions stored.
 */
export function redisSessionIndex(client: RedisCommandClient, options: RedisSessionIndexOptions = {}): SessionIndex {
  const send = commandRunner(client);
  if (send === undefined) {
    throw new OidcAuthError(
      OidcAuthErrorCode.CONFIG_INVALID,
      500,
      'redisSessionIndex: the client must be a connected node-redis client (createClient, createCluster or createSentinel from "redis") or an ioredis Redis or Cluster.',
    );
  }
  const prefix = options.prefix ?? 'oidc:';
  const sessionPrefix = options.sessionPrefix ?? 'sess:';
  // In a cluster, each command goes to the node of its key; a script's keys must share one slot.
  const endedKey = (sessionId: string): string => `${prefix}ended:{${sessionPrefix}${sessionId}}`;
  const keysOf = (e: SessionIndexEntry): string[] => entryKeys(e, (kind, value) => `${prefix}${kind}:${e.issuer}:${value}`);
  const run = (args: [string, string, ...string[]]): Promise<unknown> => send(args[1], args);
  // Who holds a claim: this index object, one per app instance.
  const owner = randomUUID();

  return {
    shared: true,
    async add(entry, ttlMs) {
      const expiresAt = Date.now() + ttlMs;
      await Promise.all(
        keysOf(entry).map(async (key) => {
          await run(['ZADD', key, String(expiresAt), entry.sessionId]);
          await run(['ZREMRANGEBYSCORE', key, '-inf', String(Date.now())]);
          // The set lives as long as its longest-lived member: GT only ever extends it.
          await run(['PEXPIRE', key, String(ttlMs), 'GT']).then(async (set) => {
            if (set === 0) await run(['PEXPIRE', key, String(ttlMs), 'NX']);
          });
        }),
      );
    },
    async remove(entry) {
      await Promise.all(keysOf(entry).map((key) => run(['ZREM', key, entry.sessionId])));
    },
    async lookup(issuer, { sid, sub }) {
      const key = sid !== undefined ? `${prefix}sid:${issuer}:${sid}` : sub !== undefined ? `${prefix}sub:${issuer}:${sub}` : undefined;
      if (key === undefined) return [];
      const ids = await run(['ZRANGEBYSCORE', key, String(Date.now()), '+inf']);
      return Array.isArray(ids) ? ids.map(String) : [];
    },
    async claimOnce(key, ttlMs) {
      const reply = await run(['SET', `${prefix}once:${key}`, owner, 'NX', 'PX', String(Math.max(1, Math.ceil(ttlMs)))]);
      return reply === 'OK';
    },
    async release(key) {
      // Only our own claim: one that outlived its ttl may belong to another instance by now.
      const once = `${prefix}once:${key}`;
      await send(once, ['EVAL', RELEASE_IF_OWNER, '1', once, owner]);
    },
    async markEnded(sessionId, ttlMs) {
      // No NX: every writer computes the same end (the session's own expiry), so a second mark loses nothing.
      await run(['SET', endedKey(sessionId), '1', 'PX', String(Math.max(1, Math.ceil(ttlMs)))]);
    },
    async isEnded(sessionId) {
      return (await run(['EXISTS', endedKey(sessionId)])) === 1;
    },
    atomicWriter(store) {
      // Only connect-redis on this very client, with the prefix the marks are keyed by: then the
      // session and its mark are in one database (and, in a cluster, in one slot).
      const redisStore = asConnectRedisStore(store);
      if (redisStore?.client !== client || redisStore.prefix !== sessionPrefix) return undefined;
      return {
        async setUnlessEnded(sessionId, data, mode) {
          const ttl = redisStore.getTTL(data);
          // connect-redis deletes a session whose expiry has passed instead of writing it
          if (!redisStore.disableTTL && ttl <= 0) {
            await run(['DEL', redisStore.prefix + sessionId]);
            return 'written';
          }
          const expiry = redisStore.disableTTL ? '' : String(Math.ceil(ttl));
          const key = redisStore.prefix + sessionId;
          const reply = await send(key, ['EVAL', SET_UNLESS_ENDED, '2', key, endedKey(sessionId), redisStore.serializer.stringify(data), expiry, mode]);
          return reply === 1 ? 'written' : 'ended';
        },
      };
    },
  };
}
