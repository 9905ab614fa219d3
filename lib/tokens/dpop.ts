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
  if (!(privateKey instanceof CryptoKey) || !(publicKey instanceof CryptoKey)) throw new Error('the session\'s DPoP key is not an EC key');
  return { privateKey, publicKey };
}

/** openid-client's options for a call with the session's DPoP key, or none for a session without one. */
export async function dpopOptions(config: client.Configuration, jwk: JWK | undefined): Promise<client.DPoPOptions> {
  if (jwk === undefined) return {};
  return { DPoP: client.getDPoPHandle(config, await keyPairOf(jwk)) };
}
