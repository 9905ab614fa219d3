import { Worker } from 'node:worker_threads';

/**
 * A bot's flood of one request, sent by the thousand: `connections` keep-alive connections,
 * each with up to `depth` requests pipelined (HTTP/1.1), every answer read in full (status
 * line, headers, and the body its Content-Length or chunked encoding says). It runs in a worker
 * thread with a parser of its own, so the client costs a few per cent of what node:http's
 * client costs per request (an object, a promise, listeners and an async resource each), and
 * none of it is in the heap or under the async hooks of the thread that holds the app, which
 * is what the load suites measure. Any answer it cannot read, or a connection the server
 * closes, fails the flood: nothing is retried, nothing is skipped.
 */
const CLIENT = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const { host, port, request, total, connections, depth, cookieName } = workerData;
const one = Buffer.from(request, 'latin1');
const statuses = new Map();
let sessionCookies = 0;
let sent = 0;
let answered = 0;
let failed = false;
const sockets = [];
const HEAD_END = Buffer.from('\\r\\n\\r\\n');
const CRLF = Buffer.from('\\r\\n');

class FloodError extends Error {}
function fail(message) {
  throw new FloodError(message);
}
/** Reports the first failure and ends every connection, so the worker exits. */
function failed_(err) {
  if (failed) return;
  failed = true;
  parentPort.postMessage({ error: err instanceof FloodError ? err.message : String(err && err.stack || err) });
  for (const socket of sockets) socket.destroy();
}

/** One answer at the start of buf: its length in bytes, or -1 while it is incomplete. */
function parseOne(buf) {
  const headEnd = buf.indexOf(HEAD_END);
  if (headEnd < 0) return -1;
  const lines = buf.toString('latin1', 0, headEnd).split('\\r\\n');
  const status = /^HTTP\\/1\\.1 (\\d{3}) /.exec(lines[0] + ' ');
  if (status === null) fail('not an HTTP/1.1 status line: ' + JSON.stringify(lines[0].slice(0, 80)));
  const code = Number(status[1]);
  let length = code === 204 || code === 304 || code < 200 ? 0 : undefined;
  let chunked = false;
  let cookie = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') length = Number(value);
    else if (name === 'transfer-encoding') chunked = value.toLowerCase() === 'chunked';
    else if (name === 'connection' && value.toLowerCase() === 'close') fail('the server closed the connection after a ' + code);
    else if (name === 'set-cookie' && value.startsWith(cookieName + '=')) cookie = true;
  }
  let end = headEnd + 4;
  if (chunked) {
    for (;;) {
      const lineEnd = buf.indexOf(CRLF, end);
      if (lineEnd < 0) return -1;
      const size = parseInt(buf.toString('latin1', end, lineEnd), 16);
      if (!(size >= 0)) fail('a chunk without a size');
      end = lineEnd + 2 + size + 2;
      if (buf.length < end) return -1;
      if (size === 0) break;
    }
  } else {
    if (length === undefined || !(length >= 0)) fail('an answer ' + code + ' without a length');
    end += length;
    if (buf.length < end) return -1;
  }
  statuses.set(code, (statuses.get(code) || 0) + 1);
  if (cookie) sessionCookies++;
  return end;
}

function done() {
  parentPort.postMessage({ statuses: [...statuses].sort((a, b) => a[0] - b[0]), sessionCookies });
}

function connect() {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, noDelay: true });
    sockets.push(socket);
    let pending = 0;
    let buf = Buffer.alloc(0);
    const topUp = () => {
      const n = Math.min(depth - pending, total - sent);
      if (n <= 0) return;
      sent += n;
      pending += n;
      socket.write(n === 1 ? one : Buffer.concat(Array(n).fill(one)));
    };
    socket.once('connect', () => {
      topUp();
      // Others took every request before this one connected: nothing to wait for.
      if (pending === 0) {
        socket.end();
        resolve();
      }
    });
    socket.on('data', (chunk) => {
      if (failed) return;
      try {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        for (;;) {
          const used = parseOne(buf);
          if (used < 0) break;
          buf = buf.subarray(used);
          pending--;
          answered++;
        }
        if (pending < 0) fail('more answers than requests');
        if (pending === 0 && sent >= total) {
          if (buf.length > 0) fail('bytes after the last answer');
          socket.end();
          resolve();
        } else topUp();
      } catch (err) {
        failed_(err);
      }
    });
    socket.on('error', (err) => failed_(new FloodError('connection error: ' + err.message)));
    socket.on('close', () => {
      if (pending > 0 || sent < total) failed_(new FloodError('the server closed a connection with ' + pending + ' answers to come'));
    });
  });
}

Promise.all(Array.from({ length: connections }, connect)).then(() => {
  if (failed) return;
  if (answered !== total) failed_(new FloodError(answered + ' answers to ' + total + ' requests'));
  else done();
});
`;

export interface FloodResult {
  /** [status, how many answers had it], by status */
  statuses: [number, number][];
  /** answers that set the cookie named `cookieName` */
  sessionCookies: number;
}

export interface FloodOptions {
  method?: string;
  headers?: Record<string, string>;
  /** keep-alive connections (default 4) */
  connections?: number;
  /** requests in flight on each connection (default 16) */
  depth?: number;
  /** the cookie whose Set-Cookie answers are counted (default: none) */
  cookieName?: string;
}

/** `total` identical requests to `url` (http on 127.0.0.1 or localhost), pipelined on a few keep-alive connections; resolves once each is answered. */
export function pipelinedFlood(url: string, total: number, options: FloodOptions = {}): Promise<FloodResult> {
  const target = new URL(url);
  if (target.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(target.hostname))
    throw new Error(`a flood goes to http on this machine only, not ${url}`);
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { host: target.host, ...options.headers };
  if (method !== 'GET' && method !== 'HEAD') headers['content-length'] = '0';
  const request = `${method} ${target.pathname}${target.search} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  if (!Number.isSafeInteger(total) || total < 1) throw new Error(`a flood is at least one request, not ${String(total)}`);
  const connections = Math.min(options.connections ?? 4, total);
  const workerData = {
    host: target.hostname,
    port: Number(target.port),
    request,
    total,
    connections,
    depth: options.depth ?? 16,
    cookieName: options.cookieName ?? '',
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT, { eval: true, workerData });
    worker.once('message', (result: FloodResult | { error: string }) => {
      if ('error' in result) reject(new Error(`flood of ${method} ${url}: ${result.error}`));
      else resolve(result);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      reject(new Error(`the flood worker exited (${String(code)}) without a result`));
    });
  });
}
