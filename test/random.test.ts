import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pkceChallenge, RandomPool, randomString, randomToken } from '../lib/crypto/random.js';

describe('random values of a login: state, nonce, PKCE verifier, binding', () => {
  test('the S256 code challenge of RFC 7636 Appendix B', () => {
    assert.equal(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  test('a token is 256 bits in base64url: 43 characters (RFC 7636 §4.1: 43 to 128), never the same twice across refills', () => {
    const seen = new Set<string>();
    // More than a few pools' worth, so values on both sides of a refill are compared.
    for (let i = 0; i < 2000; i++) {
      const token = randomToken();
      assert.match(token, /^[\w-]{43}$/);
      assert.equal(Buffer.from(token, 'base64url').length, 32);
      seen.add(token);
    }
    assert.equal(seen.size, 2000);
    assert.match(randomString(16), /^[\w-]{22}$/);
  });

  test('a pool hands out each byte once: consecutive takes do not overlap, a refill brings new bytes', () => {
    const pool = new RandomPool(64);
    const taken = Array.from({ length: 40 }, () => Buffer.from(pool.take(16)).toString('hex'));
    assert.equal(new Set(taken).size, taken.length);
    assert.throws(() => pool.take(65), RangeError);
    assert.equal(pool.take(64).length, 64);
  });
});
