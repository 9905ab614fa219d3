import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { RandomPool } from './random.js';

/**
 * Encryption and keyed hashing of what the package keeps outside the process: tokens and
 * claims in the session store, login-transaction cookies, session-index key names.
 */
export interface Sealer {
  /**
   * AES-256-GCM with a fresh random 96-bit IV per call; a compact base64url string.
   * `purpose` selects its own derived key and is bound as additional authenticated data,
   * as is `aad` (no `aad` and `''` are the same). Throws when `plaintext` is not
   * well-formed Unicode (a lone surrogate), since UTF-8 could not give it back unchanged.
   */
  seal(purpose: SealPurpose, plaintext: string, aad?: string): string;
  /**
   * The plaintext, or undefined when no configured secret opens it, or it was tampered
   * with, truncated, not canonical base64url, or sealed for another purpose or `aad`.
   * Never throws.
   */
  open(purpose: SealPurpose, sealed: string, aad?: string): string | undefined;
  /**
   * HMAC-SHA-256 of `value` under the purpose's key of every secret, newest first,
   * base64url: write an index key with `[0]`, look one up with all of them.
   */
  keyedHashes(purpose: SealPurpose, value: string): readonly string[];
}

export type SealPurpose = 'session' | 'transaction' | 'index';

const PURPOSES: readonly SealPurpose[] = ['session', 'transaction', 'index'];
/** Bumped with any change of layout or derivation, so old data is refused rather than misread. */
const VERSION = 1;
/** HKDF salt (RFC 5869 §3.1): fixed and package-specific, so the same secret used by another library yields unrelated keys. */
const SALT = Buffer.from('express-oidc-auth/sealing', 'utf8');
const KEY_BYTES = 32;
const KEY_ID_BYTES = 4;
/** NIST SP 800-38D §8.2: a 96-bit IV is the length GCM is specified and analysed for. */
const IV_BYTES = 12;
/** NIST SP 800-38D §5.2.1.2: 128 bits, the full tag; shorter tags weaken forgery resistance. */
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES;
const MIN_SEALED_BYTES = HEADER_BYTES + IV_BYTES + TAG_BYTES;
/** IVs drawn per refill of the pool: one CSPRNG call per that many seals. */
const IVS_PER_REFILL = 512;
const CIPHER = 'aes-256-gcm';
const LONE_SURROGATE = /\p{Cs}/u;

interface SealKey {
  /** the key id as a number: compared on every open, cheaper than comparing buffers */
  readonly id: number;
  readonly header: Buffer;
  readonly key: KeyObject;
}

interface PurposeKeys {
  /** newest secret first; the first seals */
  readonly seal: readonly SealKey[];
  readonly hash: readonly KeyObject[];
  /** the purpose's part of every AAD */
  readonly label: Buffer;
}

function derive(secret: string, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), SALT, `express-oidc-auth v${VERSION} ${info}`, length));
}

function sealKey(secret: string, purpose: SealPurpose): SealKey {
  // The key id comes from its own HKDF output: it names the key without revealing
  // anything about the key or the secret, and lets open skip trial decryption.
  const id = derive(secret, `${purpose} aes-256-gcm key id`, KEY_ID_BYTES);
  const header = Buffer.concat([Buffer.of(VERSION), id]);
  return { id: id.readUInt32BE(0), header, key: createSecretKey(derive(secret, `${purpose} aes-256-gcm key`, KEY_BYTES)) };
}

function purposeKeys(secrets: readonly string[], purpose: SealPurpose): PurposeKeys {
  return {
    seal: secrets.map((secret) => sealKey(secret, purpose)),
    // A separate key for HMAC: one key is never used by two algorithms.
    hash: secrets.map((secret) => createSecretKey(derive(secret, `${purpose} hmac-sha256 key`, KEY_BYTES))),
    // NUL ends the purpose so that purpose and aad can never be re-split differently.
    label: Buffer.from(`${purpose}\u0000`, 'utf8'),
  };
}

/**
 * AAD bytes: the header (version and key id), the purpose, then the caller's aad as UTF-16
 * code units, which map every JS string, lone surrogates included, to distinct bytes.
 */
function additionalData(header: Buffer, keys: PurposeKeys, aad: string | undefined): Buffer {
  return Buffer.concat([header, keys.label, Buffer.from(aad ?? '', 'utf16le')]);
}

