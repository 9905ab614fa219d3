import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLoginVault } from '../lib/login/login-vault.js';
import { createSealer } from '../lib/crypto/sealing.js';
import type { Login, StoredLogin } from '../lib/session/session.js';

const SECRET = 'login-vault-test-secret-0123456789abcdef';
const LOGIN: Login = {
  user: { sub: 'alice', email: 'alice@example.com', address: { country: 'NL' } },
  sid: 'provider-sid',
  idToken: 'id.token.value',
  accessToken: 'access-token-value',
  refreshToken: 'refresh-token-value',
  tokenType: 'Bearer',
  loggedInAt: 1_700_000_000,
};

/** What a store read gives: a fresh object parsed from the stored JSON. */
const reread = (stored: StoredLogin): StoredLogin => JSON.parse(JSON.stringify(stored)) as StoredLogin;

describe('login vault', () => {
  test('every read of the same stored login gets claims objects of its own: a change made by one request is not seen by the next', () => {
    const vault = createLoginVault(createSealer(SECRET));
    const stored = vault.seal(LOGIN);
    const first = vault.claims(reread(stored));
    assert.ok(first !== undefined);
    first.user.email = 'changed@example.com';
    (first.user['address'] as { country: string }).country = 'XX';
    const second = vault.claims(reread(stored));
    assert.deepEqual(second?.user, LOGIN.user);
    assert.equal(second.sid, 'provider-sid');
  });

  test('a tampered record does not open, even after the genuine one was opened', () => {
    const vault = createLoginVault(createSealer(SECRET));
    const stored = vault.seal(LOGIN);
    assert.ok(vault.claims(reread(stored)) !== undefined);
    const at = Math.floor(stored.claims.length / 2);
    const flipped = stored.claims.slice(0, at) + (stored.claims[at] === 'A' ? 'B' : 'A') + stored.claims.slice(at + 1);
    assert.notEqual(flipped, stored.claims);
    assert.equal(vault.claims({ ...reread(stored), claims: flipped }), undefined);
    assert.equal(vault.open({ ...reread(stored), claims: flipped }), undefined);
  });

  test('claims opened by one secret are not opened by a vault without that secret', () => {
    const old = createLoginVault(createSealer(SECRET));
    const stored = old.seal(LOGIN);
    assert.ok(old.claims(reread(stored)) !== undefined);
    assert.equal(createLoginVault(createSealer(`${SECRET}-other`)).claims(reread(stored)), undefined);
  });

  test('the very object another vault opened is not opened by a vault without its secret', () => {
    const owner = createLoginVault(createSealer(SECRET));
    const stranger = createLoginVault(createSealer(`${SECRET}-other`));
    const loaded = reread(owner.seal(LOGIN));
    assert.equal(owner.open(loaded)?.accessToken, 'access-token-value');
    assert.equal(stranger.claims(loaded), undefined);
    assert.equal(stranger.tokens(loaded), undefined);
    assert.equal(stranger.open(loaded), undefined);
  });

  test('a login whose sealed text changes on the same object is opened again, not served from what was opened before', () => {
    const vault = createLoginVault(createSealer(SECRET));
    const loaded = reread(vault.seal(LOGIN));
    assert.equal(vault.open(loaded)?.user.sub, 'alice');
    const bob = vault.seal({ ...LOGIN, user: { sub: 'bob' }, accessToken: 'bobs-token' });
    loaded.claims = bob.claims;
    loaded.tokens = bob.tokens;
    assert.equal(vault.claims(loaded)?.user.sub, 'bob');
    assert.equal(vault.tokens(loaded)?.accessToken, 'bobs-token');
  });

  test('what was opened never reaches the store: the JSON of an opened login is the JSON of the sealed one', () => {
    const vault = createLoginVault(createSealer(SECRET));
    const loaded = reread(vault.seal(LOGIN));
    const before = JSON.stringify(loaded);
    assert.ok(vault.open(loaded) !== undefined);
    assert.equal(JSON.stringify(loaded), before);
    assert.equal(JSON.stringify({ ...loaded }), before);
  });

  test('tokens are bound to the claims they were sealed with', () => {
    const vault = createLoginVault(createSealer(SECRET));
    const alice = vault.seal(LOGIN);
    const bob = vault.seal({ ...LOGIN, user: { sub: 'bob' }, accessToken: 'bobs-token' });
    assert.equal(vault.open(reread(alice))?.accessToken, 'access-token-value');
    assert.equal(vault.tokens({ ...reread(alice), tokens: bob.tokens }), undefined, "bob's tokens under alice's claims do not open");
  });
});
