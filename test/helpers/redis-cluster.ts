import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { createCluster } from 'redis';
import {
  adminClient,
  freePorts,
  isMissingBinary,
  missingTool,
  LOOPBACK,
  parseInfo,
  pollUntil,
  RedisProcesses,
  type AdminClient,
  type RedisAddress,
} from './redis-processes.js';

export { LOOPBACK, type RedisAddress } from './redis-processes.js';

const CLUSTER_SLOTS = 16384;

export interface SlotRange {
  readonly start: number;
  readonly end: number;
  readonly port: number;
}

/** A 3-master Redis Cluster (no replicas) on 127.0.0.1 for one test file. */
export interface RedisClusterServers {
  readonly nodes: readonly RedisAddress[];
  /** The slot map every node agreed on when the cluster was ready (CLUSTER SLOTS). */
  readonly slots: readonly SlotRange[];
  /** The master that owns `slot`, from `slots`. */
  ownerOfSlot(slot: number): RedisAddress;
  /** Kills every redis-server of the cluster and removes its temp dir. */
  close(): Promise<void>;
}

/**
 * Starts three cluster-enabled redis-servers, joins them with `redis-cli --cluster create`, and
 * resolves once every node reports cluster_state:ok with all 16384 slots assigned, knows all three
 * nodes, and serves the same slot map, with only 127.0.0.1 addresses in it.
 * Each node listens on a free port and uses another free port for the cluster bus (--cluster-port),
 * so no port+10000 clash. Takes about 2 s: a master holds cluster_state at fail for 2 s after its
 * start (Redis' CLUSTER_WRITABLE_DELAY), whatever the join does.
 */
