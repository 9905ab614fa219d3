import { checkTarget, load, type LoadSample, type LoadTarget } from '../harness/load.js';
import { shuffled, type ThroughputPlan, type ThroughputResult } from './throughput.js';

const SETTLE_MS = 300;

/** Slices of one target in one round as one sample: req/s averaged, CPU per request weighted by requests. */
function combine(slices: readonly LoadSample[]): LoadSample {
  const rps = slices.reduce((sum, s) => sum + s.rps, 0) / slices.length;
  const cpu = slices.reduce((sum, s) => sum + s.cpuMicrosPerRequest * s.rps, 0) / slices.reduce((sum, s) => sum + s.rps, 0);
  const mean = (pick: (s: LoadSample) => number): number => slices.reduce((sum, s) => sum + pick(s), 0) / slices.length;
  return { rps, cpuMicrosPerRequest: cpu, latencyP50Ms: mean((s) => s.latencyP50Ms), latencyP99Ms: mean((s) => s.latencyP99Ms) };
}

/**
 * The servers of each group measured in alternating half-slices every round, A B B A (or
 * A B C C B A): the machine's drift over a round then lands on each of them alike, to first
 * order, so a ratio inside a group compares the same seconds instead of neighbouring ones.
 * Groups are visited in a shuffled order per round, and the order inside a group flips
 * every other round.
 */
export async function runInterleaved(
  targets: readonly LoadTarget[],
  groups: readonly (readonly string[])[],
  plan: ThroughputPlan,
  log: (line: string) => void,
): Promise<ThroughputResult[]> {
  const byId = new Map(targets.map((t) => [t.id, t]));
  for (const target of targets) await checkTarget(target);
  for (const target of targets) {
    await load(target, plan.warmupSeconds);
    await checkTarget(target);
  }
  const results = new Map(targets.map((t): [string, ThroughputResult] => [t.id, { id: t.id, label: t.label, scenario: t.scenario, samples: [] }]));
  for (let round = 0; round < plan.rounds; round++) {
    for (const g of shuffled(groups.length, round + 1)) {
      const group = groups[g] ?? [];
      const forward = round % 2 === 0 ? [...group] : [...group].reverse();
      const slices = new Map<string, LoadSample[]>();
      for (const id of [...forward, ...[...forward].reverse()]) {
        const target = byId.get(id);
        if (target === undefined) throw new Error(`no target ${id}`);
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const sample = await load(target, plan.seconds / 2);
        slices.set(id, [...(slices.get(id) ?? []), sample]);
      }
      for (const id of group) {
        const sample = combine(slices.get(id) ?? []);
        results.get(id)?.samples.push(sample);
        log(`  round ${String(round + 1)}/${String(plan.rounds)} ${id}: ${sample.rps.toFixed(0)} req/s, ${sample.cpuMicrosPerRequest.toFixed(1)} µs CPU/req`);
      }
    }
  }
  for (const target of targets) await checkTarget(target);
  return targets.map((t) => results.get(t.id)).filter((r): r is ThroughputResult => r !== undefined);
}
