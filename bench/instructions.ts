/**
 * `npm run bench:instructions -- <commit> [<commit>…]`: instructions per authenticated and per
 * anonymous request (connect-redis, the Redis session index, one real login) for this
 * checkout's lib/ and earlier commits', counted by
 * valgrind's callgrind, which counts instructions, not time: unlike req/s, the figure does not
 * move with the shared machine's load. Each library's server runs three times under callgrind,
 * with the same start-up: SMALL requests of each route, then LARGE of one route; the extra
 * instructions over LARGE − SMALL are that route's cost of one request once warm, not counting
 * V8's optimizing compiler (harness/callgrind.ts: when it runs varies from run to run). Writes
 * bench/INSTRUCTIONS.md. Needs valgrind (Debian's package); about three minutes a library.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readCallgrind } from './harness/callgrind.js';
import { compileLibrary } from './harness/compile-lib.js';
import { libraryAt } from './harness/library-at.js';
import { realLogin, sessionIdOf } from './harness/login.js';
import { openStoredLogin } from './harness/open-login.js';
import { connectRedis } from './harness/redis.js';
import { machineInfo } from './harness/machine.js';
import { stopAllChildren, WORK_DIR } from './harness/processes.js';
import { clientSecretOf, SESSION_SECRET, startTopology, type Topology } from './harness/topology.js';

const SMALL = 300;
const LARGE = 1500;
const NAME = 'instructions';
const REDIS_DB = 5;

/** The server under callgrind: plain JavaScript, so no transpiler runs inside the count. */
const SERVER = `import express from 'express';
import { createClient } from 'redis';
import { RedisStore } from 'connect-redis';
import { pathToFileURL } from 'node:url';
const e = process.env;
const app = express();
if (e.MODE === 'express-session') {
  const { default: session } = await import('express-session');
  const redis = createClient({ url: e.REDIS_URL });
  await redis.connect();
  app.use(session({ name: 'oidc.sid', secret: e.SESSION_SECRET, resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax', secure: false, path: '/' }, store: new RedisStore({ client: redis }) }));
  app.get('/profile', (req, res) => { const login = req.session.plainLogin; if (login === undefined) { res.status(401).end(); return; } res.json({ sub: login.user.sub }); });
}
if (e.MODE === 'oidc-auth') {
  const { oidcAuth, redisSessionIndex, requiresAuth } = await import(pathToFileURL(e.LIB).href);
  const redis = createClient({ url: e.REDIS_URL });
  await redis.connect();
  app.use(oidcAuth({ issuer: e.ISSUER, clientId: e.CLIENT_ID, clientSecret: e.CLIENT_SECRET, baseUrl: 'http://127.0.0.1:' + e.PORT, allowInsecureRequests: true, session: { secret: e.SESSION_SECRET, store: new RedisStore({ client: redis }) }, sessionIndex: redisSessionIndex(redis) }));
  app.get('/profile', requiresAuth(), (req, res) => { res.json({ sub: req.oidc.user?.sub }); });
}
app.get('/public', (_req, res) => { res.json({ ok: true }); });
app.get('/exit', (_req, res) => { res.end('bye'); setTimeout(() => process.exit(0), 50); });
app.listen(Number(e.PORT), '127.0.0.1', () => console.log('ready'));
`;

