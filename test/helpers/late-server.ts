import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * An HTTP server on 127.0.0.1 whose port is known before its handler exists: the app and
 * the provider each need the other's URL in their configuration.
 */
export interface LateServer {
  readonly port: number;
  readonly url: string;
  setHandler(handler: Handler): void;
  /** stop accepting connections (the provider "goes down"); the port stays reserved for start() */
  stop(): Promise<void>;
  /** listen again on the same port */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Idle keep-alive connections are closed by the client, never by the server: Node's server
 * closes them after 5 s by default, and fetch (undici) reuses them for 4 s, so on a loaded
 * machine a request could go out on a connection the server was closing ("fetch failed",
 * seen in CI). The server announces this timeout (Keep-Alive: timeout=30), and undici keeps
 * an idle connection a second less than announced.
 */
export function keptAlive<T extends http.Server>(server: T): T {
  server.keepAliveTimeout = 30_000;
  return server;
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function shut(server: http.Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
}

export async function lateServer(): Promise<LateServer> {
  let handler: Handler = (_req, res) => {
    res.statusCode = 503;
    res.end('not ready');
  };
  const make = (): http.Server =>
    keptAlive(
      http.createServer((req, res) => {
        handler(req, res);
      }),
    );
  let server = make();
  const port = await listen(server, 0);
  return {
    port,
    url: `http://127.0.0.1:${String(port)}`,
    setHandler(next) {
      handler = next;
    },
    stop: () => shut(server),
    async start() {
      server = make();
      await listen(server, port);
    },
    close: () => shut(server),
  };
}
