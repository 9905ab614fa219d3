import { realLogin, sessionIdOf, type LoggedIn } from '../harness/login.js';
import { memoryUsage } from '../harness/redis.js';
import { openStoredLogin } from '../harness/open-login.js';
import type { Login } from '../../lib/session/session.js';
import { SESSION_SECRET, type PostgresServerName, type ServerName, type Topology } from '../harness/topology.js';

/** The session cookie each scenario-1 server gets, and what that session weighs. */
export interface Sessions {
  cookies: Partial<Record<ServerName, LoggedIn>>;
  /** the express-oidc-auth session document exactly as connect-redis stored it */
  oidcAuthDocument: Record<string, unknown>;
}

export interface CookieSize {
  server: ServerName;
  /** bytes of name=value pairs the browser sends back on every request */
  cookieBytes: number;
  /** bytes of the Set-Cookie header line(s), attributes included */
  setCookieBytes: number;
  cookies: number;
}

export interface RedisSize {
  server: ServerName;
  key: string;
  /** MEMORY USAGE of the key */
  memoryBytes: number;
  /** length of the stored value */
  valueBytes: number;
}

export interface SizeResult {
  cookies: CookieSize[];
  redis: RedisSize[];
  /** MEMORY USAGE of express-oidc-auth's two index entries (sorted sets) for that session */
  indexKeys: { key: string; memoryBytes: number }[];
  /** JSON bytes of the parts of an express-oidc-auth session */
  payload: Record<string, number>;
}

const COOKIE_NAMES: Partial<Record<ServerName, string[]>> = {
  'oidc-auth-memory': ['oidc.sid'],
  'oidc-auth-redis': ['oidc.sid'],
  'eoc-cookie': ['appSession*'],
  'eoc-redis': ['appSession*'],
};

/** Real logins for the express-oidc-auth and express-openid-connect servers; the same payload seeded into express-session alone. */
export async function prepareSessions(top: Topology): Promise<Sessions> {
  const cookies: Partial<Record<ServerName, LoggedIn>> = {};
  for (const [server, names] of Object.entries(COOKIE_NAMES) as [ServerName, string[]][]) {
    cookies[server] = await realLogin(top.servers[server].url, 'alice', names);
  }
  const redis = await top.redis('oidc-auth-redis');
  const stored = await redis.get(`sess:${sessionIdOf(cookies['oidc-auth-redis']?.cookie ?? '')}`);
  if (stored === null) throw new Error('the express-oidc-auth session is not in Redis');
  const oidcAuthDocument = JSON.parse(stored) as Record<string, unknown>;
  // express-session alone holds the same login unsealed: what an app keeping tokens itself would store.
  const plainLogin = openStoredLogin(stored, SESSION_SECRET);
  for (const server of ['express-session-memory', 'express-session-redis'] as const) {
    cookies[server] = await seedExpressSession(top.servers[server].url, plainLogin);
  }
  return { cookies: { ...cookies, ...(await preparePostgresSessions(top)) }, oidcAuthDocument };
}

/** express-session alone given `login` unsealed through its bench-only route: its cookie. */
async function seedExpressSession(url: string, login: Login): Promise<LoggedIn> {
  const res = await fetch(`${url}/bench/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ oidc: { login } }),
  });
  if (res.status !== 204) throw new Error(`seeding ${url} answered ${String(res.status)}`);
  const setCookie = res.headers.getSetCookie().filter((line) => line.startsWith('oidc.sid='));
  return { cookie: setCookie.map((line) => line.split(';')[0] ?? '').join('; '), setCookie };
}

/** connect-pg-simple's row of a session, its `sess` as text (the JSON the store wrote); throws when there is none. */
export async function storedInPostgres(top: Topology<PostgresServerName>, server: PostgresServerName, sessionId: string): Promise<string> {
  const { rows } = await top.postgres(server).query<{ sess: string }>('SELECT sess::text AS sess FROM session WHERE sid = $1', [sessionId]);
  const stored = rows[0]?.sess;
  if (stored === undefined) throw new Error(`the ${server} session is not in PostgreSQL`);
  return stored;
}

/**
 * The PostgreSQL pair of scenario 1: a real login on express-oidc-auth (connect-pg-simple and
 * postgresSessionIndex), and the same login, opened from its row, seeded unsealed into
 * express-session with connect-pg-simple alone: the same payload the Redis pair holds.
 */
export async function preparePostgresSessions(top: Topology<PostgresServerName>): Promise<Partial<Record<PostgresServerName, LoggedIn>>> {
  const oidcAuth = await realLogin(top.servers['oidc-auth-postgres'].url, 'alice', ['oidc.sid']);
  const plainLogin = openStoredLogin(await storedInPostgres(top, 'oidc-auth-postgres', sessionIdOf(oidcAuth.cookie)), SESSION_SECRET);
  return { 'oidc-auth-postgres': oidcAuth, 'express-session-postgres': await seedExpressSession(top.servers['express-session-postgres'].url, plainLogin) };
}

function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
}

/** Scenario 6: cookie sizes, and Redis bytes per session (MEMORY USAGE of the session key). */
export async function measureSizes(top: Topology, sessions: Sessions): Promise<SizeResult> {
  const cookies: CookieSize[] = [];
  for (const [server, logged] of Object.entries(sessions.cookies) as [ServerName, LoggedIn][]) {
    cookies.push({
      server,
      cookieBytes: Buffer.byteLength(logged.cookie),
      setCookieBytes: logged.setCookie.reduce((sum, line) => sum + Buffer.byteLength(line), 0),
      cookies: logged.setCookie.length,
    });
  }
  const redisKeys: [ServerName, string][] = [
    ['oidc-auth-redis', `sess:${sessionIdOf(sessions.cookies['oidc-auth-redis']?.cookie ?? '')}`],
    ['express-session-redis', `sess:${sessionIdOf(sessions.cookies['express-session-redis']?.cookie ?? '')}`],
    ['eoc-redis', `eoc:${(sessions.cookies['eoc-redis']?.cookie ?? '').split('=')[1] ?? ''}`],
  ];
  const redis: RedisSize[] = [];
  for (const [server, key] of redisKeys) {
    const client = await top.redis(server);
    redis.push({ server, key, memoryBytes: await memoryUsage(client, key), valueBytes: await client.strLen(key) });
  }
  const doc = sessions.oidcAuthDocument as { cookie?: unknown; oidc?: { login?: Record<string, unknown> } & Record<string, unknown> };
  const login = doc.oidc?.login ?? {};
  // The index keys are keyed hashes, not the sub and sid: measure every key the index holds.
  const index = await top.redis('oidc-auth-redis');
  const indexKeys = [];
  for (const key of await index.keys('oidc:s*')) {
    indexKeys.push({ key, memoryBytes: await memoryUsage(index, key) });
  }
  const { claims: sealedClaims, tokens: sealedTokens, ...rest } = login;
  return {
    cookies,
    redis,
    indexKeys,
    payload: {
      document: jsonBytes(doc),
      cookieObject: jsonBytes(doc.cookie),
      sealedClaims: typeof sealedClaims === 'string' ? sealedClaims.length : 0,
      sealedTokens: typeof sealedTokens === 'string' ? sealedTokens.length : 0,
      otherLoginFields: jsonBytes(rest),
    },
  };
}
