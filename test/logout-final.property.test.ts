import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, mock, test } from 'node:test';
import type { Express } from 'express';
import fc from 'fast-check';
import { buildApp } from './helpers/app.js';
import { ACCEPT_JSON } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';
import { SESSION_COOKIE } from './helpers/cookies.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { providerForInstances, sharedRedisOptions } from './helpers/instances.js';
import { sessionIdFromCookie } from './helpers/logout.js';
import { logoutClaims, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';
import { type TestProvider } from './helpers/provider.js';
import { REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';

/**
 * "Logout is final" (DESIGN.md, Guarantees), as a model-based property: one logged-in
 * session, two app instances sharing one redis-server, and a generated interleaving of
 * requests held open inside the app, a held refresh and logouts of every trigger. Once a
 * logout has ended the session id, no later write may make it live again on any instance.
 * Every ordering is forced by gates the test opens; nothing waits on time.
 */
const SEED = 1729;
const NUM_RUNS = 200;

type Instance = 'A' | 'B';
type LogoutKind = 'user' | 'backchannel-op' | 'backchannel-token';

/** A promise the test resolves when it chooses. */
interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}
function gate(): Gate {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    promise,
    open: () => {
      open();
    },
  };
}
/** Opened by the system under test once it got where the test waits for it, and by the test to let it go on. */
interface Hold {
  arrived: Gate;
  release: Gate;
}
/** A request the test started: `release` lets it go on, `done` is its status once its response is complete. */
interface Held {
  readonly label: string;
  readonly release: Gate;
  readonly done: Promise<number>;
}

/** The model: how many requests were started, which are still held, whether a refresh is. */
interface Model {
  started: number;
  open: number[];
  refreshing: boolean;
}
/** The real side of one run: the logged-in session, what is held, and a trace for the failure message. */
interface Real {
  readonly cookie: string;
  readonly id: string;
  readonly sub: string;
  readonly sid: string | undefined;
  readonly run: number;
  readonly started: Held[];
  refresh: Held | undefined;
  logouts: number;
  readonly trace: string[];
}

/** Gates of the test route, by key: `arrived` is opened by the route once the session is loaded, `release` by the test. */
const holds = new Map<string, Hold>();
type GrantHold = 'request' | 'answer';
/**
 * While set, the provider's token endpoint (only refresh grants reach it during a run) waits
 * on it: before it handles the grant ('request'), or after, with its answer held ('answer':
 * the refresh token is spent and new tokens exist, as when a logout races a slow network).
 */
let grantHold: (Hold & { at: GrantHold }) | undefined;
let dateMocked = false;

function holdRoute(app: Express): void {
  app.get('/test/hold', (req, res) => {
    const key = typeof req.query['key'] === 'string' ? req.query['key'] : '';
    const hold = holds.get(key);
    if (req.query['change'] === '1') Object.assign(req.session, { n: key });
    hold?.arrived.open();
    void (hold?.release.promise ?? Promise.resolve()).then(() => {
      res.json({ authenticated: req.oidc.isAuthenticated() });
    });
  });
}

async function statusOf(response: Promise<Response>): Promise<number> {
  const res = await response;
  await res.text();
  return res.status;
}

/** Waits until the held request got to its gate, or answered without getting there. */
async function reached(hold: Hold, done: Promise<number>): Promise<string> {
  const early = await Promise.race([hold.arrived.promise.then(() => undefined), done]);
  return early === undefined ? 'held' : `answered ${String(early)} at once`;
}

