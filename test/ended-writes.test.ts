import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStore, type SessionData } from 'express-session';
import { wrapStore } from '../lib/session/bounded-store.js';
import { createTelemetry } from '../lib/telemetry/telemetry.js';
import { createEndedSessions } from '../lib/session/ended-sessions.js';
import { memorySessionIndex } from '../lib/session-index/session-index.js';

/** A logged-in session as express-session hands it to the store (sealed parts stand in as text). */
const LOGGED_IN = { cookie: { originalMaxAge: null }, oidc: { login: { claims: 'sealed-claims', tokens: 'sealed-tokens', loggedInAt: 1 } } } as unknown as SessionData;

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
    test(atomicWrites ? 'MemoryStore with the in-memory index: the write checks the mark in the same turn' : 'a store without atomic writes: the write is checked after and undone', async () => {
      const index = memorySessionIndex();
      const ended = createEndedSessions(index);
      const memory = new MemoryStore();
      const atomic = atomicWrites ? index.atomicWriter?.(memory) : undefined;
      assert.equal(atomic !== undefined, atomicWrites);
      const store = wrapStore(memory, { bounded: false, touch: false, ended, atomic, telemetry: createTelemetry() });

      await ended.end('victim', 60_000);
      for (let i = 0; ended.knownEnded('victim'); i++) await ended.end(`later-${String(i)}`, 60_000);
      assert.equal(await index.isEnded('victim'), true, 'the index still holds the mark');

      await set(store, 'victim', LOGGED_IN);
      assert.equal(await get(memory, 'victim'), undefined, 'nothing of the ended session is in the store');

      await set(store, 'alive', LOGGED_IN);
      assert.notEqual(await get(memory, 'alive'), undefined, 'a session that did not end is written');
    });
  }
});
