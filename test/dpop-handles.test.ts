import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as client from 'openid-client';
import { dpopHandles, newDpopKey } from '../lib/tokens/dpop.js';

const config = new client.Configuration({ issuer: 'https://op.example.test', token_endpoint: 'https://op.example.test/token' }, 'app');

test('a session key gets one DPoP handle while it is kept; the least recently used is dropped past the bound', async () => {
  const handles = dpopHandles(2);
  const [a, b, c] = await Promise.all([newDpopKey(), newDpopKey(), newDpopKey()]);
  const first = (await handles.options(config, a.jwk)).DPoP;
  assert.ok(first !== undefined);
  assert.equal((await handles.options(config, a.jwk)).DPoP, first, 'the same handle, with the nonces it learned');
  const adopted = handles.adopt(config, b);
  assert.equal((await handles.options(config, b.jwk)).DPoP, adopted, "the login's handle serves the session's next calls");
  await handles.options(config, a.jwk);
  await handles.options(config, c.jwk);
  assert.notEqual((await handles.options(config, b.jwk)).DPoP, adopted, 'b was the least recently used of three: dropped');
  assert.deepEqual(await handles.options(config, undefined), {}, 'a session without a key gets no DPoP');
});

test('a stored key that cannot be read is refused every time, not kept', async () => {
  const handles = dpopHandles(2);
  const broken = { kty: 'EC', crv: 'P-256', x: 'not-a-point', y: 'not-a-point', d: 'nope' };
  await assert.rejects(handles.options(config, broken));
  await assert.rejects(handles.options(config, broken));
});
