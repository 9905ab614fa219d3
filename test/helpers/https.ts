import { keptAlive } from './late-server.js';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Tls {
  key: string;
  cert: string;
}

/**
 * A throwaway self-signed certificate (P-256, one day) for the given DNS names, made by the
 * openssl CLI in a temporary directory that is removed at once. Browsers in tests accept it
 * only with --ignore-certificate-errors: nothing trusts it.
 */
export async function selfSignedCert(dnsNames: readonly string[], openssl = '/usr/bin/openssl'): Promise<Tls> {
  const dir = await mkdtemp(path.join(tmpdir(), 'oidc-tls-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    const san = dnsNames.map((name) => `DNS:${name}`).join(',');
    await run(openssl, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      `/CN=${dnsNames[0] ?? 'localhost'}`,
      '-addext',
      `subjectAltName=${san}`,
    ]);
    return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An HTTPS server on 127.0.0.1, its port known before its handler exists (like lateServer). */
export interface HttpsServer {
  readonly port: number;
  /** `https://<host>:<port>`, for a host name the browser maps to 127.0.0.1 */
  origin(host: string): string;
  setHandler(handler: Handler): void;
  close(): Promise<void>;
}

export async function httpsServer(tls: Tls): Promise<HttpsServer> {
  let handler: Handler = (_req, res) => {
    res.statusCode = 503;
    res.end('not ready');
  };
  const server = keptAlive(
    https.createServer(tls, (req, res) => {
      handler(req, res);
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  return {
    port,
    origin: (host) => `https://${host}:${String(port)}`,
    setHandler(next) {
      handler = next;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
