import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { importJWK, SignJWT } from 'jose';
import { realLogin, sessionIdOf } from '../harness/login.js';
import { usedMemory } from '../harness/redis.js';
import { median } from '../harness/stats.js';
import { openStoredLogin } from '../harness/open-login.js';
import { SESSION_SECRET, type PostgresServerName, type ServerName, type Topology } from '../harness/topology.js';
import { fillPostgresSessions, fillSessions, type SeededSession, type SessionTemplate } from './backchannel-fill.js';
import { storedInPostgres } from './sessions.js';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const WARMUP = 3;
export const SIZES = [1_000, 10_000, 100_000] as const;
/** On PostgreSQL: the two sizes of issue 30's target (100,000 against 1,000). */
export const POSTGRES_SIZES = [1_000, 100_000] as const;

export interface BackchannelSize {
  sessions: number;
  /** every timed request, all rounds */
  latencyMs: number[];
  /** the median of each round */
  roundMedians: number[];
}

export interface BackchannelResult {
  perSize: BackchannelSize[];
  rounds: number;
  requestsPerSize: number;
  /** seeded sessions written per second (pipelined, or bulk INSERTs on PostgreSQL) */
  fillRate: number;
  /** storage growth per seeded session (session plus its two index entries), bytes: Redis used_memory, or PostgreSQL's session and index tables with their indexes */
  bytesPerSeededSession: number;
}

/** Where the back-channel server keeps its sessions, as the scenario needs it. */
interface SeededStore {
  /** the stored JSON of a session */
  read(sessionId: string): Promise<string>;
  /** every session and index entry gone */
  empty(): Promise<void>;
  fill(template: SessionTemplate, from: number, to: number, out: SeededSession[]): Promise<void>;
  exists(sessionId: string): Promise<boolean>;
  bytesUsed(): Promise<number>;
}

/**
 * Scenario 4: back-channel logout latency with 1k, 10k and 100k sessions in Redis. Each round
 * empties the database, fills it up size by size, and at each size times requests with valid
 * logout tokens (signed with the provider's key), each ending one seeded session by its sid.
 */
export async function runBackchannel(top: Topology, rounds: number, requestsPerSize: number, log: (line: string) => void): Promise<BackchannelResult> {
  const server = 'oidc-auth-backchannel';
  const redis = await top.redis(server);
  const store: SeededStore = {
    async read(sessionId) {
      const stored = await redis.get(`sess:${sessionId}`);
      if (stored === null) throw new Error('the template session is not in Redis');
      return stored;
    },
    async empty() {
      await redis.flushDb();
    },
    fill: (template, from, to, out) => fillSessions(redis, template, top.issuer, from, to, out),
    async exists(sessionId) {
      return (await redis.exists(`sess:${sessionId}`)) !== 0;
    },
    bytesUsed: () => usedMemory(redis),
  };
  return timeBackchannel(top, server, store, SIZES, rounds, requestsPerSize, log);
}

/**
 * Scenario 4 on PostgreSQL: the same at 1k and 100k sessions, on express-oidc-auth with
 * connect-pg-simple and postgresSessionIndex. Each round truncates the tables, fills them with
 * bulk INSERTs (connect-pg-simple's session rows and the index's rows) and runs ANALYZE, as
 * autovacuum would after such a fill.
 */
export async function runPostgresBackchannel(
  top: Topology<PostgresServerName>,
  rounds: number,
  requestsPerSize: number,
  log: (line: string) => void,
): Promise<BackchannelResult> {
  const server = 'oidc-auth-backchannel-postgres';
  const pool = top.postgres(server);
  const store: SeededStore = {
    read: (sessionId) => storedInPostgres(top, server, sessionId),
    async empty() {
      await pool.query('TRUNCATE session, oidc_index, oidc_ended, oidc_claims');
    },
    async fill(template, from, to, out) {
      await fillPostgresSessions(pool, template, top.issuer, from, to, out);
      await pool.query('ANALYZE session, oidc_index');
    },
    async exists(sessionId) {
      return (await pool.query('SELECT 1 FROM session WHERE sid = $1', [sessionId])).rowCount !== 0;
    },
    async bytesUsed() {
      const { rows } = await pool.query<{ bytes: string }>("SELECT pg_total_relation_size('session') + pg_total_relation_size('oidc_index') AS bytes");
      return Number(rows[0]?.bytes ?? Number.NaN);
    },
  };
  return timeBackchannel(top, server, store, POSTGRES_SIZES, rounds, requestsPerSize, log);
}

