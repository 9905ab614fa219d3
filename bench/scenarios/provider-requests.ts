import type { ProviderCounts } from '../harness/ipc.js';
import { realLogin } from '../harness/login.js';
import type { ServerName, Topology } from '../harness/topology.js';

export interface LoginRequests {
  /** server-to-server requests the provider received during this login */
  total: number;
  byPath: Record<string, number>;
}

export interface ProviderRequestsResult {
  server: ServerName;
  /** one entry per login, in order; the first is the cold one (discovery, keys) */
  logins: LoginRequests[];
}

function diff(before: ProviderCounts, after: ProviderCounts): LoginRequests {
  const byPath: Record<string, number> = {};
  for (const [path, n] of Object.entries(after.byPath)) {
    const d = n - (before.byPath[path] ?? 0);
    if (d > 0) byPath[path] = d;
  }
  return { total: after.total - before.total, byPath };
}

/**
 * Scenario 5: provider requests per login. Runs first, on servers that have not talked to the
 * provider yet, with nothing else running: every request the provider sees without the
 * browser's header between two snapshots belongs to that login.
 */
export async function providerRequestsPerLogin(top: Topology, servers: readonly ServerName[], logins: number): Promise<ProviderRequestsResult[]> {
  const results: ProviderRequestsResult[] = [];
  for (const server of servers) {
    const result: ProviderRequestsResult = { server, logins: [] };
    for (let i = 0; i < logins; i++) {
      const before = await top.provider.request<ProviderCounts>('counts');
      await realLogin(top.servers[server].url, `count-${server}-${String(i)}`, ['oidc.sid', 'appSession*']);
      result.logins.push(diff(before, await top.provider.request<ProviderCounts>('counts')));
    }
    results.push(result);
  }
  return results;
}
