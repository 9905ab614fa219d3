import autocannon from 'autocannon';
import type { BenchChild } from './processes.js';

export const CONNECTIONS = 50;

/** One server and one request, as the load generator sends it. */
export interface LoadTarget {
  id: string;
  label: string;
  scenario: 1 | 2;
  child: BenchChild;
  path: string;
  headers: Record<string, string>;
  /** a string the answer must contain (checked once before the load, with a plain fetch) */
  expect: string;
}

export interface LoadSample {
  /** requests per second seen by autocannon */
  rps: number;
  /** server CPU time (user + system) per request, microseconds, from the server's own process.cpuUsage() */
  cpuMicrosPerRequest: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/** Checks the target answers 200 with the expected content, so a lost session cannot pass for a fast one. */
export async function checkTarget(target: LoadTarget): Promise<void> {
  const res = await fetch(target.child.url + target.path, { headers: target.headers, redirect: 'manual' });
  const body = await res.text();
  if (res.status !== 200 || !body.includes(target.expect)) {
    throw new Error(`${target.id}: GET ${target.path} answered ${String(res.status)} ${body.slice(0, 200)}; expected 200 with ${target.expect}`);
  }
}

/** autocannon at CONNECTIONS connections for `seconds`, with the server's CPU time read before and after over IPC. */
export async function load(target: LoadTarget, seconds: number): Promise<LoadSample> {
  const before = await target.child.stats();
  const result = await autocannon({
    url: target.child.url + target.path,
    connections: CONNECTIONS,
    duration: seconds,
    headers: target.headers,
    timeout: 10,
  });
  const after = await target.child.stats();
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) {
    throw new Error(`${target.id}: ${String(result.non2xx)} non-2xx answers, ${String(result.errors)} errors, ${String(result.timeouts)} timeouts under load`);
  }
  const served = after.requests - before.requests;
  return {
    rps: result.requests.total / result.duration,
    cpuMicrosPerRequest: served > 0 ? (after.cpuMicros - before.cpuMicros) / served : Number.NaN,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
  };
}