const refs = process.argv.slice(2);
if (refs.length === 0) {
  console.error('usage: npm run bench:instructions -- <commit> [<commit>…]');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const started = Date.now();
const log = (line: string): void => {
  console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
};

/**
 * What runs under callgrind: express-oidc-auth (a compiled lib/), express-session alone with
 * connect-redis holding the same login unsealed (the floor an authenticated request is
 * measured against), or bare Express (the floor of an anonymous one; no /profile).
 */
type Server = { mode: 'oidc-auth'; lib: string } | { mode: 'express-session' } | { mode: 'bare' };

/**
 * Total instructions of one server run under callgrind: start-up, `authenticated` GET /profile
 * with `cookie`, `anonymous` GET /public without a cookie, exit.
 */
async function count(top: Topology<string>, server: Server, authenticated: number, anonymous: number, cookie: string): Promise<number> {
  const port = 40000 + Math.floor(Math.random() * 20000);
  const script = path.join(WORK_DIR, 'instructions-server.mjs');
  const profile = path.join(WORK_DIR, `callgrind-${String(port)}.out`);
  // --single-threaded: no concurrent compiler or GC threads, whose work would land in one run's count and not another's.
  // --predictable-gc-schedule: heap growth and idle or memory-reducing GCs that do not follow the clock; without it the
  // same build counted about 1.43M or 1.71M instructions an anonymous request in two runs, as the machine's load varied.
  // --initial-old-space-size=256 (MB): no mark-compact during a count. The heap starts with an old generation of about
  // 20 MB, so one or two full collections (each tens of millions of instructions) fell inside a run, at points that moved
  // with the heap's history: bare Express alone counted 1.26, 1.27, 1.28 and 1.40M an anonymous request in four runs of
  // the same code. Scavenges of the young generation still happen, in step with what each request allocates.
  // The profile is kept (not /dev/null) to take V8's optimizing compiler out of the count: harness/callgrind.ts.
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${profile}`,
      process.execPath,
      '--single-threaded',
      '--predictable-gc-schedule',
      '--initial-old-space-size=256',
      script,
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        LIB: server.mode === 'oidc-auth' ? server.lib : '',
        MODE: server.mode,
        PORT: String(port),
        ISSUER: top.issuer,
        CLIENT_ID: NAME,
        CLIENT_SECRET: clientSecretOf(NAME),
        SESSION_SECRET,
        REDIS_URL: `${top.redisServer.url}/${String(REDIS_DB)}`,
      },
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    void exited.then(() => {
      reject(new Error(`the server under callgrind exited:\n${stderr.slice(-2000)}`));
    });
  });
  for (let i = 0; i < authenticated; i++) {
    const res = await fetch(`http://127.0.0.1:${String(port)}/profile`, { headers: { cookie } });
    const body = await res.text();
    if (res.status !== 200 || !body.includes('"sub":"alice"')) throw new Error(`GET /profile answered ${String(res.status)} ${body.slice(0, 200)}`);
  }
  for (let i = 0; i < anonymous; i++) {
    const res = await fetch(`http://127.0.0.1:${String(port)}/public`);
    const body = await res.text();
    if (res.status !== 200 || res.headers.has('set-cookie')) throw new Error(`GET /public answered ${String(res.status)} ${body.slice(0, 200)}`);
  }
  await fetch(`http://127.0.0.1:${String(port)}/exit`);
  await exited;
  if (!/Collected : \d+/.test(stderr)) throw new Error(`callgrind reported no count:\n${stderr.slice(-2000)}`);
  try {
    const { total, optimizer } = readCallgrind(profile);
    return total - optimizer;
  } finally {
    rmSync(profile, { force: true });
  }
}

/**
 * express-session alone's session: the express-oidc-auth login of `cookie`, opened with the
 * bench's secret, written unsealed under an id of its own (as bench/servers/express-session.ts
 * holds it), and its signed cookie (cookie-signature's format: HMAC-SHA256, base64 without padding).
 */
async function seedExpressSessionAlone(top: Topology<string>, cookie: string): Promise<string> {
  const redis = await connectRedis(`${top.redisServer.url}/${String(REDIS_DB)}`);
  try {
    const stored = await redis.get(`sess:${sessionIdOf(cookie)}`);
    if (stored === null) throw new Error('the express-oidc-auth session is not in Redis');
    const document = JSON.parse(stored) as { cookie: unknown };
    const id = 'expressSessionAloneBenchmarkId01';
    await redis.set(`sess:${id}`, JSON.stringify({ cookie: document.cookie, plainLogin: openStoredLogin(stored, SESSION_SECRET) }), { EX: 86400 });
    const signature = createHmac('sha256', SESSION_SECRET).update(id).digest('base64').replace(/=+$/, '');
    return `oidc.sid=${encodeURIComponent(`s:${id}.${signature}`)}`;
  } finally {
    await redis.quit();
  }
}

