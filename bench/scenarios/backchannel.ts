import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { importJWK, SignJWT } from 'jose';
import { realLogin, sessionIdOf } from '../harness/login.js';
import { usedMemory } from '../harness/redis.js';
import { median } from '../harness/stats.js';
import { openStoredLogin } from '../harness/open-login.js';
import { SESSION_SECRET, type Topology } from '../harness/topology.js';
import { fillSessions, type SeededSession, type SessionTemplate } from './backchannel-fill.js';

const SERVER = 'oidc-auth-backchannel';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const WARMUP = 3;
export const SIZES = [1_000, 10_000, 100_000] as const;

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
  /** seeded sessions written per second (pipelined) */
  fillRate: number;
  /** Redis used_memory growth per seeded session (session key + two index sets), bytes */
  bytesPerSeededSession: number;
}

/**
 * Scenario 4: back-channel logout latency with 1k, 10k and 100k sessions in Redis. Each round
 * empties the database, fills it up size by size, and at each size times requests with valid
 * logout tokens (signed with the provider's key), each ending one seeded session by its sid.
 */
export async function runBackchannel(top: Topology, rounds: number, requestsPerSize: number, log: (line: string) => void): Promise<BackchannelResult> {
  const app = top.servers[SERVER];
  const redis = await top.redis(SERVER);
  const key = await importJWK(top.op.privateJwk, 'RS256');
  // A real login: discovery and keys are fetched, and its session is the template of every seeded one.
  const { cookie } = await realLogin(app.url, 'backchannel-template', ['oidc.sid']);
  const stored = await redis.get(`sess:${sessionIdOf(cookie)}`);
  if (stored === null) throw new Error('the template session is not in Redis');
  const template: SessionTemplate = { document: JSON.parse(stored) as SessionTemplate['document'], login: openStoredLogin(stored, SESSION_SECRET) };

  const sign = (s: SeededSession): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: s.sub, sid: s.sid, jti: randomUUID(), events: { [BACKCHANNEL_EVENT]: {} } })
      .setProtectedHeader({ alg: 'RS256', kid: top.op.signingKid, typ: 'logout+jwt' })
      .setIssuer(top.issuer)
      .setAudience(SERVER)
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
    if ((await redis.exists(`sess:${s.id}`)) !== 0) throw new Error('back-channel logout left the session in Redis');
    return ms;
  };

  const perSize: BackchannelSize[] = SIZES.map((sessions) => ({ sessions, latencyMs: [], roundMedians: [] }));
  let fillMs = 0;
  let bytesPerSeededSession = Number.NaN;
  for (let round = 0; round < rounds; round++) {
    await redis.flushDb();
    const baseline = await usedMemory(redis);
    const seeded: SeededSession[] = [];
    const used = new Set<number>();
    for (const size of perSize) {
      const started = performance.now();
      await fillSessions(redis, template, top.issuer, seeded.length, size.sessions, seeded);
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
    if (round === 0) bytesPerSeededSession = ((await usedMemory(redis)) - baseline) / seeded.length;
  }
  await redis.flushDb();
  return { perSize, rounds, requestsPerSize, fillRate: (rounds * (SIZES.at(-1) ?? 0)) / (fillMs / 1000), bytesPerSeededSession };
}
