import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createJwksCache, type JwksCache } from '../lib/provider/jwks.js';
import { startHostileProvider, type HostileProvider } from './helpers/hostile-provider.js';

describe('the JWKS cache shared by the callback and back-channel logout', () => {
  let hp: HostileProvider;
  let clock: number;
  const cache = (): JwksCache =>
    createJwksCache(
      () => Promise.resolve(new URL(`${hp.issuer}/jwks`)),
      5000,
      () => clock,
    );

  before(async () => {
    hp = await startHostileProvider({ clientId: 'c', clientSecret: 'unused-unused-unused-unused-unused', redirectUri: 'http://127.0.0.1/callback' });
  });
  after(async () => {
    await hp.close();
  });

  test('the first forced refetch happens at once, even right after the first fetch; the next ones at most every 5 s', async () => {
    clock = 1_000_000;
    const jwks = cache();
    const before = hp.served.jwks;
    const first = await jwks.resolve();
    clock += 100;
    assert.equal(jwks.refreshForUnknownKid(first), true, 'a rotation seconds after the first fetch is followed at once');
    const second = await jwks.resolve();
    assert.equal(hp.served.jwks, before + 2);

    clock += 4_000;
    assert.equal(jwks.refreshForUnknownKid(second), false, 'a second forced refetch within 5 s is refused');
    assert.equal(await jwks.resolve(), second);
    assert.equal(hp.served.jwks, before + 2);

    clock += 1_000;
    assert.equal(jwks.refreshForUnknownKid(second), true);
    await jwks.resolve();
    assert.equal(hp.served.jwks, before + 3);
  });

  test('verifications that failed on the same old set share one refetch, in flight or landed', async () => {
    clock = 2_000_000;
    const jwks = cache();
    const old = await jwks.resolve();
    const before = hp.served.jwks;
    assert.equal(jwks.refreshForUnknownKid(old), true);
    const inFlight = jwks.resolve();
    // A second request failed on the old set while the refetch is in flight: it waits for that one.
    assert.equal(jwks.refreshForUnknownKid(old), true);
    assert.equal(jwks.resolve(), inFlight);
    const fresh = await inFlight;
    // A third failed on the old set and looks after the refetch landed: it retries against the new set.
    assert.equal(jwks.refreshForUnknownKid(old), true);
    assert.equal(await jwks.resolve(), fresh);
    assert.equal(hp.served.jwks, before + 1);
    // A kid missing from the new set too gets no further fetch within the interval.
    assert.equal(jwks.refreshForUnknownKid(fresh), false);
  });
});