async function timeBackchannel<Name extends ServerName>(
  top: Topology<Name>,
  server: Name,
  store: SeededStore,
  sizes: readonly number[],
  rounds: number,
  requestsPerSize: number,
  log: (line: string) => void,
): Promise<BackchannelResult> {
  const app = top.servers[server];
  const key = await importJWK(top.op.privateJwk, 'RS256');
  // A real login: discovery and keys are fetched, and its session is the template of every seeded one.
  const { cookie } = await realLogin(app.url, 'backchannel-template', ['oidc.sid']);
  const stored = await store.read(sessionIdOf(cookie));
  const template: SessionTemplate = { document: JSON.parse(stored) as SessionTemplate['document'], login: openStoredLogin(stored, SESSION_SECRET) };

  const sign = (s: SeededSession): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: s.sub, sid: s.sid, jti: randomUUID(), events: { [BACKCHANNEL_EVENT]: {} } })
      .setProtectedHeader({ alg: 'RS256', kid: top.op.signingKid, typ: 'logout+jwt' })
      .setIssuer(top.issuer)
      .setAudience(server)
      .setIssuedAt(now)
      .setExpirationTime(now + 120)
      .sign(key);
  };
  const post = async (s: SeededSession): Promise<number> => {
    const body = new URLSearchParams({ logout_token: await sign(s) }).toString();
    const started = performance.now();
    const res = await fetch(`${app.url}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    await res.arrayBuffer();
    const ms = performance.now() - started;
    if (res.status !== 200) throw new Error(`back-channel logout answered ${String(res.status)}`);
    if (await store.exists(s.id)) throw new Error('back-channel logout left the session in the store');
    return ms;
  };

  const perSize: BackchannelSize[] = sizes.map((sessions) => ({ sessions, latencyMs: [], roundMedians: [] }));
  let fillMs = 0;
  let bytesPerSeededSession = Number.NaN;
  for (let round = 0; round < rounds; round++) {
    await store.empty();
    const baseline = await store.bytesUsed();
    const seeded: SeededSession[] = [];
    const used = new Set<number>();
    for (const size of perSize) {
      const started = performance.now();
      await store.fill(template, seeded.length, size.sessions, seeded);
      fillMs += performance.now() - started;
      const times: number[] = [];
      for (let i = 0; i < WARMUP + requestsPerSize; i++) {
        // A random seeded session not yet ended: any one of the `size` stored sessions.
        let index = Math.floor(Math.random() * seeded.length);
        for (let tries = 0; used.has(index) && tries < 100; tries++) index = Math.floor(Math.random() * seeded.length);
        used.add(index);
        const target = seeded[index];
        if (target === undefined) continue;
        const ms = await post(target);
        if (i >= WARMUP) times.push(ms);
      }
      size.latencyMs.push(...times);
      size.roundMedians.push(median(times));
      log(`  round ${String(round + 1)}/${String(rounds)} ${String(size.sessions)} sessions: median ${median(times).toFixed(2)} ms`);
    }
    if (round === 0) bytesPerSeededSession = ((await store.bytesUsed()) - baseline) / seeded.length;
  }
  await store.empty();
  return { perSize, rounds, requestsPerSize, fillRate: (rounds * (sizes.at(-1) ?? 0)) / (fillMs / 1000), bytesPerSeededSession };
}
