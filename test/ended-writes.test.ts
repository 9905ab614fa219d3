import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Cookie, MemoryStore, type SessionData } from 'express-session';
import { wrapStore } from '../lib/store/bounded-store.js';
import { createTelemetry } from '../lib/telemetry/telemetry.js';
import { createEndedSessions } from '../lib/ended/ended-marks.js';
import { memorySessionIndex } from '../lib/session-index/memory.js';
import { capturingLogger } from './helpers/app.js';

/** A logged-in session as express-session hands it to the store (sealed parts stand in as text). */
function loggedIn(): SessionData {
  return { cookie: new Cookie(), oidc: { login: { claims: 'sealed-claims', tokens: 'sealed-tokens', loggedInAt: 1 } } };
}

/** The callback's first save of a new login: the one write allowed to create its key. */
function newLogin(ended: ReturnType<typeof createEndedSessions>): SessionData {
  const data = loggedIn();
  const login = data.oidc?.login;
  if (login !== undefined) ended.permitCreate(login);
  return data;
}

function set(store: MemoryStore | ReturnType<typeof wrapStore>, sid: string, data: SessionData): Promise<void> {
  return new Promise((resolve, reject) => {
    store.set(sid, data, (err?: unknown) => {
      if (err === undefined || err === null) resolve();
      else reject(new Error('set failed', { cause: err }));
    });
  });
}

function get(store: MemoryStore, sid: string): Promise<SessionData | null | undefined> {
  return new Promise((resolve, reject) => {
    store.get(sid, (err: unknown, data?: SessionData | null) => {
      if (err === undefined || err === null) resolve(data);
      else reject(new Error('get failed', { cause: err }));
    });
  });
}

/**
 * An instance keeps a bounded memory of the ids it ended, to skip their writes at once; the
 * index is the authority. After so many logouts that the first one is forgotten locally, a
 * write of that session must still find the index's mark, on both of the store's write paths.
 */
describe('a session ended long ago, forgotten by the instance, still cannot be written back', () => {
  for (const atomicWrites of [true, false]) {
    test(
      atomicWrites
        ? 'MemoryStore with the in-memory index: the write checks the mark in the same turn'
        : 'a store without atomic writes: the write is checked after and undone',
      async () => {
        const index = memorySessionIndex();
        const ended = createEndedSessions(index, capturingLogger().logger);
        const memory = new MemoryStore();
        const atomic = atomicWrites ? index.atomicWriter?.(memory) : undefined;
        assert.equal(atomic !== undefined, atomicWrites);
        const store = wrapStore(memory, { bounded: false, touch: false, ended, atomic, telemetry: createTelemetry() });

        const destroyed = (): Promise<void> => Promise.resolve();
        await ended.end('victim', 60_000, destroyed);
        for (let i = 0; ended.knownEnded('victim'); i++) await ended.end(`later-${String(i)}`, 60_000, destroyed);
        assert.equal(await index.isEnded('victim'), true, 'the index still holds the mark');

        // Even a write allowed to create the key (the callback's) is refused for a marked id.
        await set(store, 'victim', newLogin(ended));
        assert.equal(await get(memory, 'victim'), undefined, 'nothing of the ended session is in the store');

        await set(store, 'alive', newLogin(ended));
        assert.notEqual(await get(memory, 'alive'), undefined, 'a session that did not end is written');
      },
    );
  }
});

/**
 * C1 of ended-marks.ts: only the callback's first save creates a login's key. The mark may
 * be gone (a Redis under volatile-lru evicted it, it expired, a full Redis refused it): a
 * login whose key was destroyed must stay destroyed all the same.
 */
describe('a destroyed login stays destroyed without its ended mark', () => {
  for (const atomicWrites of [true, false]) {
    const path = atomicWrites ? 'MemoryStore with the in-memory index (atomic)' : 'a store without atomic writes (read before the write)';
    test(`${path}: a later write of a login whose key is gone writes nothing`, async () => {
      const index = memorySessionIndex();
      const ended = createEndedSessions(index, capturingLogger().logger);
      const memory = new MemoryStore();
      const atomic = atomicWrites ? index.atomicWriter?.(memory) : undefined;
      const store = wrapStore(memory, { bounded: false, touch: false, ended, atomic, telemetry: createTelemetry() });

      const first = newLogin(ended);
      await set(store, 'victim', first);
      assert.notEqual(await get(memory, 'victim'), undefined, 'the first save creates the login');

      // A later write of the live login is an update, and goes through.
      const noted = loggedIn();
      const login = noted.oidc?.login;
      if (login !== undefined) login.lastSeenAt = 42;
      await set(store, 'victim', noted);
      assert.equal((await get(memory, 'victim'))?.oidc?.login?.lastSeenAt, 42, 'an update of a live login is written');

      // Destroyed with no mark at all (as if it was evicted), then written back by a request still in flight.
      await new Promise<void>((resolve) => {
        memory.destroy('victim', () => {
          resolve();
        });
      });
      assert.equal(await index.isEnded('victim'), false, 'no mark is left to check');
      await set(store, 'victim', loggedIn());
      assert.equal(await get(memory, 'victim'), undefined, 'the write-back created nothing');
      // The callback's own login object cannot create it twice either: its permit was used.
      await set(store, 'victim', first);
      assert.equal(await get(memory, 'victim'), undefined, 'a permit creates once');
    });
  }
});
