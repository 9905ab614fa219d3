import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { createSentinel } from 'redis';
import {
  freePorts,
  GiveUp,
  LOOPBACK,
  parseInfo,
  parsePairs,
  pollUntil,
  RedisProcesses,
  withAdmin,
  withAdmins,
  type AdminClient,
  type RedisAddress,
} from './redis-processes.js';

export { LOOPBACK, type RedisAddress } from './redis-processes.js';

export const MASTER_NAME = 'mymaster';

export interface FailoverOptions {
  /**
   * Demote the old master at once, as Sentinel itself would (REPLICAOF the new master, then
   * CLIENT KILL TYPE normal and pubsub, its +convert-to-slave), and wait until it replicates from
   * the new master. Default true. Sentinel does this by itself only about 8-10 s after the
   * switch, and until then the old master still accepts writes from clients connected to it.
   */
  readonly demoteOldMaster?: boolean;
  readonly timeoutMs?: number;
}

/** 1 master + 1 replica + 3 sentinels on 127.0.0.1 for one test file. */
export interface RedisSentinelServers {
  readonly masterName: typeof MASTER_NAME;
  /** The current master: after failover() this is the former replica. */
  readonly master: RedisAddress;
  /** The current replica: after failover() this is the former master. */
  readonly replica: RedisAddress;
  readonly sentinels: readonly RedisAddress[];
  /**
   * SENTINEL FAILOVER, then waits until every sentinel names the replica as master and that node's
   * INFO says role:master; with demoteOldMaster (the default), also until the old master is a
   * replica of it with its link up. Then `master` and `replica` swap.
   */
  failover(options?: FailoverOptions): Promise<void>;
  /** Kills the five processes and removes the temp dir. */
  close(): Promise<void>;
}

/**
 * Starts the master, then the replica (--replicaof) and three sentinels, and resolves once every
 * sentinel sees the master, the replica and the two other sentinels, all at 127.0.0.1, and the
 * replica's link to the master is up.
 * Startup is quick because: the data nodes use repl-diskless-sync-delay 0 (Redis 7 otherwise waits
 * 5 s before the first full sync); each sentinel config names the replica and the other sentinels
 * (known-replica, known-sentinel with pre-chosen myids), the lines Sentinel itself writes once it
 * has discovered them, so nothing waits for the 2 s hello cycle.
 */
