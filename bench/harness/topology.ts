import type { ClientMetadata } from 'oidc-provider';
import { webClient } from '../../test/helpers/client-metadata.js';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../test/helpers/postgres.js';
import { startRedis, type RedisServer } from '../../test/helpers/redis.js';
import type { AppSettings, ProviderReady } from './ipc.js';
import { BenchChild } from './processes.js';
import { connectRedis, type Redis } from './redis.js';

export const SESSION_SECRET = 'bench-session-secret-0123456789abcdef';

export interface ServerSpec {
  name: string;
  script: 'oidc-auth' | 'express-session' | 'eoc' | 'bare';
  store: 'memory' | 'redis' | 'postgres';
  /** each Redis-backed server has a database of its own in the one redis-server */
  redisDb?: number;
  /** each PostgreSQL-backed server has a database of its own in the one PostgreSQL cluster (letters, digits, underscores) */
  pgDatabase?: string;
  scope?: string;
  prompt?: string;
  /** the tsc build of lib/ this express-oidc-auth server loads, instead of the run's own (bench/compare.ts) */
  libraryEntry?: string;
}

/**
 * The PostgreSQL servers, each on a pool and a database of its own: express-oidc-auth with
 * connect-pg-simple and postgresSessionIndex on one pool, express-session with connect-pg-simple
 * alone, and the back-channel server. `npm run bench -- --postgres` starts only these.
 */
export const POSTGRES_SERVERS = [
  { name: 'oidc-auth-postgres', script: 'oidc-auth', store: 'postgres', pgDatabase: 'bench_oidc_auth' },
  { name: 'express-session-postgres', script: 'express-session', store: 'postgres', pgDatabase: 'bench_express_session' },
  { name: 'oidc-auth-backchannel-postgres', script: 'oidc-auth', store: 'postgres', pgDatabase: 'bench_backchannel' },
] as const satisfies readonly ServerSpec[];

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
  ...POSTGRES_SERVERS,
] as const satisfies readonly ServerSpec[];

export type ServerName = (typeof SERVERS)[number]['name'];
export type PostgresServerName = (typeof POSTGRES_SERVERS)[number]['name'];

export function clientSecretOf(name: string): string {
  return `${name}-secret-0123456789abcdef0123456789`;
}

function clientFor(name: string, appUrl: string): ClientMetadata {
  return webClient(appUrl, name, clientSecretOf(name));
}

/** Everything a run needs: redis-server, PostgreSQL (when a server uses it), the provider and every app server, each in its own process. */
export interface Topology<Name extends string = ServerName> {
  redisServer: RedisServer;
  postgresServer: PostgresServer | undefined;
  provider: BenchChild;
  issuer: string;
  /** what the provider handed over: its signing key and its introspection client */
  op: ProviderReady;
  servers: Record<Name, BenchChild>;
  /** a client on that server's Redis database (opened on first use, closed by close()) */
  redis(name: Name): Promise<Redis>;
  /** a pool on that server's PostgreSQL database (opened on first use, closed by close()) */
  postgres(name: Name): pg.Pool;
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
  const pools = new Map<string, pg.Pool>();
  let postgresServer: PostgresServer | undefined;
  const closeRedisClients = async (): Promise<void> => {
    await Promise.all([...clients.values()].map((c) => c.quit().catch(() => undefined)));
    clients.clear();
    await Promise.all([...pools.values()].map((p) => p.end().catch(() => undefined)));
    pools.clear();
    await postgresServer?.close();
  };
  const postgresUrl = (database: string): string => {
    if (postgresServer === undefined) throw new Error('no PostgreSQL in this run');
    return `postgres://postgres@127.0.0.1:${String(postgresServer.port)}/${database}`;
  };
  try {
    const databases = specs.flatMap((s: ServerSpec) => (s.pgDatabase === undefined ? [] : [s.pgDatabase]));
    if (databases.length > 0) {
      postgresServer = await startPostgres();
      const admin = new pg.Client({ connectionString: postgresServer.url });
      await admin.connect();
      try {
        // The names are the specs' own constants (letters, digits, underscores), no input.
        for (const database of databases) await admin.query(`CREATE DATABASE ${database}`);
      } finally {
        await admin.end();
      }
      log(`PostgreSQL 15 on port ${String(postgresServer.port)}, databases ${databases.join(', ')}`);
    }
    const [provider, apps] = await Promise.all([
      BenchChild.start('provider', 'provider'),
      Promise.all(specs.map((s) => BenchChild.start(s.name, s.script, { profileDir }))),
    ]);
    const servers = Object.fromEntries(specs.map((s, i) => [s.name, apps[i]])) as Record<Name, BenchChild>;
    const ready = await provider.request<ProviderReady>('configure', { clients: specs.map((s) => clientFor(s.name, servers[s.name as Name].url)) });
    log(`oidc-provider at ${ready.issuer}`);
    const redisUrl = (db: number): string => `${redisServer.url}/${String(db)}`;
    await Promise.all(
      specs.map((spec: ServerSpec) => {
        const child = servers[spec.name as Name];
        const settings: AppSettings = {
          issuer: ready.issuer,
          baseUrl: child.url,
          clientId: spec.name,
          clientSecret: clientSecretOf(spec.name),
          sessionSecret: SESSION_SECRET,
          store: spec.store,
        };
        if (spec.redisDb !== undefined) settings.redisUrl = redisUrl(spec.redisDb);
        if (spec.pgDatabase !== undefined) settings.postgresUrl = postgresUrl(spec.pgDatabase);
        if (spec.scope !== undefined) settings.scope = spec.scope;
        if (spec.prompt !== undefined) settings.prompt = spec.prompt;
        if (spec.script === 'oidc-auth') settings.libraryEntry = spec.libraryEntry ?? libraryEntry;
        return child.request('configure', settings);
      }),
    );
    log(`servers: ${specs.map((s) => `${s.name} ${servers[s.name as Name].url} (pid ${String(servers[s.name as Name].pid)})`).join(', ')}`);
    return {
      redisServer,
      postgresServer,
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
      postgres(name) {
        const database = specs.find((s) => s.name === name)?.pgDatabase;
        if (database === undefined) throw new Error(`${name} does not use PostgreSQL`);
        let pool = pools.get(database);
        if (pool === undefined) {
          pool = new pg.Pool({ connectionString: postgresUrl(database), max: 4 });
          pool.on('error', (err: unknown) => {
            console.error('postgres pool error', err);
          });
          pools.set(database, pool);
        }
        return pool;
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