function validSecrets(secrets: unknown): readonly string[] {
  const list: unknown[] = Array.isArray(secrets) ? secrets : [secrets];
  if (list.length === 0) throw new Error('sealing: at least one secret is required');
  return list.map((secret, i) => {
    if (typeof secret !== 'string' || secret === '') throw new Error(`sealing: secret ${i} must be a non-empty string`);
    return secret;
  });
}

function tryOpen(key: SealKey, keys: PurposeKeys, bytes: Buffer, aad: string | undefined): string | undefined {
  const iv = bytes.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
  const tagStart = bytes.length - TAG_BYTES;
  try {
    // Without authTagLength, setAuthTag would also accept a 4- to 15-byte tag, each byte
    // fewer making forgery 256 times easier; the slice above is 16 bytes, this pins it.
    const decipher = createDecipheriv(CIPHER, key.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(key.header, keys, aad));
    decipher.setAuthTag(bytes.subarray(tagStart));
    const plain = Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES + IV_BYTES, tagStart)), decipher.final()]);
    return plain.toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * Keys from the app's secret(s), given like express-session's `secret`: newest first;
 * the first seals, every one opens, so `[new, old]` rotates without logging anyone out.
 * Keys are derived here, once, never per call: open runs on every authenticated request.
 */
export function createSealer(secrets: string | readonly string[]): Sealer {
  const list = validSecrets(secrets);
  const byPurpose = new Map<string, PurposeKeys>(PURPOSES.map((purpose) => [purpose, purposeKeys(list, purpose)]));
  const keysOf = (purpose: SealPurpose): PurposeKeys => {
    const keys = byPurpose.get(purpose);
    if (keys === undefined) throw new Error(`sealing: unknown purpose ${JSON.stringify(purpose)}`);
    return keys;
  };
  // IVs from a pool of the sealer's own: one CSPRNG call per IVS_PER_REFILL seals.
  const ivs = new RandomPool(IVS_PER_REFILL * IV_BYTES);

  return {
    seal(purpose, plaintext, aad) {
      const keys = keysOf(purpose);
      if (LONE_SURROGATE.test(plaintext)) throw new Error('sealing: plaintext is not well-formed Unicode');
      const key = keys.seal[0];
      if (key === undefined) throw new Error('sealing: no key');
      // Random IVs (SP 800-38D §8.2.2): no counter to persist or share between app
      // instances; the price is a limit of 2^32 seals per key (§8.3), so per secret and
      // purpose, before the secret must be rotated.
      const iv = ivs.take(IV_BYTES);
      const cipher = createCipheriv(CIPHER, key.key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(additionalData(key.header, keys, aad));
      const body = cipher.update(plaintext, 'utf8');
      const last = cipher.final();
      // concat copies the IV out of the pool before the pool can be refilled.
      return Buffer.concat([key.header, iv, body, last, cipher.getAuthTag()]).toString('base64url');
    },

    open(purpose, sealed, aad) {
      const keys = byPurpose.get(purpose);
      if (keys === undefined || typeof sealed !== 'string' || (aad !== undefined && typeof aad !== 'string')) return undefined;
      if (sealed.length < Math.ceil((MIN_SEALED_BYTES * 4) / 3)) return undefined;
      const bytes = Buffer.from(sealed, 'base64url');
      // Node's decoder skips foreign characters and ignores trailing bits; only the
      // canonical encoding is accepted, so one sealed value has exactly one spelling.
      if (bytes[0] !== VERSION || bytes.toString('base64url') !== sealed) return undefined;
      const id = bytes.readUInt32BE(1);
      // Every key with that id, in case two secrets' 32-bit ids ever collide.
      for (const key of keys.seal) {
        if (key.id !== id) continue;
        const plain = tryOpen(key, keys, bytes, aad);
        if (plain !== undefined) return plain;
      }
      return undefined;
    },

    keyedHashes(purpose, value) {
      // UTF-16 code units: distinct strings, lone surrogates included, never share a hash.
      const data = Buffer.from(value, 'utf16le');
      return keysOf(purpose).hash.map((key) => createHmac('sha256', key).update(data).digest('base64url'));
    },
  };
}