describe('logout is final: no later write revives an ended session, on any instance (property)', { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let client: RedisClient;
  let op: TestProvider;
  let a: LateServer;
  let b: LateServer;
  const url = (on: Instance): string => (on === 'A' ? a.url : b.url);
  const get = (r: Real, on: Instance, path: string): Promise<number> => statusOf(fetch(`${url(on)}${path}`, { headers: { cookie: r.cookie, ...ACCEPT_JSON } }));
  const explain = (r: Real, what: string): string => `${what}\n  session ${r.id}; what happened:\n    ${r.trace.join('\n    ')}`;

  before(async () => {
    ({ redis, client } = await startRedisWithClient());
    a = await lateServer();
    b = await lateServer();
    op = await providerForInstances([a, b]);
    op.server.setHandler((req: IncomingMessage, res: ServerResponse) => {
      const held = grantHold;
      if (held === undefined || req.method !== 'POST' || req.url !== '/token') {
        op.handler(req, res);
      } else if (held.at === 'request') {
        held.arrived.open();
        void held.release.promise.then(() => {
          op.handler(req, res);
        });
      } else {
        const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
        res.end = ((...args: unknown[]) => {
          held.arrived.open();
          void held.release.promise.then(() => {
            end(...args);
          });
          return res;
        }) as typeof res.end;
        op.handler(req, res);
      }
    });
    for (const server of [a, b]) {
      server.setHandler(buildApp(sharedRedisOptions(op.issuer, server, client), { jsonErrors: true, routes: holdRoute }));
    }
  });

  after(async () => {
    for (const server of [a, b, op]) await server.close();
    await client.quit().catch(() => undefined);
    await redis.close();
  });

  /** The ended session is gone from Redis and answers 401 on both instances (Redis first: a load could clean it up). */
  async function assertEnded(r: Real, when: string): Promise<void> {
    assert.equal(await client.exists(`sess:${r.id}`), 0, explain(r, `${when}: the ended session is back in Redis (sess:${r.id})`));
    for (const on of ['A', 'B'] as const)
      assert.equal(await get(r, on, '/profile'), 401, explain(r, `${when}: GET /profile on ${on} with the old cookie is logged in again`));
  }

  /**
   * A command: `check` and `update` act on the model only (so a script can be trimmed to its
   * applicable commands before it runs); `act` drives the real system and says what happened.
   * Once a logout happened, the session must be ended after every command.
   */
  abstract class Step implements fc.AsyncCommand<Model, Real> {
    check(_m: Readonly<Model>): boolean {
      return true;
    }
    update(_m: Model): void {
      /* most commands leave the model as it is */
    }
    abstract act(r: Real, before: Readonly<Model>): Promise<string>;
    abstract toString(): string;
    async run(m: Model, r: Real): Promise<void> {
      const before = { ...m, open: [...m.open] };
      this.update(m);
      r.trace.push(`${this.toString()} -> ${await this.act(r, before)}`);
      if (r.logouts > 0) await assertEnded(r, `right after ${this.toString()}`);
    }
  }

  /** A request that loads the session, changes it (or not), and waits in the app until released. */
  class HoldRequest extends Step {
    constructor(
      readonly on: Instance,
      readonly change: boolean,
    ) {
      super();
    }
    override update(m: Model): void {
      m.open.push(m.started++);
    }
    async act(r: Real, before: Readonly<Model>): Promise<string> {
      const key = `${String(r.run)}-${String(before.started)}`;
      const hold = { arrived: gate(), release: gate() };
      holds.set(key, hold);
      const done = statusOf(fetch(`${url(this.on)}/test/hold?key=${key}&change=${this.change ? '1' : '0'}`, { headers: { cookie: r.cookie } }));
      r.started.push({ label: `#${String(before.started)}`, release: hold.release, done });
      return `#${String(before.started)} ${await reached(hold, done)}`;
    }
    toString(): string {
      return `hold(${this.on},${this.change ? 'change' : 'read'})`;
    }
  }

  class Finish extends Step {
    constructor(readonly index: number) {
      super();
    }
    override check(m: Readonly<Model>): boolean {
      return m.open.includes(this.index);
    }
    override update(m: Model): void {
      m.open = m.open.filter((i) => i !== this.index);
    }
    async act(r: Real): Promise<string> {
      const held = r.started[this.index];
      assert.ok(held !== undefined);
      held.release.open();
      const status = await held.done;
      assert.ok(status < 500, explain(r, `${held.label} answered ${String(status)}`));
      return `answered ${String(status)}`;
    }
    toString(): string {
      return `finish(#${String(this.index)})`;
    }
  }

  class Refresh extends Step {
    constructor(
      readonly on: Instance,
      readonly at: GrantHold,
    ) {
      super();
    }
    override check(m: Readonly<Model>): boolean {
      return !m.refreshing;
    }
    override update(m: Model): void {
      m.refreshing = true;
    }
    async act(r: Real): Promise<string> {
      // Past the expiry of the access token the last refresh got (1 h each): only Date is mocked.
      const now = Date.now() + 3700 * 1000;
      if (dateMocked) mock.timers.setTime(now);
      else mock.timers.enable({ apis: ['Date'], now });
      dateMocked = true;
      const hold = { at: this.at, arrived: gate(), release: gate() };
      grantHold = hold;
      const done = statusOf(fetch(`${url(this.on)}/api/token`, { headers: { cookie: r.cookie, ...ACCEPT_JSON } }));
      r.refresh = { label: `refresh on ${this.on}`, release: hold.release, done };
      return `grant's ${this.at} ${await reached(hold, done)}`;
    }
    toString(): string {
      return `refresh(${this.on},hold ${this.at})`;
    }
  }

  class FinishRefresh extends Step {
    override check(m: Readonly<Model>): boolean {
      return m.refreshing;
    }
    override update(m: Model): void {
      m.refreshing = false;
    }
    async act(r: Real): Promise<string> {
      const held = r.refresh;
      assert.ok(held !== undefined);
      held.release.open();
      const status = await held.done;
      grantHold = undefined;
      r.refresh = undefined;
      assert.ok(status < 500, explain(r, `the refresh answered ${String(status)}`));
      return `answered ${String(status)}`;
    }
    toString(): string {
      return 'finishRefresh';
    }
  }

  class Logout extends Step {
    constructor(
      readonly kind: LogoutKind,
      readonly on: Instance,
    ) {
      super();
    }
    async act(r: Real): Promise<string> {
      r.logouts += 1;
      if (this.kind === 'backchannel-op') {
        // The provider sends the logout token to the client's back-channel URI: instance A.
        await op.backchannelLogout('test-app', r.sub, r.sid);
        return 'provider sent it';
      }
      const status =
        this.kind === 'user'
          ? await statusOf(fetch(`${url(this.on)}/logout`, { method: 'POST', headers: { cookie: r.cookie, ...ACCEPT_JSON } }))
          : await statusOf(postLogoutToken(url(this.on), await signLogoutToken(op, logoutClaims(op, r.sub, r.sid))));
      assert.equal(status, 200, explain(r, `${this.toString()} answered ${String(status)}`));
      return `answered ${String(status)}`;
    }
    toString(): string {
      return this.kind === 'backchannel-op' ? 'logout(backchannel-op→A)' : `logout(${this.kind}@${this.on})`;
    }
  }

  const instance = fc.constantFrom<Instance>('A', 'B');
  const commands: fc.Arbitrary<Step>[] = [
    fc.tuple(instance, fc.boolean()).map(([on, change]) => new HoldRequest(on, change)),
    fc.nat({ max: 3 }).map((i) => new Finish(i)),
    fc.tuple(instance, fc.constantFrom<GrantHold>('answer', 'request')).map(([on, at]) => new Refresh(on, at)),
    fc.constant(new FinishRefresh()),
    fc.tuple(fc.constantFrom<LogoutKind>('user', 'backchannel-op', 'backchannel-token'), instance).map(([kind, on]) => new Logout(kind, on)),
  ];
  const initial = (): Model => ({ started: 0, open: [], refreshing: false });
  // A plain array rather than fc.commands, whose shrinker always keeps the last command: a
  // revival is often seen only once the end of the run releases what is still held. The
  // commands not applicable where they stand are dropped, so a counterexample lists only what ran.
  const script = fc.array(fc.oneof(...commands), { minLength: 1, maxLength: 8 }).map((steps) => {
    const m = initial();
    return steps.filter((step) => {
      if (!step.check(m)) return false;
      step.update(m);
      return true;
    });
  });

  let runs = 0;
  async function loggedIn(): Promise<Real> {
    const run = ++runs;
    const sub = `final-${String(run)}`;
    const browser = new Browser();
    const callback = await login(browser, `${a.url}/login`, sub);
    assert.equal(callback.status, 302, `login failed: ${callback.body}`);
    const tokens = JSON.parse((await browser.get(`${a.url}/test/tokens`)).body) as { idToken: string; refreshToken?: string };
    assert.ok(tokens.refreshToken !== undefined, 'the provider issued a refresh token');
    const value = await browser.cookie(a.url, SESSION_COOKIE);
    return {
      cookie: `${SESSION_COOKIE}=${value ?? ''}`,
      id: sessionIdFromCookie(value),
      sub,
      sid: sidOf(tokens.idToken),
      run,
      started: [],
      refresh: undefined,
      logouts: 0,
      trace: [],
    };
  }

  /** Lets every held request and refresh go on and waits for their answers, so the next run starts clean. */
  async function settle(r: Real): Promise<void> {
    for (const held of r.started) held.release.open();
    r.refresh?.release.open();
    grantHold?.release.open();
    const statuses = await Promise.all([...r.started, ...(r.refresh === undefined ? [] : [r.refresh])].map((h) => h.done.catch(() => -1)));
    r.trace.push(`(end: every held request released, answered ${statuses.join(',') || 'none'})`);
    grantHold = undefined;
    for (const key of [...holds.keys()]) if (key.startsWith(`${String(r.run)}-`)) holds.delete(key);
  }

  test('after any interleaving of held requests, refreshes and logouts on A and B, an ended session stays ended', { timeout: 10 * 60 * 1000 }, async () => {
    await fc.assert(
      fc.asyncProperty(script, async (cmds) => {
        const r = await loggedIn();
        try {
          try {
            await fc.asyncModelRun(() => ({ model: initial(), real: r }), cmds);
          } finally {
            await settle(r);
          }
          if (r.logouts > 0) {
            await assertEnded(r, 'after everything finished');
          } else {
            // Without a logout the session must still be live, or the property would pass on a broken login.
            for (const on of ['A', 'B'] as const) assert.equal(await get(r, on, '/profile'), 200, explain(r, `no logout, yet /profile on ${on} is not 200`));
          }
        } finally {
          if (dateMocked) mock.timers.reset();
          dateMocked = false;
        }
      }),
      { seed: SEED, numRuns: NUM_RUNS, includeErrorInReport: true },
    );
  });
});
