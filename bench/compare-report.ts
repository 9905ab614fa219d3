import { CONNECTIONS } from './harness/load.js';
import type { MachineInfo } from './harness/machine.js';
import { median, pairedRatio } from './harness/stats.js';
import type { TelemetryCost } from './scenarios/telemetry-cost.js';
import type { ThroughputPlan, ThroughputResult } from './scenarios/throughput.js';

export interface Variant {
  /** 'checkout', or the abbreviated commit id */
  id: string;
  label: string;
  /** the compiled library's index.js */
  entry: string;
  /** the commit's subject line */
  subject?: string;
}

export interface Comparison {
  machine: MachineInfo;
  plan: ThroughputPlan;
  variants: Variant[];
  /** target ids measured back to back, the checkout's first */
  groups: string[][];
  throughput: ThroughputResult[];
  telemetry: TelemetryCost;
  durationSec: number;
}

/**
 * How far the checkout may be slower than a commit before the report says so: the bound the
 * issues set for work that must not change the cost of a request (issue 15, issue 17).
 */
export const UNCHANGED_WITHIN = 0.03;

const x = (v: number): string => `${v.toFixed(3)}×`;

export function compareReport(c: Comparison): string {
  const byId = new Map(c.throughput.map((r) => [r.id, r]));
  const get = (id: string): ThroughputResult => {
    const r = byId.get(id);
    if (r === undefined) throw new Error(`no result for ${id}`);
    return r;
  };
  const rps = (r: ThroughputResult): number[] => r.samples.map((s) => s.rps);
  const cpu = (r: ThroughputResult): number[] => r.samples.map((s) => s.cpuMicrosPerRequest);
  const lines = [
    '# This checkout against earlier commits',
    '',
    `Made by \`npm run bench:compare\` (bench/compare.ts) on ${c.machine.date.slice(0, 10)} (${c.machine.date}), in ${(c.durationSec / 60).toFixed(0)} minutes: ${String(c.plan.rounds)} rounds × ${String(c.plan.seconds)} s per server after a ${String(c.plan.warmupSeconds)} s warm-up, autocannon at ${String(CONNECTIONS)} connections. Every library is the tsc build of its lib/ (the older ones taken from git), loaded by the same server script against the same dependencies and provider. In every round the servers of one row group are measured in alternating half-slices (A B B A, or A B C C B A; the order flipped every other round), and each server's two slices make its sample, so the machine's drift over a round lands on each alike and a ratio compares the same seconds.`,
    '',
    `Machine: ${String(c.machine.nproc)} CPUs, ${c.machine.cpuModel}, node ${c.machine.node}, redis-server ${c.machine.redisServer}; load average ${c.machine.loadAverage.join(' / ')} at the start (a shared machine).`,
    '',
    'Libraries:',
    '',
    ...c.variants.map((v) => `- ${v.label}${v.subject === undefined ? '' : `: ${v.subject}`}`),
    '',
    `## Ratios (median of the per-round ratios; "unchanged" means req/s at least ${String(100 - UNCHANGED_WITHIN * 100)} % of the commit's)`,
    '',
    '| request | checkout | against | req/s checkout ÷ commit | CPU/req checkout ÷ commit | unchanged |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const group of c.groups) {
    const [headId, ...others] = group;
    if (headId === undefined) continue;
    const head = get(headId);
    for (const otherId of others) {
      const other = get(otherId);
      const ratio = pairedRatio(rps(head), rps(other));
      lines.push(
        `| ${headId.split('/').slice(0, 2).join(' ')} | ${head.label} | ${other.label} | ${x(ratio)} | ${x(pairedRatio(cpu(head), cpu(other)))} | ${ratio >= 1 - UNCHANGED_WITHIN ? 'yes' : '**no**'} |`,
      );
    }
  }
  const authCpu = c.throughput.filter((r) => r.id.startsWith('auth/') && r.id.endsWith('/checkout')).map((r) => median(cpu(r)));
  const cheapest = Math.min(...authCpu);
  lines.push(
    '',
    '## Instrumentation without an OpenTelemetry SDK, measured alone',
    '',
    `An authenticated request reaches one piece of the package's instrumentation: the session store read's span and histogram record. With no SDK registered (the global no-op API) that costs ${c.telemetry.storeCallMicros.toFixed(3)} µs a call (median of ${String(c.telemetry.samples.length)} repeats: ${c.telemetry.samples.map((v) => v.toFixed(3)).join(', ')} µs), ${((c.telemetry.storeCallMicros / cheapest) * 100).toFixed(2)} % of the checkout's cheapest authenticated request above (${cheapest.toFixed(0)} µs CPU): far below what the throughput rounds can resolve: compare the checkout against its own commit, where there is one, for the noise floor of the run.`,
  );
  lines.push(
    '',
    '## Every sample',
    '',
    '| server | req/s (median) | req/s per round | CPU µs/req (median) | CPU µs/req per round |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const r of c.throughput) {
    lines.push(
      `| ${r.label} | ${median(rps(r)).toFixed(0)} | ${rps(r)
        .map((v) => v.toFixed(0))
        .join(', ')} | ${median(cpu(r)).toFixed(1)} | ${cpu(r)
        .map((v) => v.toFixed(0))
        .join(', ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