export async function startRedisSentinel(): Promise<RedisSentinelServers> {
  const [masterPort, replicaPort, ...sentinelPorts] = await freePorts(5);
  if (masterPort === undefined || replicaPort === undefined || sentinelPorts.length !== 3) throw new Error('freePorts(5) did not return 5 ports');
  const procs = new RedisProcesses('eoa-redis-sentinel-');
  try {
    const startData = (name: string, port: number, extra: readonly string[]): Promise<void> => {
      const dir = procs.dirFor(name);
      const logfile = path.join(dir, 'redis.log');
      // prettier-ignore
      const args = [
        '--bind', LOOPBACK,
        '--port', String(port),
        '--save', '',
        '--appendonly', 'no',
        '--dir', dir,
        '--logfile', logfile,
        '--repl-diskless-sync-delay', '0',
        '--replica-announce-ip', LOOPBACK,
        ...extra,
      ];
      return procs.start(name, port, args, logfile);
    };
    // The master first: a replica that finds no master retries only once a second. The sentinels
    // may start with the replica (they know it from their config and wait for it).
    await startData('master', masterPort, []);
    const ids = sentinelPorts.map(() => randomBytes(20).toString('hex'));
    await Promise.all([
      startData('replica', replicaPort, ['--replicaof', LOOPBACK, String(masterPort)]),
      ...sentinelPorts.map((port, i) => {
        const name = `sentinel-${String(port)}`;
        const dir = procs.dirFor(name);
        const logfile = path.join(dir, 'sentinel.log');
        const conf = path.join(dir, 'sentinel.conf');
        const lines = [
          `port ${String(port)}`,
          `bind ${LOOPBACK}`,
          `dir ${dir}`,
          `logfile ${logfile}`,
          `sentinel myid ${String(ids[i])}`,
          `sentinel announce-ip ${LOOPBACK}`,
          `sentinel monitor ${MASTER_NAME} ${LOOPBACK} ${String(masterPort)} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 5000`,
          `sentinel known-replica ${MASTER_NAME} ${LOOPBACK} ${String(replicaPort)}`,
          ...sentinelPorts.flatMap((other, j) => (j === i ? [] : [`sentinel known-sentinel ${MASTER_NAME} ${LOOPBACK} ${String(other)} ${String(ids[j])}`])),
        ];
        // Sentinel rewrites its config file, so it must be a writable file of its own.
        writeFileSync(conf, `${lines.join('\n')}\n`);
        return procs.start(name, port, [conf, '--sentinel'], logfile);
      }),
    ]);

    await withAdmins([replicaPort, ...sentinelPorts], ([replicaAdmin, ...sentinelAdmins]) =>
      pollUntil(
        'every sentinel seeing the master, the replica and the other sentinels; the replica linked',
        async () => {
          for (const [i, port] of sentinelPorts.entries()) {
            const admin = sentinelAdmins[i];
            if (admin === undefined) throw new Error('no admin client');
            const seen = await sentinelView(admin);
            const want = {
              master: `${LOOPBACK}:${String(masterPort)}`,
              replicas: [`${LOOPBACK}:${String(replicaPort)}`],
              sentinels: sentinelPorts
                .filter((p) => p !== port)
                .map((p) => `${LOOPBACK}:${String(p)}`)
                .sort(),
            };
            if (JSON.stringify(seen) !== JSON.stringify(want)) return `sentinel ${String(port)} sees ${JSON.stringify(seen)}`;
          }
          const link = parseInfo((await replicaAdmin?.text('INFO', 'replication')) ?? '').get('master_link_status');
          return link === 'up' || `replica master_link_status ${String(link)}`;
        },
        15_000,
      ),
    );

    let current = { master: masterPort, replica: replicaPort };
    const at = (port: number): RedisAddress => ({ host: LOOPBACK, port });
    return {
      masterName: MASTER_NAME,
      get master() {
        return at(current.master);
      },
      get replica() {
        return at(current.replica);
      },
      sentinels: sentinelPorts.map(at),
      async failover(options = {}) {
        const { demoteOldMaster = true, timeoutMs = 15_000 } = options;
        const { master: oldMaster, replica: newMaster } = current;
        await withAdmins([oldMaster, ...sentinelPorts], async ([oldAdmin, ...sentinelAdmins]) => {
          if (oldAdmin === undefined) throw new Error('no admin client');
          const leader = sentinelAdmins[0];
          if (leader === undefined) throw new Error('no sentinel');
          // Right after an earlier failover a sentinel may not yet rate the old master, now a
          // replica, as promotable (NOGOODSLAVE) until it has refreshed its INFO: retry, bounded.
          // INPROG means a failover already runs: wait for its outcome, never start another.
          await pollUntil(
            'SENTINEL FAILOVER accepted',
            async () => {
              try {
                await leader.call('SENTINEL', 'FAILOVER', MASTER_NAME);
                return true;
              } catch (error) {
                if (error instanceof Error && error.message.startsWith('NOGOODSLAVE')) return error.message;
                if (error instanceof Error && error.message.startsWith('INPROG')) return true;
                throw new GiveUp(`SENTINEL FAILOVER: ${String(error)}`);
              }
            },
            timeoutMs,
            100,
          );
          await pollUntil(
            `every sentinel naming ${LOOPBACK}:${String(newMaster)} as master, and that node at role:master`,
            async () => {
              for (const [i, admin] of sentinelAdmins.entries()) {
                const addr = await admin.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME);
                if (JSON.stringify(addr) !== JSON.stringify([LOOPBACK, String(newMaster)]))
                  return `sentinel ${String(sentinelPorts[i])} names ${JSON.stringify(addr)}`;
              }
              // A new connection each time: the promotion kills the normal clients of the promoted node.
              const role = parseInfo(await withAdmin(newMaster, (client) => client.text('INFO', 'replication'))).get('role');
              return role === 'master' || `new master's role is ${String(role)}`;
            },
            timeoutMs,
          );
          if (!demoteOldMaster) return;
          // What Sentinel sends on +convert-to-slave (CLIENT KILL skips the connection sending it).
          await oldAdmin.call('REPLICAOF', LOOPBACK, String(newMaster));
          await oldAdmin.call('CLIENT', 'KILL', 'TYPE', 'normal');
          await oldAdmin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
          await pollUntil(
            `the old master ${String(oldMaster)} replicating from ${String(newMaster)}`,
            async () => {
              const info = parseInfo(await oldAdmin.text('INFO', 'replication'));
              const state = `role ${String(info.get('role'))}, master_port ${String(info.get('master_port'))}, link ${String(info.get('master_link_status'))}`;
              return (info.get('role') === 'slave' && info.get('master_port') === String(newMaster) && info.get('master_link_status') === 'up') || state;
            },
            timeoutMs,
          );
        });
        current = { master: newMaster, replica: oldMaster };
      },
      close: () => procs.close(),
    };
  } catch (error) {
    await procs.close();
    throw error;
  }
}

