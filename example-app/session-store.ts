import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { redisSessionIndex, type Logger, type SessionIndex } from '../lib/index.js';

export interface RedisSessionStore {
  readonly store: RedisStore;
  /** the package's session index on the same client: back-channel logout reaches every instance */
  readonly sessionIndex: SessionIndex;
  /** waits for pending commands, then disconnects */
  close(): Promise<void>;
}

const CONNECT_ATTEMPTS = 3;

/**
 * Sessions in Redis through connect-redis 9, which takes a node-redis client that the app
 * connects (and closes) itself. Fails fast when Redis cannot be reached at start; once
 * connected, it keeps reconnecting, and requests meanwhile fail with 503 from oidcAuth.
 */
export async function connectRedisStore(url: string, logger: Logger): Promise<RedisSessionStore> {
  let connected = false;
  const client = createClient({
    url,
    socket: {
      reconnectStrategy: (retries, cause) => {
        if (!connected && retries >= CONNECT_ATTEMPTS) return cause;
        return Math.min(100 * 2 ** retries, 3000);
      },
    },
  });
  // node-redis emits 'error' on every failed attempt; without a listener that would crash the process.
  client.on('error', (err: unknown) => {
    logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'redis: connection problem');
  });
  await client.connect();
  connected = true;
  return {
    store: new RedisStore({ client, prefix: 'example-app:sess:' }),
    sessionIndex: redisSessionIndex(client, { prefix: 'example-app:oidc:' }),
    close: () => client.close(),
  };
}