let topology: Topology<string> | undefined;
try {
  const machine = machineInfo();
  mkdirSync(WORK_DIR, { recursive: true });
  writeFileSync(path.join(WORK_DIR, 'instructions-server.mjs'), SERVER);
  const commits = refs.map((ref) => libraryAt(root, ref, WORK_DIR));
  const libraries: [string, string][] = [
    [`this checkout (${machine.commit})`, compileLibrary(root, path.join(WORK_DIR, 'lib-dist', 'checkout'))],
    ...commits.map((c): [string, string] => [`${c.commit} (${c.subject})`, c.entry]),
  ];
  topology = await startTopology(log, {
    libraryEntry: libraries[0]?.[1] ?? '',
    specs: [{ name: NAME, script: 'oidc-auth', store: 'redis', redisDb: REDIS_DB }],
  });
  const app = topology.servers[NAME];
  if (app === undefined) throw new Error('no login server');
  const { cookie } = await realLogin(app.url, 'alice', ['oidc.sid']);
  const esCookie = await seedExpressSessionAlone(topology, cookie);
  // Three runs a library: both routes SMALL times; the authenticated one LARGE; the anonymous one
  // LARGE. Each difference to the first, over LARGE − SMALL, is one warm request of that route.
  const perRequest: { authenticated: number; anonymous: number }[] = [];
  const rows: string[] = [];
  for (const [label, lib] of libraries) {
    const server: Server = { mode: 'oidc-auth', lib };
    const base = await count(topology, server, SMALL, SMALL, cookie);
    const authenticated = ((await count(topology, server, LARGE, SMALL, cookie)) - base) / (LARGE - SMALL);
    const anonymous = ((await count(topology, server, SMALL, LARGE, cookie)) - base) / (LARGE - SMALL);
    perRequest.push({ authenticated, anonymous });
    rows.push(`| ${label} | ${Math.round(authenticated).toLocaleString('en')} | ${Math.round(anonymous).toLocaleString('en')} |`);
    log(
      `${label}: ${Math.round(authenticated).toLocaleString('en')} instructions an authenticated request, ${Math.round(anonymous).toLocaleString('en')} an anonymous one`,
    );
  }
  // express-session alone: the floor an authenticated request is measured against (issue 32: at least 1.05× its req/s).
  const esBase = await count(topology, { mode: 'express-session' }, SMALL, 0, esCookie);
  const esAlone = ((await count(topology, { mode: 'express-session' }, LARGE, 0, esCookie)) - esBase) / (LARGE - SMALL);
  rows.push(`| express-session alone (connect-redis, the same login unsealed) | ${Math.round(esAlone).toLocaleString('en')} | – |`);
  const overSession = ((perRequest[0]?.authenticated ?? Number.NaN) / esAlone).toFixed(3);
  log(`express-session alone: ${Math.round(esAlone).toLocaleString('en')} instructions an authenticated request; this checkout ÷ it: ${overSession}×`);
  // Bare Express: the floor an anonymous request is measured against (issue 32: within 5 %).
  const bareBase = await count(topology, { mode: 'bare' }, 0, SMALL, cookie);
  const bare = ((await count(topology, { mode: 'bare' }, 0, LARGE, cookie)) - bareBase) / (LARGE - SMALL);
  rows.push(`| bare Express (the same app without oidcAuth()) | – | ${Math.round(bare).toLocaleString('en')} |`);
  const overBare = ((perRequest[0]?.anonymous ?? Number.NaN) / bare).toFixed(3);
  log(`bare Express: ${Math.round(bare).toLocaleString('en')} instructions an anonymous request; this checkout ÷ bare: ${overBare}×`);
  const ratio = (route: 'authenticated' | 'anonymous', i: number): string =>
    ((perRequest[0]?.[route] ?? Number.NaN) / (perRequest[i + 1]?.[route] ?? Number.NaN)).toFixed(3);
  const ratios = commits.map(
    (c, i) =>
      `This checkout ÷ ${c.commit}: **${ratio('authenticated', i)}×** the instructions an authenticated request, **${ratio('anonymous', i)}×** an anonymous one.`,
  );
  const report = [
    '# Instructions per request',
    '',
    `Made by \`npm run bench:instructions\` (bench/instructions.ts) on ${machine.date.slice(0, 10)}, node ${machine.node}, valgrind callgrind. One server per library (its lib/ compiled by tsc; connect-redis and the Redis session index; no OpenTelemetry SDK), holding one real login through oidc-provider, run three times under callgrind from start to exit (node --single-threaded, so that no compiler or GC thread's work lands in one count and not another; an old generation of 256 MB from the start, so that no mark-compact does either: a request's own allocations are counted through the scavenges they cause; not counting V8's optimizing compiler, whose work (about a quarter of a run) moved by up to 160 million instructions between runs of the same server as it compiled a loop on-stack or not): ${String(SMALL)} sequential \`GET /profile\` with the login's cookie and ${String(SMALL)} \`GET /public\` without a cookie; then ${String(LARGE)} of the first; then ${String(LARGE)} of the second. The difference of each total to the first over the ${String(LARGE - SMALL)} extra requests is one warm request's instructions; start-up, the rest of the JIT's warm-up and exit cancel out. Bare Express is the same app without oidcAuth(), counted the same way (${String(SMALL)}, then ${String(LARGE)} \`GET /public\`).`,
    '',
    '| library | instructions, authenticated `GET /profile` | instructions, anonymous `GET /public` |',
    '| --- | --- | --- |',
    ...rows,
    '',
    ...ratios.flatMap((line) => [line, '']),
    `This checkout ÷ express-session alone: **${overSession}×** the instructions of an authenticated request.`,
    '',
    `This checkout ÷ bare Express: **${overBare}×** the instructions of an anonymous request.`,
    '',
  ].join('\n');
  writeFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'INSTRUCTIONS.md'), report);
  log(`${ratios.join(' ')} Authenticated ÷ express-session alone: ${overSession}×. Anonymous ÷ bare Express: ${overBare}×; wrote bench/INSTRUCTIONS.md`);
} catch (err) {
  console.error('instruction count failed:', err);
  process.exitCode = 1;
} finally {
  await stopAllChildren();
  await topology?.close();
}
