import { got, type Problems } from './checks.js';
import type { ClientAuthMethod, ClientPrivateKey } from './options.js';

/** WebCrypto key algorithms that sign with PS256, ES256 or EdDSA (a PKCS#1 RSA key signs RS256, which FAPI 2.0 forbids). */
function fapiKey(key: CryptoKey): boolean {
  const { name } = key.algorithm;
  return name === 'RSA-PSS' || name === 'Ed25519' || (name === 'ECDSA' && (key.algorithm as EcKeyAlgorithm).namedCurve === 'P-256');
}

/** What FAPI 2.0's Security Profile allows for signatures (5.4.1): PS256, ES256 and EdDSA (Ed25519). */
const FAPI2_ALGS = ['PS256', 'ES256', 'EdDSA', 'Ed25519'];

export interface ProfileSettings {
  /** the profile's name, or undefined for none */
  profile: 'fapi2' | undefined;
  pushedAuthorizationRequests: boolean;
  dpop: boolean;
}

/**
 * `profile: 'fapi2'` ([FAPI 2.0 Security Profile](https://openid.net/specs/fapi-security-profile-2_0-final.html)):
 * PAR and DPoP on (refused when set to false), private_key_jwt only, an ID token algorithm of
 * the profile's. PKCE with S256, the one-time state and nonce and RFC 9207's iss check are
 * what the package always does; the provider's support for iss is checked at the first login.
 */
export function resolveProfile(
  input: Record<string, unknown>,
  method: ClientAuthMethod,
  key: ClientPrivateKey | undefined,
  problems: Problems,
): ProfileSettings {
  const profile = input['profile'];
  const par = input['pushedAuthorizationRequests'];
  const dpop = input['dpop'];
  if (profile === undefined) return { profile: undefined, pushedAuthorizationRequests: par === true, dpop: dpop === true };
  if (profile !== 'fapi2') {
    problems.push(`"profile" must be "fapi2" or left out (got ${got(profile)})`);
    return { profile: undefined, pushedAuthorizationRequests: par === true, dpop: dpop === true };
  }
  if (par === false) problems.push('"pushedAuthorizationRequests" cannot be false with profile "fapi2": FAPI 2.0 requires pushed authorization requests');
  if (dpop === false) problems.push('"dpop" cannot be false with profile "fapi2": FAPI 2.0 requires sender-constrained tokens (DPoP)');
  if (method !== 'private_key_jwt')
    problems.push(`"clientAuthMethod" must be "private_key_jwt" with profile "fapi2" (got "${method}"): FAPI 2.0 forbids client secrets and public clients`);
  if (key !== undefined && key.key instanceof CryptoKey && !fapiKey(key.key)) {
    problems.push(`"clientPrivateKey" must sign with PS256, ES256 or EdDSA with profile "fapi2" (got a ${key.key.algorithm.name} key)`);
  }
  const alg = input['idTokenSigningAlg'];
  if (alg === undefined) {
    problems.push('"idTokenSigningAlg" is required with profile "fapi2": PS256, ES256 or EdDSA (the default, RS256, is not allowed by FAPI 2.0)');
  } else if (typeof alg !== 'string' || !FAPI2_ALGS.includes(alg)) {
    problems.push(`"idTokenSigningAlg" must be PS256, ES256 or EdDSA with profile "fapi2" (got ${got(alg)})`);
  }
  return { profile: 'fapi2', pushedAuthorizationRequests: true, dpop: true };
}
