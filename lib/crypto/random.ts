import { createHash, randomFillSync } from 'node:crypto';

/**
 * Bytes of the CSPRNG drawn a block at a time: one call to the CSPRNG costs several µs (a
 * system call), more than the work a login start or a seal does with its bytes. Each byte
 * is handed out once.
 */
export class RandomPool {
  readonly #pool: Buffer;
  #next: number;

  constructor(size: number) {
    this.#pool = Buffer.alloc(size);
    this.#next = size;
  }

  /** `length` fresh bytes: a view into the pool, valid until the next call (encode or copy it before). */
  take(length: number): Buffer {
    if (length > this.#pool.length) throw new RangeError(`random pool: ${String(length)} bytes asked of a pool of ${String(this.#pool.length)}`);
    if (this.#next + length > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#next = 0;
    }
    this.#next += length;
    return this.#pool.subarray(this.#next - length, this.#next);
  }
}

/** 256 bits: what openid-client's randomState(), randomNonce() and randomPKCECodeVerifier() draw (43 base64url characters). */
const TOKEN_BYTES = 32;
const tokens = new RandomPool(TOKEN_BYTES * 128);

/** `bytes` fresh random bytes, base64url. */
export function randomString(bytes: number): string {
  return tokens.take(bytes).toString('base64url');
}

/** A fresh 256-bit random value, base64url: a state, a nonce, a PKCE code verifier (RFC 7636 §4.1: 43 characters). */
export function randomToken(): string {
  return randomString(TOKEN_BYTES);
}

/**
 * The S256 code challenge of a verifier (RFC 7636 §4.2): BASE64URL(SHA256(ASCII(verifier))).
 * Synchronous: WebCrypto's digest, which openid-client's calculatePKCECodeChallenge uses,
 * runs as a job on the thread pool and costs about 35 µs a login.
 */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}
