import type { ClientMetadata } from 'oidc-provider';
import { webClient } from '../../test/helpers/client-metadata.js';
import { startRedis, type RedisServer } from '../../test/helpers/redis.js';
import type { AppSettings, ProviderReady } from './ipc.js';
import { BenchChild } from './processes.js';
import { connectRedis, type Redis } from './redis.js';

export const SESSION_SECRET = 'bench-session-secret-0123456789abcdef';

export interface ServerSpec {
  name: string;
  script: 'oidc-auth' | 'express-session' | 'eoc' | 'bare';
  store: 'memory' | 'redis';
  /** each Redis-backed server has a database of its own in the one redis-server */
  redisDb?: number;
  scope?: string;
  prompt?: string;
  /** the tsc build of lib/ this express-oidc-auth server loads, instead of the run's own (bench/compare.ts) */
  libraryEntry?: string;
}

export const SERVERS = [
  { name: 'oidc-auth-memory', script: 'oidc-auth', store: 'memory' },
  { name: 'oidc-auth-redis', script: 'oidc-auth', store: 'redis', redisDb: 0 },
  { name: 'express-session-memory', script: 'express-session', store: 'memory' },
  { name: 'express-session-redis', script: 'express-session', store: 'redis', redisDb: 1 },
  { name: 'eoc-cookie', script: 'eoc', store: 'memory' },
  { name: 'eoc-redis', script: 'eoc', store: 'redis', redisDb: 2 },
  { name: 'bare', script: 'bare', store: 'memory' },
  // Logout with a refresh token too, so that revocation does its full work (two tokens, in parallel).
  { name: 'oidc-auth-logout', script: 'oidc-auth', store: 'redis', redisDb: 3, scope: 'openid profile email offline_access', prompt: 'consent' },
  { name: 'oidc-auth-backchannel', script: 'oidc-auth', store: 'redis', redisDb: 4 },
] as const satisfies readonly ServerSpec[];

export type ServerName = (typeof SERVERS)[number]['name'];

export function clientSecretOf(name: string): string {
  return `${name}-secret-0123456789abcdef0123456789`;
}

function clientFor(name: string, appUrl: string): ClientMetadata {
  return webClient(appUrl, name, clientSecretOf(name));
}

/** Everything a run needs: redis-server, the provider and every app server, each in its own process. */
export interface Topology<Name extends string = ServerName> {
  redisServer: RedisServer;
  provider: BenchChild;
  issuer: string;
  /** what the provider handed over: its signing key and its introspection client */
  op: ProviderReady;
  servers: Record<Name, BenchChild>;
  /** a client on that server's Redis database (opened on first use, closed by close()) */
  redis(name: Name): Promise<Redis>;
  close(): Promise<void>;
}

/**
 * Starts redis-server, the servers (listening first, so that their URLs are known), the
 * provider with a client per server, then configures each server with the issuer.
 * On failure everything already started is stopped by the caller's stopAll.
 */
export interface TopologyOptions<Spec extends ServerSpec = (typeof SERVERS)[number]> {
  /** the tsc build of lib/, loaded by the express-oidc-auth servers */
  libraryEntry: string;
  /** record a CPU profile of every server there */
  profileDir?: string | undefined;
  /** the servers to start; default SERVERS, the full run's */
  specs?: readonly Spec[];
}

export async function startTopology<Spec extends ServerSpec = (typeof SERVERS)[number]>(
  log: (line: string) => void,
  { libraryEntry, profileDir, specs = SERVERS as readonly ServerSpec[] as readonly Spec[] }: TopologyOptions<Spec>,
): Promise<Topology<Spec['name']>> {
  type Name = Spec['name'];
  const redisServer = await startRedis();
  log(`redis-server on port ${String(redisServer.port)}`);
  const clients = new Map<number, Redis>();
  const closeRedisClients = async (): Promise<void> => {
    await Promise.all([...clients.values()].map((c) => c.quit().catch(() => undefined)));
    clients.clear();
  };
  try {
    const [provider, apps] = await Promise.all([BenchChild.start('provider', 'provider'), Promise.all(specs.map((s) => BenchChild.start(s.name, s.script, { profileDir })))]);
    const servers = Object.fromEntries(specs.map((s, i) => [s.name, apps[i]])) as Record<Name, BenchChild>;
    const ready = await provider.request<ProviderReady>('configure', { clients: specs.map((s) => clientFor(s.name, servers[s.name as Name].url)) });
    log(`oidc-provider at ${ready.issuer}`);
    const redisUrl = (db: number): string => `${redisServer.url}/${String(db)}`;
    await Promise.all(
      specs.map((spec: ServerSpec) => {
        const child = servers[spec.name as Name];
        const settings: AppSettings = { issuer: ready.issuer, baseUrl: child.url, clientId: spec.name, clientSecret: clientSecretOf(spec.name), sessionSecret: SESSION_SECRET, store: spec.store };
        if (spec.redisDb !== undefined) settings.redisUrl = redisUrl(spec.redisDb);
        if (spec.scope !== undefined) settings.scope = spec.scope;
        if (spec.prompt !== undefined) settings.prompt = spec.prompt;
        if (spec.script === 'oidc-auth') settings.libraryEntry = spec.libraryEntry ?? libraryEntry;
        return child.request('configure', settings);
      }),
    );
    log(`servers: ${specs.map((s) => `${s.name} ${servers[s.name as Name].url} (pid ${String(servers[s.name as Name].pid)})`).join(', ')}`);
    return {
      redisServer,
      provider,
      issuer: ready.issuer,
      op: ready,
      servers,
      async redis(name) {
        const db = specs.find((s) => s.name === name)?.redisDb;
        if (db === undefined) throw new Error(`${name} does not use Redis`);
        let client = clients.get(db);
        if (client === undefined) {
          client = await connectRedis(redisUrl(db));
          clients.set(db, client);
        }
        return client;
      },
      async close() {
        await closeRedisClients();
        await redisServer.close();
      },
    };
  } catch (err) {
    await closeRedisClients();
    await redisServer.close();
    throw err;
  }
}
