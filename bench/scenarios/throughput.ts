import { checkTarget, load, type LoadSample, type LoadTarget } from '../harness/load.js';
import type { PostgresServerName, ServerName, Topology } from '../harness/topology.js';
import type { LoggedIn } from '../harness/login.js';
import type { Sessions } from './sessions.js';

export interface ThroughputPlan {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
}

export interface ThroughputResult {
  id: string;
  label: string;
  scenario: 1 | 2;
  /** one sample per round, in round order */
  samples: LoadSample[];
}

/** A scenario-1 target: the authenticated GET of a requiresAuth() route, with the session cookie of a login on that server. */
function authenticated<Name extends ServerName>(
  top: Topology<Name>,
  cookies: Partial<Record<Name, LoggedIn>>,
  id: string,
  label: string,
  child: Name,
): LoadTarget {
  const logged = cookies[child];
  if (logged === undefined) throw new Error(`no session for ${child}`);
  return { id, label, scenario: 1, child: top.servers[child], path: '/profile', headers: { cookie: logged.cookie }, expect: '"sub":"alice"' };
}

/** The PostgreSQL pair of scenario 1 (`npm run bench -- --postgres` runs only these). */
export function postgresThroughputTargets(top: Topology<PostgresServerName>, cookies: Partial<Record<PostgresServerName, LoggedIn>>): LoadTarget[] {
  return [
    authenticated(top, cookies, 'auth/oidc-auth/postgres', 'express-oidc-auth, connect-pg-simple', 'oidc-auth-postgres'),
    authenticated(top, cookies, 'auth/express-session/postgres', 'express-session alone, connect-pg-simple', 'express-session-postgres'),
  ];
}

/** Scenario 1 (authenticated GET of a requiresAuth() route) and 2 (anonymous GET of a public route). */
export function throughputTargets(top: Topology, sessions: Sessions): LoadTarget[] {
  const s = top.servers;
  const authed = (id: string, label: string, child: ServerName): LoadTarget => authenticated(top, sessions.cookies, id, label, child);
  const anonymous = (id: string, label: string, child: keyof typeof s): LoadTarget => ({
    id,
    label,
    scenario: 2,
    child: s[child],
    path: '/public',
    headers: {},
    expect: '"ok":true',
  });
  return [
    authed('auth/oidc-auth/memory', 'express-oidc-auth, MemoryStore', 'oidc-auth-memory'),
    authed('auth/express-session/memory', 'express-session alone, MemoryStore', 'express-session-memory'),
    authed('auth/oidc-auth/redis', 'express-oidc-auth, connect-redis', 'oidc-auth-redis'),
    authed('auth/express-session/redis', 'express-session alone, connect-redis', 'express-session-redis'),
    ...postgresThroughputTargets(top, sessions.cookies),
    authed('auth/eoc/cookie', 'express-openid-connect, cookie session', 'eoc-cookie'),
    authed('auth/eoc/redis', 'express-openid-connect, connect-redis', 'eoc-redis'),
    anonymous('anon/bare', 'bare Express', 'bare'),
    anonymous('anon/oidc-auth', 'express-oidc-auth', 'oidc-auth-memory'),
    anonymous('anon/express-session', 'express-session alone', 'express-session-memory'),
    anonymous('anon/eoc', 'express-openid-connect', 'eoc-cookie'),
  ];
}

/** A permutation of 0..n-1, the same for the same seed (mulberry32), so that every run visits targets alike. */
export function shuffled(n: number, seed: number): number[] {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] ?? j, order[i] ?? i];
  }
  return order;
}

const SETTLE_MS = 500;

/**
 * The servers whose ratio is a target against express-session alone or bare Express: each
 * pair is measured back to back within a round, so that both halves of a ratio see the same
 * spell of the shared machine (apart, a round's ten servers span two minutes, and the
 * machine's speed drifts by ±20 % over that).
 */
export const BACK_TO_BACK: readonly (readonly string[])[] = [
  ['auth/oidc-auth/memory', 'auth/express-session/memory'],
  ['auth/oidc-auth/redis', 'auth/express-session/redis'],
  ['auth/oidc-auth/postgres', 'auth/express-session/postgres'],
  ['anon/oidc-auth', 'anon/bare'],
];

/** Target indexes in a round's order: groups shuffled, each group's order flipped every other round. */
export function roundOrder(targets: readonly LoadTarget[], round: number, together: readonly (readonly string[])[] = BACK_TO_BACK): number[] {
  const indexOf = new Map(targets.map((t, i) => [t.id, i]));
  const grouped = new Set(together.flat());
  const groups: number[][] = together.map((pair) => pair.map((id) => indexOf.get(id)).filter((i): i is number => i !== undefined));
  targets.forEach((t, i) => {
    if (!grouped.has(t.id)) groups.push([i]);
  });
  return shuffled(groups.length, round + 1).flatMap((g) => {
    const group = groups[g] ?? [];
    return round % 2 === 0 ? group : [...group].reverse();
  });
}

/**
 * Every target checked, warmed up, then measured in interleaved rounds: each round visits
 * every target once, in an order of its own (a shuffle, so that no target always follows
 * the same neighbour, except the pairs of BACK_TO_BACK, which stay together), after a short
 * pause for the previous server to go quiet. A slow spell of the shared machine thus lands
 * on all of them alike.
 */
export async function runThroughput(
  targets: readonly LoadTarget[],
  plan: ThroughputPlan,
  log: (line: string) => void,
  together: readonly (readonly string[])[] = BACK_TO_BACK,
): Promise<ThroughputResult[]> {
  for (const target of targets) await checkTarget(target);
  for (const target of targets) {
    await load(target, plan.warmupSeconds);
    await checkTarget(target);
  }
  const results = targets.map((t): ThroughputResult => ({ id: t.id, label: t.label, scenario: t.scenario, samples: [] }));
  for (let round = 0; round < plan.rounds; round++) {
    for (const index of roundOrder(targets, round, together)) {
      const target = targets[index];
      const result = results[index];
      if (target === undefined || result === undefined) continue;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const sample = await load(target, plan.seconds);
      result.samples.push(sample);
      log(
        `  round ${String(round + 1)}/${String(plan.rounds)} ${target.id}: ${sample.rps.toFixed(0)} req/s, ${sample.cpuMicrosPerRequest.toFixed(1)} µs CPU/req`,
      );
    }
  }
  for (const target of targets) await checkTarget(target);
  return results;
}