/** What one sentinel knows: master address, replica addresses (link ok), other sentinels, sorted. */
async function sentinelView(client: AdminClient): Promise<{ master: string; replicas: string[]; sentinels: string[] }> {
  const master = parsePairs(await client.call('SENTINEL', 'MASTER', MASTER_NAME));
  const list = async (what: 'REPLICAS' | 'SENTINELS'): Promise<Map<string, string>[]> => {
    const reply = await client.call('SENTINEL', what, MASTER_NAME);
    if (!Array.isArray(reply)) throw new Error(`SENTINEL ${what}: not an array`);
    return reply.map((entry) => parsePairs(entry));
  };
  const address = (fields: Map<string, string>): string => `${String(fields.get('ip'))}:${String(fields.get('port'))}`;
  const healthy = (fields: Map<string, string>): boolean => !/s_down|o_down|disconnected/.test(fields.get('flags') ?? '');
  return {
    master:
      healthy(master) && master.get('flags')?.split(',').includes('master') === true ? address(master) : `${address(master)} (${String(master.get('flags'))})`,
    replicas: (await list('REPLICAS'))
      .filter((r) => healthy(r) && r.get('master-link-status') === 'ok')
      .map(address)
      .sort(),
    sentinels: (await list('SENTINELS')).filter(healthy).map(address).sort(),
  };
}

function makeNodeRedisSentinel(servers: RedisSentinelServers) {
  return createSentinel({
    name: servers.masterName,
    sentinelRootNodes: servers.sentinels.map((s) => ({ host: s.host, port: s.port })),
    nodeClientOptions: { socket: { connectTimeout: 2000, reconnectStrategy: () => 50 } },
    sentinelClientOptions: { socket: { connectTimeout: 2000, reconnectStrategy: () => 50 } },
  });
}

export type NodeRedisSentinel = ReturnType<typeof makeNodeRedisSentinel>;

/**
 * A connected node-redis (v5) Sentinel client (createSentinel) on the master. Its 'error' events
 * are swallowed. It follows a failover at once: it listens on the sentinels' pub/sub for '+slave'
 * (among others), which Sentinel publishes right at the switch, and rediscovers on READONLY.
 */
export async function connectNodeRedisSentinel(servers: RedisSentinelServers): Promise<NodeRedisSentinel> {
  const sentinel = makeNodeRedisSentinel(servers);
  sentinel.on('error', () => undefined);
  await sentinel.connect();
  return sentinel;
}

/**
 * A connected ioredis client on the master, found through the sentinels. With ioredis' defaults it
 * learns of a failover only when its connection drops: failover() kills the old master's clients,
 * as Sentinel does. With `failoverDetector: true` in `options` it also follows +switch-master at
 * once; without it, and with `failover({ demoteOldMaster: false })`, it keeps writing to the old
 * master until Sentinel converts it (about 10 s), and those writes are lost.
 */
export async function connectIoRedisSentinel(servers: RedisSentinelServers, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis({
    sentinels: servers.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: servers.masterName,
    lazyConnect: true,
    connectTimeout: 2000,
    retryStrategy: () => 50,
    sentinelRetryStrategy: () => 50,
    ...options,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
