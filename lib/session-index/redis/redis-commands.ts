/**
 * The Redis clients the session index accepts, by the one method each uses to send a raw
 * command. Recognised by shape, so the package depends on none of them; raw commands are the
 * same in every version.
 */

/** node-redis v4/v5 `createClient()` */
export interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** node-redis v4/v5 `createCluster()`: commands are routed by their first key */
export interface NodeRedisCluster {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  readonly masters: readonly unknown[];
}

/** node-redis v5 `createSentinel()`: commands go to the current master */
export interface NodeRedisSentinel {
  sendCommand(isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  getMasterNode(): unknown;
}

/** ioredis `Redis` (plain or through Sentinel) and `Cluster` (which routes by each command's keys itself) */
export interface IoRedisClient {
  call(command: string, ...args: string[]): Promise<unknown>;
  readonly isCluster: boolean;
}

export type RedisClientLike = NodeRedisClient | NodeRedisCluster | NodeRedisSentinel | IoRedisClient;

/** Sends one command; `key` is the key the command works on (the first of KEYS for a script), which a cluster routes by. */
export type RunCommand = (key: string, args: [string, ...string[]]) => Promise<unknown>;

export type RedisClientKind = 'node-redis' | 'node-redis cluster' | 'node-redis sentinel' | 'ioredis' | 'ioredis cluster';

function has(value: object, name: string): boolean {
  return name in value;
}

/** Which client this is, or undefined when it is none the index knows. */
export function redisClientKind(client: unknown): RedisClientKind | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const methods = client as Record<string, unknown>;
  // ioredis clients also have a sendCommand (taking a Command object): look for call first.
  if (typeof methods['call'] === 'function' && typeof methods['isCluster'] === 'boolean') return methods['isCluster'] ? 'ioredis cluster' : 'ioredis';
  if (typeof methods['sendCommand'] !== 'function') return undefined;
  if (has(client, 'masters') && has(client, 'nodeByAddress')) return 'node-redis cluster';
  if (typeof methods['getMasterNode'] === 'function' && typeof methods['getReplicaNodes'] === 'function') return 'node-redis sentinel';
  return 'node-redis';
}

/** How to send a raw command with this client, or undefined when it is none the index knows. */
export function commandRunner(client: RedisClientLike): RunCommand | undefined {
  const kind = redisClientKind(client);
  switch (kind) {
    case 'ioredis':
    case 'ioredis cluster': {
      const io = client as IoRedisClient;
      return (_key, [command, ...rest]) => io.call(command, ...rest);
    }
    case 'node-redis cluster': {
      const cluster = client as NodeRedisCluster;
      return (key, args) => cluster.sendCommand(key, false, args);
    }
    case 'node-redis sentinel': {
      const sentinel = client as NodeRedisSentinel;
      return (_key, args) => sentinel.sendCommand(false, args);
    }
    case 'node-redis': {
      const single = client as NodeRedisClient;
      return (_key, args) => single.sendCommand(args);
    }
    case undefined:
      return undefined;
  }
}
