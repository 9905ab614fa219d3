import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refreshLockTtlMs, refreshOnce } from '../lib/refresh/refresh-once.js';
import type { StoredLogin } from '../lib/session/session.js';
import { memorySessionIndex } from '../lib/session-index/memory.js';
import type { SessionIndex } from '../lib/session-index/session-index.js';

/*
 * The refresh-once rule of lib/refresh/refresh-once.ts at the unit level (the races through real
 * instances, Redis and oidc-provider are in test/refresh.test.ts and test/redis-instances.test.ts).
 * Numbers from the README's "Bounds": the lock outlives twice the provider bound
 * (httpTimeoutMs, default 10 s) plus twice the store bound (3 s) plus 1 s: 27 s by default.
 */
const README_DEFAULT_LOCK_MS = 27_000;

const login = (tokens: string): StoredLogin => ({ claims: 'c', tokens, loggedInAt: 1 });

/** A promise the test resolves when it chooses: the interleaving is the test's, not the clock's. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/** A real in-memory index that records the lock calls. */
function recordingIndex(): { index: SessionIndex; claims: { key: string; ttlMs: number }[]; releases: string[] } {
  const inner = memorySessionIndex();
  const claims: { key: string; ttlMs: number }[] = [];
  const releases: string[] = [];
  const index: SessionIndex = {
    ...inner,
    claimOnce(key, ttlMs) {
      claims.push({ key, ttlMs });
      return inner.claimOnce(key, ttlMs);
    },
    release(key) {
      releases.push(key);
      return inner.release(key);
    },
  };
  return { index, claims, releases };
}

describe('refresh once', () => {
  test('the lock lives 27 s with the default httpTimeoutMs (README), and follows httpTimeoutMs', () => {
    assert.equal(refreshLockTtlMs(10_000), README_DEFAULT_LOCK_MS);
    assert.equal(refreshLockTtlMs(2_000), 2 * 2_000 + 2 * 3_000 + 1_000);
    const { index, claims } = recordingIndex();
    const once = refreshOnce(index, 10_000);
    assert.equal(once.lockTtlMs, README_DEFAULT_LOCK_MS);
    return once
      .run(
        's1',
        () => Promise.resolve(login('t2')),
        () => Promise.reject(new Error('no other')),
      )
      .then(() => {
        assert.deepEqual(claims, [{ key: 'refresh:s1', ttlMs: README_DEFAULT_LOCK_MS }]);
      });
  });

  test('concurrent refreshes of one session in one process spend once and share the result', async () => {
    const { index, claims } = recordingIndex();
    const once = refreshOnce(index, 10_000);
    const hold = gate();
    let spent = 0;
    const spend = async (): Promise<StoredLogin> => {
      spent++;
      await hold.wait;
      return login('t2');
    };
    const runs = Array.from({ length: 20 }, () => once.run('s1', spend, () => Promise.reject(new Error('must not wait'))));
    hold.open();
    const results = await Promise.all(runs);
    assert.equal(spent, 1);
    assert.equal(claims.length, 1);
    assert.ok(results.every((r) => r === results[0]));
  });

  test('another instance holding the lock: this one waits for its tokens and spends nothing', async () => {
    const { index } = recordingIndex();
    const other = refreshOnce(index, 10_000);
    const mine = refreshOnce(index, 10_000);
    const hold = gate();
    const first = other.run(
      's1',
      async () => {
        await hold.wait;
        return login('t2');
      },
      () => Promise.reject(new Error('first must hold the lock')),
    );
    let spentHere = 0;
    const second = mine.run(
      's1',
      () => {
        spentHere++;
        return Promise.resolve(login('t3'));
      },
      () => Promise.resolve(login('t2 read from the store')),
    );
    assert.equal((await second).tokens, 't2 read from the store');
    assert.equal(spentHere, 0);
    hold.open();
    assert.equal((await first).tokens, 't2');
  });

  test('the lock is given back after the refresh, whether it worked or failed, and a later refresh spends again', async () => {
    const { index, releases } = recordingIndex();
    const once = refreshOnce(index, 10_000);
    await assert.rejects(
      once.run(
        's1',
        () => Promise.reject(new Error('refused')),
        () => Promise.reject(new Error('no other')),
      ),
      /refused/,
    );
    assert.deepEqual(releases, ['refresh:s1']);
    assert.equal(
      (
        await once.run(
          's1',
          () => Promise.resolve(login('t3')),
          () => Promise.reject(new Error('no other')),
        )
      ).tokens,
      't3',
    );
    assert.deepEqual(releases, ['refresh:s1', 'refresh:s1']);
  });

  test('a release that fails does not fail the refresh (the lock then lapses by its ttl)', async () => {
    const { index } = recordingIndex();
    const failing: SessionIndex = { ...index, release: () => Promise.reject(new Error('redis down')) };
    const once = refreshOnce(failing, 10_000);
    assert.equal(
      (
        await once.run(
          's1',
          () => Promise.resolve(login('t2')),
          () => Promise.reject(new Error('no other')),
        )
      ).tokens,
      't2',
    );
  });

  test('sessions do not share a lock', async () => {
    const { index, claims } = recordingIndex();
    const once = refreshOnce(index, 10_000);
    const hold = gate();
    const a = once.run(
      'a',
      async () => {
        await hold.wait;
        return login('a2');
      },
      () => Promise.reject(new Error('no other')),
    );
    const b = await once.run(
      'b',
      () => Promise.resolve(login('b2')),
      () => Promise.reject(new Error('no other')),
    );
    assert.equal(b.tokens, 'b2');
    hold.open();
    assert.equal((await a).tokens, 'a2');
    assert.deepEqual(
      claims.map((c) => c.key),
      ['refresh:a', 'refresh:b'],
    );
  });
});
