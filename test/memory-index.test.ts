import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memorySessionIndex } from '../lib/session-index/memory.js';

test('the in-memory index keeps every live ended mark and logout-token claim through the sweeps of many logouts, and forgets only expired ones', async () => {
  let clock = 1_000_000;
  const index = memorySessionIndex(() => clock);
  // Marks that live for a day, then enough short ones to make the maps sweep several times over.
  for (let i = 0; i < 50; i++) await index.markEnded(`long-${String(i)}`, 86_400_000);
  for (let i = 0; i < 5000; i++) await index.markEnded(`short-${String(i)}`, 1000);
  for (let i = 0; i < 5000; i++) assert.equal(await index.claimOnce(`jti-${String(i)}`, 1000), true);
  assert.equal(await index.claimOnce('jti-long', 86_400_000), true);
  clock += 2000;
  for (let i = 0; i < 3000; i++) await index.markEnded(`later-${String(i)}`, 1000);
  for (let i = 0; i < 3000; i++) await index.claimOnce(`later-jti-${String(i)}`, 1000);
  for (let i = 0; i < 50; i++) assert.equal(await index.isEnded(`long-${String(i)}`), true, `long-${String(i)} is still ended`);
  assert.equal(await index.isEnded('short-0'), false);
  assert.equal(await index.isEnded('later-2999'), true);
  assert.equal(await index.claimOnce('jti-long', 1000), false, 'a live claim still refuses a replay');
  assert.equal(await index.claimOnce('jti-0', 1000), true, 'an expired claim can be taken again');
});
