import type { IncomingMessage, ServerResponse } from 'node:http';
import pg from 'pg';
import { lateServer, type LateServer } from '../../test/helpers/late-server.js';
import { isCommandMessage, type AppSettings, type ChildMessage, type ServerStats } from '../harness/ipc.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type Command = (payload: unknown) => Promise<unknown>;

let requests = 0;

/** Wraps a handler so that `stats` can report how many requests this process served. */
export function counted(handler: Handler): Handler {
  return (req, res) => {
    requests++;
    handler(req, res);
  };
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

function stats(): ServerStats {
  const cpu = process.cpuUsage();
  return { cpuMicros: cpu.user + cpu.system, requests, rssBytes: process.memoryUsage.rss() };
}

/**
 * The child side of the harness: an HTTP server on 127.0.0.1 (port 0, reported to the
 * orchestrator at once, answering 503 until configured), then commands over IPC. The
 * process ends when the orchestrator goes away, so no server outlives a run.
 */
export async function runChild(makeCommands: (server: LateServer) => Record<string, Command>): Promise<void> {
  if (process.send === undefined) throw new Error('bench servers are started by bench/run.ts (fork with IPC)');
  process.on('disconnect', () => process.exit(0));
  const server = await lateServer();
  const commands: Record<string, Command> = { stats: () => Promise.resolve(stats()), ...makeCommands(server) };
  process.on('message', (message: unknown) => {
    if (!isCommandMessage(message)) return;
    const run = commands[message.command];
    const reply = run === undefined ? Promise.reject(new Error(`unknown command ${message.command}`)) : run(message.payload);
    reply.then(
      (data) => {
        send({ kind: 'reply', id: message.id, ok: true, data: data ?? null });
      },
      (err: unknown) => {
        send({ kind: 'reply', id: message.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      },
    );
  });
  send({ kind: 'listening', port: server.port });
}

/** An app server: `configure` builds the app from its settings and starts serving it. */
export function runAppServer(build: (settings: AppSettings) => Promise<Handler>): void {
  void runChild((server) => ({
    async configure(payload) {
      server.setHandler(counted(await build(payload as AppSettings)));
      return null;
    },
  }));
}

export { connectRedis } from '../harness/redis.js';

/**
 * A server's own node-postgres pool on its own database, pg's default size (10), as an app
 * would make one; connect-pg-simple (and express-oidc-auth's index) share it.
 */
export function postgresPool(url: string | undefined): pg.Pool {
  if (url === undefined) throw new Error('store "postgres" needs postgresUrl');
  const pool = new pg.Pool({ connectionString: url });
  pool.on('error', (err: unknown) => {
    console.error('postgres pool error', err);
  });
  return pool;
}
