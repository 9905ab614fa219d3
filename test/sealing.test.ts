import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { createSealer } from '../lib/crypto/sealing.js';

/** Fixed seed: a failure replays the same way on every machine. */
const SEED = 424242;

/** This package's format, not a spec: one version byte, then a 4-byte key id. */
const VERSION_BYTES = 1;
const KEY_ID_BYTES = 4;
/** NIST SP 800-38D §8.2 (and §5.2.1.1): the recommended 96-bit IV. */
const GCM_IV_BYTES = 12;
/** NIST SP 800-38D §5.2.1.2: the full 128-bit authentication tag. */
const GCM_TAG_BYTES = 16;
const HEADER_BYTES = VERSION_BYTES + KEY_ID_BYTES;

const claims = JSON.stringify({ sub: 'alice', email: 'alice@example.com', name: 'Alice Ünïcødé 𝔘' });

function bytesOf(sealed: string): Buffer {
  return Buffer.from(sealed, 'base64url');
}

function withByte(sealed: string, index: number, value: number): string {
  const bytes = bytesOf(sealed);
  bytes[index] = value;
  return bytes.toString('base64url');
}

describe('sealing', () => {
  test('what is sealed opens to the same string', () => {
    const sealer = createSealer('a secret');
    assert.equal(sealer.open('session', sealer.seal('session', claims)), claims);
    assert.equal(sealer.open('transaction', sealer.seal('transaction', claims, 'state-1'), 'state-1'), claims);
    assert.equal(sealer.open('session', sealer.seal('session', '')), '');
  });

  test('the sealed string is base64url and does not contain the plaintext', () => {
    const sealed = createSealer('a secret').seal('session', claims);
    assert.match(sealed, /^[A-Za-z0-9_-]+$/);
    assert.ok(!sealed.includes('alice') && !bytesOf(sealed).includes('alice'));
  });

  test('a value sealed for one purpose does not open for another', () => {
    const sealer = createSealer('a secret');
    const sealed = sealer.seal('transaction', claims);
    assert.equal(sealer.open('session', sealed), undefined);
    assert.equal(sealer.open('index', sealed), undefined);
  });

  test('a value sealed with one aad does not open with another or with none', () => {
    const sealer = createSealer('a secret');
    const sealed = sealer.seal('transaction', claims, 'state-1');
    assert.equal(sealer.open('transaction', sealed, 'state-2'), undefined);
    assert.equal(sealer.open('transaction', sealed), undefined);
    assert.equal(sealer.open('transaction', sealer.seal('transaction', claims), 'state-1'), undefined);
  });

  test('aad strings that differ only in lone surrogates stay distinct', () => {
    const sealer = createSealer('a secret');
    const sealed = sealer.seal('transaction', claims, '\uD800');
    assert.equal(sealer.open('transaction', sealed, '\uDBFF'), undefined);
    assert.equal(sealer.open('transaction', sealed, '\uD800'), claims);
  });

  test('every single-byte change of the sealed bytes is refused', () => {
    const sealer = createSealer('a secret');
    const sealed = sealer.seal('session', 'a short claim set', 'aad');
    const length = bytesOf(sealed).length;
    for (let i = 0; i < length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const original = bytesOf(sealed)[i] ?? 0;
        assert.equal(sealer.open('session', withByte(sealed, i, original ^ flip), 'aad'), undefined, `byte ${i} ^ ${flip}`);
      }
    }
  });

  test('a truncated or extended sealed value is refused', () => {
    const sealer = createSealer('a secret');
    const sealed = sealer.seal('session', claims);
    const bytes = bytesOf(sealed);
    for (let keep = 0; keep < bytes.length; keep++) {
      assert.equal(sealer.open('session', bytes.subarray(0, keep).toString('base64url')), undefined, `first ${keep} bytes`);
    }
    for (let keep = 1; keep < sealed.length; keep++) {
      assert.equal(sealer.open('session', sealed.slice(0, keep)), undefined, `first ${keep} characters`);
    }
    assert.equal(sealer.open('session', Buffer.concat([bytes, Buffer.of(0)]).toString('base64url')), undefined);
  });

  test('another spelling of the same bytes is refused', () => {
    const sealer = createSealer('a secret');
    const sealed = sealer.seal('session', claims);
    const base64 = bytesOf(sealed).toString('base64');
    for (const spelling of [base64, `${sealed}=`, ` ${sealed}`, `${sealed}\n`, sealed.replace(/^(.{10})/, '$1.')]) {
      if (spelling === sealed) continue;
      assert.equal(sealer.open('session', spelling), undefined, spelling);
    }
  });

  test('hostile inputs return undefined without throwing', () => {
    const sealer = createSealer('a secret');
    const sealed = sealer.seal('session', claims);
    const hostile = ['', 'A', '====', '\u0000', '%00', '𝔘'.repeat(100), 'A'.repeat(2_000_000), withByte(sealed, 0, 2), withByte(sealed, 0, 0)];
    for (const input of hostile) assert.equal(sealer.open('session', input), undefined);
    assert.equal(sealer.open('session', undefined as unknown as string), undefined);
    assert.equal(sealer.open('nonsense' as unknown as 'session', sealed), undefined);
  });

  test('two seals of the same plaintext differ (a fresh IV each time)', () => {
    const sealer = createSealer('a secret');
    const seen = new Set<string>();
    const ivs = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const sealed = sealer.seal('session', claims);
      seen.add(sealed);
      ivs.add(
        bytesOf(sealed)
          .subarray(HEADER_BYTES, HEADER_BYTES + GCM_IV_BYTES)
          .toString('hex'),
      );
    }
    assert.equal(seen.size, 100);
    assert.equal(ivs.size, 100);
  });

  test('the layout is version, key id, a 12-byte IV, the ciphertext as long as the plaintext, and a 16-byte tag', () => {
    const sealer = createSealer('a secret');
    // GCM encrypts in counter mode (SP 800-38D §6.5, §7.1): the ciphertext is exactly as
    // long as the plaintext, so everything beyond it is the header, the IV and the tag.
    for (const plaintext of ['', 'x', claims, 'é'.repeat(700)]) {
      const length = Buffer.byteLength(plaintext, 'utf8');
      const bytes = bytesOf(sealer.seal('session', plaintext));
      assert.equal(bytes.length, VERSION_BYTES + KEY_ID_BYTES + GCM_IV_BYTES + length + GCM_TAG_BYTES, `plaintext of ${length} bytes`);
    }
  });

  test('the header names the key: the same for every seal under one secret, different across secrets', () => {
    const header = (secret: string): string => bytesOf(createSealer(secret).seal('session', claims)).subarray(0, HEADER_BYTES).toString('hex');
    assert.equal(header('one'), header('one'));
    assert.notEqual(header('one'), header('two'));
    assert.ok(!Buffer.from(header('a secret'), 'hex').includes('a secret'));
  });

  test('a value sealed with a different secret does not open', () => {
    assert.equal(createSealer('two').open('session', createSealer('one').seal('session', claims)), undefined);
  });

  describe('when the secret is rotated', () => {
    test('a value sealed with ["old"] opens with ["new", "old"] and still with ["old"]', () => {
      const sealed = createSealer(['old']).seal('session', claims);
      assert.equal(createSealer(['new', 'old']).open('session', sealed), claims);
      assert.equal(createSealer(['old']).open('session', sealed), claims);
      assert.equal(createSealer('old').open('session', sealed), claims);
    });

    test('a value sealed with ["new", "old"] is sealed with "new"', () => {
      const sealed = createSealer(['new', 'old']).seal('session', claims);
      assert.equal(createSealer(['new']).open('session', sealed), claims);
      assert.equal(createSealer(['old']).open('session', sealed), undefined);
    });

    test('after "old" is dropped, what it sealed returns undefined', () => {
      const sealed = createSealer(['old']).seal('transaction', claims, 'state');
      assert.equal(createSealer(['new']).open('transaction', sealed, 'state'), undefined);
      assert.equal(createSealer(['newer', 'new']).open('transaction', sealed, 'state'), undefined);
    });
  });

  describe('keyed hashes', () => {
    test('there is one hash per secret, newest first', () => {
      const rotated = createSealer(['new', 'old']).keyedHashes('index', 'alice');
      assert.equal(rotated.length, 2);
      assert.deepEqual(rotated, [...createSealer('new').keyedHashes('index', 'alice'), ...createSealer('old').keyedHashes('index', 'alice')]);
    });

    test('a hash is stable across calls and sealer instances', () => {
      const sealer = createSealer(['new', 'old']);
      assert.deepEqual(sealer.keyedHashes('index', 'alice'), sealer.keyedHashes('index', 'alice'));
      assert.deepEqual(sealer.keyedHashes('index', 'alice'), createSealer(['new', 'old']).keyedHashes('index', 'alice'));
    });

    test('a hash differs per purpose, per value and per secret', () => {
      const sealer = createSealer('a secret');
      const [index] = sealer.keyedHashes('index', 'alice');
      assert.notEqual(index, sealer.keyedHashes('session', 'alice')[0]);
      assert.notEqual(index, sealer.keyedHashes('index', 'alicf')[0]);
      assert.notEqual(index, sealer.keyedHashes('index', '')[0]);
      assert.notEqual(index, createSealer('another').keyedHashes('index', 'alice')[0]);
      assert.notEqual(sealer.keyedHashes('index', '\uD800')[0], sealer.keyedHashes('index', '\uDBFF')[0]);
    });

    test('a hash is base64url of 32 bytes and does not contain the value', () => {
      const value = 'https://op.example/|alice|sid-123';
      for (const hash of createSealer(['new', 'old']).keyedHashes('index', value)) {
        assert.match(hash, /^[A-Za-z0-9_-]{43}$/);
        assert.ok(!hash.includes('alice') && !bytesOf(hash).includes('alice'));
      }
    });
  });

  describe('createSealer', () => {
    test('refuses no secret, an empty secret and a non-string secret', () => {
      for (const secrets of [[], '', [''], ['good', ''], [42], undefined, null]) {
        assert.throws(() => createSealer(secrets as unknown as string), Error, JSON.stringify(secrets));
      }
    });

    test('does not depend on later changes to the caller array', () => {
      const secrets = ['one'];
      const sealer = createSealer(secrets);
      secrets[0] = 'two';
      assert.equal(createSealer('one').open('session', sealer.seal('session', claims)), claims);
    });

    test('seal refuses a plaintext with a lone surrogate, which UTF-8 would silently replace', () => {
      const sealer = createSealer('a secret');
      assert.throws(() => sealer.seal('session', 'a\uD800b'), /well-formed/);
      assert.throws(() => sealer.seal('session', '\uDC00'), /well-formed/);
      assert.equal(sealer.open('session', sealer.seal('session', '\uD835\uDD18')), '\uD835\uDD18');
    });
  });

  describe('properties', () => {
    const sealer = createSealer(['new', 'old']);
    const unicode = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 50 }));

    test('open(seal(x)) is x for any unicode string and aad', () => {
      fc.assert(
        fc.property(
          unicode,
          fc.option(unicode, { nil: undefined }),
          fc.constantFrom('session' as const, 'transaction' as const, 'index' as const),
          (plaintext, aad, purpose) => {
            assert.equal(sealer.open(purpose, sealer.seal(purpose, plaintext, aad), aad), plaintext);
          },
        ),
        { seed: SEED, numRuns: 500 },
      );
    });

    test('open of any string returns undefined and never throws', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.base64String({ maxLength: 300 }), fc.stringMatching(/^[A-Za-z0-9_-]{0,300}$/)),
          (input) => {
            assert.equal(sealer.open('session', input), undefined);
          },
        ),
        { seed: SEED, numRuns: 1000 },
      );
    });

    test('random bytes behind a real header (so they reach the cipher) never open', () => {
      const header = bytesOf(sealer.seal('session', '')).subarray(0, HEADER_BYTES);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (rest) => {
          assert.equal(sealer.open('session', Buffer.concat([header, rest]).toString('base64url')), undefined);
        }),
        { seed: SEED, numRuns: 1000 },
      );
    });
  });
});
