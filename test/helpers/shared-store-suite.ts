import './quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import type { Store } from 'express-session';
import type { OidcAuthOptions, SessionIndex } from '../../lib/index.js';
import { ACCEPT_JSON, assertLoggedInAs, assertLoggedOut } from './assertions.js';
import { baseOptions, buildApp, capturingLogger, SESSION_SECRET } from './app.js';
import { Browser, login } from './browser.js';
import { providerForInstances } from './instances.js';
import { lateServer, type LateServer } from './late-server.js';
import { WITH_REFRESH_TOKEN } from './logout.js';
import { sidOf } from './logout-token.js';
import type { TestProvider } from './provider.js';

/** Where a Redis Cluster keeps a key: what the suite asks to see the index spread over the masters. */
export interface KeyPlacement {
  /** CLUSTER KEYSLOT of a key, and the port of the master that holds it */
  keySlot(key: string): Promise<number>;
  masterOf(slot: number): number;
  /** the key of a sid's entries in the index made by index(space) */
  sidKey(space: string, issuer: string, sid: string): string;
}

/** A shared session store, the session index on the same connection, and (on a Redis Cluster) where keys live. */
export interface SharedBackend {
  store: Store;
  /** the index the apps get; given a space, an index whose keys or tables are apart from theirs */
  index(space?: string): SessionIndex;
  /** undefined but on a Redis Cluster */
  placement?: KeyPlacement;
  close(): Promise<void>;
}

export interface SharedBackendSetup {
  name: string;
  /** whether the package can write its sessions atomically with the ended mark (connect-redis 9 on the index's own client, connect-pg-simple) */
  atomic: boolean;
  connect(): Promise<SharedBackend>;
}

/**
 * Two app instances, sessions in the store and the session index on one connection: the
 * suite every supported backend passes, each Redis client on a single Redis and on a cluster,
 * and PostgreSQL.
 */
export function sharedStoreSuite(setup: SharedBackendSetup): void {
  describe(setup.name, () => {
    let cluster: SharedBackend;
    let op: TestProvider;
    let a: LateServer;
    let b: LateServer;
    const logs = capturingLogger();

    before(async () => {
      cluster = await setup.connect();
      a = await lateServer();
      b = await lateServer();
      op = await providerForInstances([a, b]);
      for (const server of [a, b]) {
        const options: OidcAuthOptions = {
          ...baseOptions(op.issuer, server.url),
          ...WITH_REFRESH_TOKEN,
          session: { secret: SESSION_SECRET, store: cluster.store },
          sessionIndex: cluster.index(),
          logger: logs.logger,
        };
        server.setHandler(buildApp(options, { jsonErrors: true }));
      }
    });

    after(async () => {
      await a.close();
      await b.close();
      await op.close();
      await cluster.close();
    });

    test(`writes are ${setup.atomic ? '' : 'not '}atomic with the ended mark, as the start-up log says`, () => {
      const said = logs.lines.filter((line) => line.fields['atomicWrites'] !== undefined).map((line) => line.fields['atomicWrites']);
      assert.deepEqual(said, [setup.atomic, setup.atomic]);
    });

    test('log in through B; a back-channel logout delivered to A ends the session on both', async () => {
      const browser = new Browser();
      assert.equal((await login(browser, `${b.url}/login`, 'frank')).status, 302);
      await assertLoggedInAs(browser, a.url, 'frank');
      const tokens = JSON.parse((await browser.get(`${b.url}/test/tokens`)).body) as { idToken: string };
      await op.backchannelLogout('test-app', 'frank', sidOf(tokens.idToken));
      await assertLoggedOut(browser, b.url);
      await assertLoggedOut(browser, a.url);
    });

    test('1,000 sessions (on a cluster: spread over all three masters) are each found and ended by sid, and by sub', async () => {
      const space = `spread-${setup.atomic ? 'n' : 'i'}`;
      const index = cluster.index(space);
      const issuer = 'https://idp.example';
      const entries = Array.from({ length: 1000 }, (_, i) => ({
        issuer,
        sub: `user-${String(i % 10)}`,
        sid: `sid-${String(i)}`,
        sessionId: `session-${String(i)}`,
      }));
      for (let i = 0; i < entries.length; i += 100) await Promise.all(entries.slice(i, i + 100).map((e) => index.add(e, 60_000)));

      const { placement } = cluster;
      if (placement !== undefined) {
        const masters = new Set<number>();
        for (const e of entries.slice(0, 60)) masters.add(placement.masterOf(await placement.keySlot(placement.sidKey(space, issuer, e.sid))));
        assert.equal(masters.size, 3, 'the sid sets are on all three masters');
      }

      for (let i = 0; i < entries.length; i += 100) {
        const found = await Promise.all(entries.slice(i, i + 100).map((e) => index.lookup(issuer, { sid: e.sid })));
        assert.deepEqual(
          found,
          entries.slice(i, i + 100).map((e) => [e.sessionId]),
        );
      }
      for (let u = 0; u < 10; u++) {
        const sub = `user-${String(u)}`;
        const found = await index.lookup(issuer, { sub });
        assert.deepEqual(
          [...found].sort(),
          entries
            .filter((e) => e.sub === sub)
            .map((e) => e.sessionId)
            .sort(),
          `the sessions of ${sub}`,
        );
      }

      // A hundred at a time: a thousand at once wait on the pool (10 connections) past its
      // 2 s connection timeout on a loaded CI machine.
      const inHundreds = async <T>(each: (e: (typeof entries)[number]) => Promise<T>): Promise<T[]> => {
        const results: T[] = [];
        for (let i = 0; i < entries.length; i += 100) results.push(...(await Promise.all(entries.slice(i, i + 100).map(each))));
        return results;
      };
      await inHundreds(async (e) => {
        await index.markEnded(e.sessionId, 60_000);
        await index.remove(e);
      });
      const ended = await inHundreds((e) => index.isEnded(e.sessionId));
      assert.ok(ended.every(Boolean), 'every session is marked ended');
      for (let u = 0; u < 10; u++) assert.deepEqual(await index.lookup(issuer, { sub: `user-${String(u)}` }), []);
    });

    test('an ended mark shares the hash slot of its session key (the atomic write is one script on one node)', async (t) => {
      const { placement } = cluster;
      if (placement === undefined) {
        t.diagnostic('only a Redis Cluster has slots');
        return;
      }
      for (const id of ['a', 'session-1', 'x7Yq-_0']) assert.equal(await placement.keySlot(`oidc:ended:{sess:${id}}`), await placement.keySlot(`sess:${id}`));
    });

    test('20 concurrent requests with an expired access token, spread over both instances, cause exactly one refresh grant', async () => {
      const browser = new Browser();
      assert.equal((await login(browser, `${a.url}/login`, 'ivy')).status, 302);
      const grants = (): number => op.events.filter((e) => e === 'grant.success').length;
      const before = grants();
      mock.timers.enable({ apis: ['Date'], now: Date.now() + 3601 * 1000 });
      try {
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => browser.get(`${(i % 2 === 0 ? a : b).url}/api/token`, ACCEPT_JSON)));
        assert.deepEqual(
          answers.map((r) => r.status),
          Array<number>(20).fill(200),
        );
        assert.equal(grants() - before, 1);
        assert.equal(new Set(answers.map((r) => (JSON.parse(r.body) as { token: string }).token)).size, 1, 'every request got the same new token');
      } finally {
        mock.timers.reset();
      }
    });
  });
}
