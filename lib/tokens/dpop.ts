import { exportJWK, importJWK, type JWK } from 'jose';
import * as client from 'openid-client';

/**
 * DPoP (RFC 9449): the session's tokens are bound to a key pair of the session's own, made at
 * login and kept with the tokens (sealed like them at rest), so that any instance serving the
 * session proves possession with the same key, and a token copied out of the store or a log
 * is useless without it. ES256: small keys and proofs, supported by every DPoP provider.
 */
const DPOP_ALG = 'ES256';

/** A new key pair for a session, and its private JWK to keep. */
export async function newDpopKey(): Promise<{ keyPair: CryptoKeyPair; jwk: JWK }> {
  const keyPair = await client.randomDPoPKeyPair(DPOP_ALG, { extractable: true });
  return { keyPair, jwk: { ...(await exportJWK(keyPair.privateKey)), alg: DPOP_ALG } };
}

/** The key pair of a stored private JWK: the public half is its x and y without d. */
async function keyPairOf(jwk: JWK): Promise<CryptoKeyPair> {
  const { d: _private, ...publicJwk } = jwk;
  const [privateKey, publicKey] = await Promise.all([importJWK(jwk, DPOP_ALG), importJWK(publicJwk, DPOP_ALG)]);
  if (!(privateKey instanceof CryptoKey) || !(publicKey instanceof CryptoKey)) throw new Error("the session's DPoP key is not an EC key");
  return { privateKey, publicKey };
}

/**
 * How many sessions' DPoP handles an instance keeps. A handle remembers the nonces the
 * provider and the APIs gave it (RFC 9449 section 8): a provider that wants one in every
 * proof (Okta does) refuses the first proof of a new handle, so a handle per call would cost
 * a second request on every call. Bounded, least recently used first out.
 */
export const DPOP_HANDLES_KEPT = 1000;

export interface DpopHandles {
  /** openid-client's options for a call with the session's key: its handle, made once; none for a session without a key */
  options(config: client.Configuration, jwk: JWK | undefined): Promise<client.DPoPOptions>;
  /** the handle of a key made at login, kept: the nonce of the token request then serves the session's next calls */
  adopt(config: client.Configuration, key: { keyPair: CryptoKeyPair; jwk: JWK }): client.DPoPHandle;
}

/** The stored key's public point: the same for every copy of the session, whatever instance reads it. */
function keyId(jwk: JWK): string {
  return `${String(jwk.crv)}.${String(jwk.x)}.${String(jwk.y)}`;
}

/** One instance's handles, by session key (the session's private key is sealed at rest, so the point names exactly one key pair). */
export function dpopHandles(kept: number = DPOP_HANDLES_KEPT): DpopHandles {
  const handles = new Map<string, Promise<client.DPoPHandle>>();
  const remember = (id: string, handle: Promise<client.DPoPHandle>): void => {
    handles.delete(id);
    handles.set(id, handle);
    if (handles.size > kept) {
      const oldest = handles.keys().next();
      if (oldest.done !== true) handles.delete(oldest.value);
    }
  };
  return {
    async options(config, jwk) {
      if (jwk === undefined) return {};
      const id = keyId(jwk);
      let handle = handles.get(id);
      if (handle === undefined) {
        handle = keyPairOf(jwk).then((pair) => client.getDPoPHandle(config, pair));
        // A key that cannot be read is not kept: the next call fails the same way, and says so.
        void handle.catch(() => {
          handles.delete(id);
        });
      }
      remember(id, handle);
      return { DPoP: await handle };
    },
    adopt(config, { keyPair, jwk }) {
      const handle = client.getDPoPHandle(config, keyPair);
      remember(keyId(jwk), Promise.resolve(handle));
      return handle;
    },
  };
}
