import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Store } from 'express-session';
import type { Logger, SessionIndex } from '../lib/index.js';
import { createExampleApp } from './app.js';
import type { DevProvider } from './dev-provider.js';
import { consoleLogger } from './logger.js';
import { connectPostgresStore } from './postgres-store.js';
import { connectRedisStore } from './session-store.js';

/** The example listens on the loopback interface only. */
export const HOST = '127.0.0.1';

/** A real OpenID provider to use instead of the embedded development one. */
export interface ExternalProvider {
  issuer: string;
  clientId: string;
  /** omit for a public client (PKCE only) */
  clientSecret?: string | undefined;
}

export interface StartExampleOptions {
  /** the app's port; default 3000, 0 picks a free one */
  port?: number;
  /** the embedded provider's port; default 3001, 0 picks a free one. Unused with `provider` */
  providerPort?: number;
  /** a real provider: no embedded one is started */
  provider?: ExternalProvider | undefined;
  /** the app's external URL; default http://127.0.0.1:<port> */
  baseUrl?: string | undefined;
  /** at least 32 characters; default a random one for this run (sessions end with the process) */
  sessionSecret?: string | undefined;
  /** redis:// URL: keep sessions in Redis (connect-redis) instead of in memory */
  redisUrl?: string | undefined;
  /** postgres:// URL: keep sessions in PostgreSQL (connect-pg-simple) instead of in memory; not with redisUrl */
  databaseUrl?: string | undefined;
  /** default: info and above to the console */
  logger?: Logger | undefined;
}

export interface RunningExample {
  /** the app's URL: open it in a browser */
  readonly url: string;
  /** the provider's issuer URL */
  readonly issuer: string;
  /** the embedded development provider, when it runs (to fire a back-channel logout from a test, say) */
  readonly devProvider: DevProvider | undefined;
  /** stops the app, the provider and the Redis client or PostgreSQL pool */
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface Listener {
  readonly url: string;
  setHandler(handler: Handler): void;
  close(): Promise<void>;
}

/**
 * Listens before the handler exists: the app and the provider each need the other's URL
 * (port included, when the port is 0) in their configuration.
 */
function listen(port: number): Promise<Listener> {
  let handler: Handler = (_req, res) => {
    res.statusCode = 503;
    res.end('starting');
  };
  const server = http.createServer((req, res) => {
    handler(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new Error(`${HOST}:${String(port)} is already in use; choose another port.`, { cause: err }) : err);
    });
    server.listen(port, HOST, () => {
      const { port: actual } = server.address() as AddressInfo;
      resolve({
        url: `http://${HOST}:${String(actual)}`,
        setHandler(next) {
          handler = next;
        },
        close() {
          server.closeAllConnections();
          return new Promise<void>((done) =>
            server.close(() => {
              done();
            }),
          );
        },
      });
    });
  });
}

/** Starts the example app, with the embedded development provider unless `provider` is given. */
export async function startExample(options: StartExampleOptions = {}): Promise<RunningExample> {
  const logger = options.logger ?? consoleLogger();
  const cleanup: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step();
    cleanup.length = 0;
  };

  try {
    const appServer = await listen(options.port ?? 3000);
    cleanup.push(() => appServer.close());
    const baseUrl = options.baseUrl ?? appServer.url;

    let issuer: string;
    let clientId: string;
    let clientSecret: string | undefined;
    let devProvider: DevProvider | undefined;
    if (options.provider === undefined) {
      const providerServer = await listen(options.providerPort ?? 3001);
      cleanup.push(() => providerServer.close());
      // Loaded only when used: oidc-provider is a development dependency, not needed with a real provider.
      const { createDevProvider } = await import('./dev-provider.js');
      devProvider = createDevProvider({ issuer: providerServer.url, appUrl: baseUrl, logger });
      providerServer.setHandler(devProvider.handler);
      ({ clientId, clientSecret } = devProvider);
      issuer = providerServer.url;
    } else {
      ({ issuer, clientId, clientSecret } = options.provider);
      if (issuer.startsWith('http:')) logger.warn({ issuer }, 'the issuer uses plain http: allowed for local development only');
    }

    let sessionSecret = options.sessionSecret;
    if (sessionSecret === undefined) {
      sessionSecret = randomBytes(32).toString('base64url');
      logger.warn({}, 'no session secret given: using a random one for this run, so sessions end when the server stops');
    }

    if (options.redisUrl !== undefined && options.databaseUrl !== undefined)
      throw new Error('keep sessions in Redis or in PostgreSQL, not both: give redisUrl or databaseUrl');
    let shared: { store: Store; sessionIndex: SessionIndex } | undefined;
    if (options.redisUrl !== undefined) {
      const connected = await connectRedisStore(options.redisUrl, logger);
      cleanup.push(() => connected.close());
      shared = connected;
      logger.info({}, 'sessions are kept in Redis');
    } else if (options.databaseUrl !== undefined) {
      const connected = await connectPostgresStore(options.databaseUrl, logger);
      cleanup.push(() => connected.close());
      shared = connected;
      logger.info({}, 'sessions are kept in PostgreSQL');
    }

    const app = createExampleApp({
      issuer,
      clientId,
      clientSecret,
      baseUrl,
      sessionSecret,
      sessionStore: shared?.store,
      sessionIndex: shared?.sessionIndex,
      // an http: issuer is only acceptable for a provider on this machine, as the embedded one is
      allowInsecureRequests: new URL(issuer).protocol === 'http:',
      logger,
      devProvider: devProvider !== undefined,
    });
    appServer.setHandler(app);

    return { url: baseUrl, issuer, devProvider, close };
  } catch (err) {
    await close();
    throw err;
  }
}
