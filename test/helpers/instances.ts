import { RedisStore } from 'connect-redis';
import { redisSessionIndex, type OidcAuthOptions } from '../../lib/index.js';
import { baseOptions, clientFor, SESSION_SECRET } from './app.js';
import type { LateServer } from './late-server.js';
import { WITH_REFRESH_TOKEN } from './logout.js';
import { startTestProvider, type TestProvider } from './provider.js';
import type { RedisClient } from './redis.js';

/** One client registered for several app instances (each its own callback and post-logout URI); the back-channel URI is the first one's. */
export function providerForInstances(servers: readonly LateServer[]): Promise<TestProvider> {
  const [first] = servers;
  if (first === undefined) throw new Error('at least one instance');
  return startTestProvider({
    clients: [{ ...clientFor(first.url), redirect_uris: servers.map((s) => `${s.url}/callback`), post_logout_redirect_uris: servers.map((s) => `${s.url}/`) }],
  });
}

/**
 * The documented multi-instance setup: sessions in connect-redis, redisSessionIndex on the
 * same client (or, given `indexClient`, on a client of its own), a refresh token.
 */
export function sharedRedisOptions(issuer: string, server: LateServer, client: RedisClient, indexClient: RedisClient = client): OidcAuthOptions {
  return {
    ...baseOptions(issuer, server.url),
    ...WITH_REFRESH_TOKEN,
    session: { secret: SESSION_SECRET, store: new RedisStore({ client, prefix: 'sess:' }) },
    sessionIndex: redisSessionIndex(indexClient),
  };
}