export async function startRedisCluster(): Promise<RedisClusterServers> {
  const ports = await freePorts(6);
  const dataPorts = ports.slice(0, 3);
  const busPorts = ports.slice(3);
  const procs = new RedisProcesses('eoa-redis-cluster-');
  const admins: AdminClient[] = [];
  try {
    await Promise.all(
      dataPorts.map((port, i) => {
        const dir = procs.dirFor(`node-${String(port)}`);
        const logfile = path.join(dir, 'redis.log');
        // prettier-ignore
        const args = [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', path.join(procs.dir, `nodes-${String(port)}.conf`),
          '--cluster-node-timeout', '2000',
          '--cluster-port', String(busPorts[i]),
          '--cluster-announce-ip', LOOPBACK,
          '--bind', LOOPBACK,
          '--port', String(port),
          '--save', '',
          '--appendonly', 'no',
          '--dir', dir,
          '--logfile', logfile,
        ];
        return procs.start(`node-${String(port)}`, port, args, logfile);
      }),
    );
    await promisify(execFile)(
      'redis-cli',
      ['--cluster', 'create', ...dataPorts.map((port) => `${LOOPBACK}:${String(port)}`), '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: 20_000 },
    ).catch((error: unknown) => {
      if (isMissingBinary(error)) throw new Error(missingTool('redis-cli'));
      const output = error instanceof Error && 'stdout' in error ? String(error.stdout) : '';
      throw new Error(`redis-cli --cluster create failed: ${error instanceof Error ? error.message : String(error)} ${output}`);
    });
    for (const port of dataPorts) admins.push(await adminClient(port));
    let slots: SlotRange[] = [];
    await pollUntil(
      'every cluster node at cluster_state:ok with all slots assigned and the same slot map',
      async () => {
        const maps: string[] = [];
        for (const [i, admin] of admins.entries()) {
          const info = parseInfo(await admin.text('CLUSTER', 'INFO'));
          const state = `node ${String(dataPorts[i])}: state ${String(info.get('cluster_state'))}, slots ${String(info.get('cluster_slots_assigned'))}, known nodes ${String(info.get('cluster_known_nodes'))}`;
          if (info.get('cluster_state') !== 'ok' || info.get('cluster_slots_assigned') !== String(CLUSTER_SLOTS) || info.get('cluster_known_nodes') !== '3')
            return state;
          slots = slotRanges(await admin.call('CLUSTER', 'SLOTS'));
          maps.push(JSON.stringify(slots));
        }
        if (new Set(maps).size !== 1) return `nodes disagree on the slot map: ${maps.join(' / ')}`;
        return true;
      },
      10_000,
    );
    const covered = slots.reduce((sum, range) => sum + range.end - range.start + 1, 0);
    if (covered !== CLUSTER_SLOTS || new Set(slots.map((range) => range.port)).size !== 3) throw new Error(`unexpected slot map ${JSON.stringify(slots)}`);
    for (const admin of admins) {
      const nodesText = await admin.text('CLUSTER', 'NODES');
      if (nodesText.split('\n').some((line) => line.trim() !== '' && !line.split(' ')[1]?.startsWith(`${LOOPBACK}:`)))
        throw new Error(`a cluster node announces an address other than ${LOOPBACK}:\n${nodesText}`);
    }
    const nodes = dataPorts.map((port): RedisAddress => ({ host: LOOPBACK, port }));
    return {
      nodes,
      slots,
      ownerOfSlot(slot) {
        const range = slots.find((r) => r.start <= slot && slot <= r.end);
        if (range === undefined) throw new Error(`no owner for slot ${String(slot)}`);
        return { host: LOOPBACK, port: range.port };
      },
      close: () => procs.close(),
    };
  } catch (error) {
    await procs.close();
    throw error;
  } finally {
    for (const admin of admins) admin.close();
  }
}

/** CLUSTER SLOTS (RESP2: [[start, end, [ip, port, id, ...], ...replicas], ...]) as ranges owned by 127.0.0.1 ports, sorted. */
function slotRanges(reply: unknown): SlotRange[] {
  if (!Array.isArray(reply)) throw new Error('CLUSTER SLOTS: not an array');
  const ranges = reply.map((entry: unknown): SlotRange => {
    if (!Array.isArray(entry)) throw new Error('CLUSTER SLOTS: bad entry');
    const [start, end, master] = entry as unknown[];
    if (!Array.isArray(master) || typeof start !== 'number' || typeof end !== 'number') throw new Error(`CLUSTER SLOTS: bad entry ${JSON.stringify(entry)}`);
    const [ip, port] = master as unknown[];
    if (ip !== LOOPBACK || typeof port !== 'number')
      throw new Error(`CLUSTER SLOTS: slots ${String(start)}-${String(end)} served by ${String(ip)}:${String(port)}, not on ${LOOPBACK}`);
    return { start, end, port };
  });
  return ranges.sort((a, b) => a.start - b.start);
}

function makeNodeRedisCluster(servers: RedisClusterServers) {
  return createCluster({
    rootNodes: servers.nodes.map((node) => ({ url: `redis://${node.host}:${String(node.port)}` })),
    defaults: { socket: { connectTimeout: 2000, reconnectStrategy: () => 50 } },
  });
}

export type NodeRedisCluster = ReturnType<typeof makeNodeRedisCluster>;

/** A connected node-redis (v5) cluster client. Its 'error' events are swallowed so a transient error cannot crash the test process. */
export async function connectNodeRedisCluster(servers: RedisClusterServers): Promise<NodeRedisCluster> {
  const cluster = makeNodeRedisCluster(servers);
  cluster.on('error', () => undefined);
  await cluster.connect();
  return cluster;
}

/** A connected ioredis Cluster client (ioredis 5). The nodes announce 127.0.0.1, so no natMap is needed. */
export async function connectIoRedisCluster(servers: RedisClusterServers): Promise<Cluster> {
  const cluster = new Cluster(
    servers.nodes.map((node) => ({ host: node.host, port: node.port })),
    { lazyConnect: true, clusterRetryStrategy: () => 50, redisOptions: { connectTimeout: 2000 } },
  );
  cluster.on('error', () => undefined);
  await cluster.connect();
  return cluster;
}

/** A connected plain ioredis client for `url` (redis://127.0.0.1:P), retrying quickly like the node-redis helpers. */
export async function connectIoRedis(url: string, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2000, retryStrategy: () => 50, ...options });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
