import { errors, jwtVerify } from 'jose';
import { CLOCK_TOLERANCE_SEC } from './claims.js';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import { isUnknownKid, signingKeysOf, type JwksCache } from '../provider/jwks.js';
import { unavailable } from '../provider/errors.js';

export interface IdTokenSignatureCheck {
  jwks: JwksCache;
  /** the one algorithm accepted (`idTokenSigningAlg`): never `none`, never an HMAC keyed by the client secret */
  alg: string;
  issuer: string;
  clientId: string;
  /** accepted clock difference with the provider, seconds (`clockToleranceSec`). Default CLOCK_TOLERANCE_SEC */
  clockToleranceSec?: number;
}

function invalid(reason: string, cause: unknown): OidcAuthError {
  return new OidcAuthError(OidcAuthErrorCode.CALLBACK_INVALID, 400, `The login response failed validation: ${reason}. Start the login again.`, { cause });
}

/** jose's reasons, as fixed texts: none of them carries a claim value or the token. */
function translate(err: unknown, alg: string): OidcAuthError {
  if (err instanceof errors.JWKSNoMatchingKey) return invalid('no key of the provider matches the ID token (its "kid" is not in the provider\'s JWKS)', err);
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return invalid('several provider keys could match the ID token (it names no "kid", or a "kid" that several keys share)', err);
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalid('the ID token signature is invalid', err);
  if (err instanceof errors.JOSEAlgNotAllowed) return invalid(`the ID token is not signed with ${alg}`, err);
  if (err instanceof errors.JWTExpired) return invalid('the ID token has expired', err);
  if (err instanceof errors.JWTClaimValidationFailed) return invalid(`ID token claim "${err.claim}" is invalid`, err);
  if (err instanceof errors.JOSEError) return invalid('the ID token is not a valid signed JWT', err);
  // Not a verdict on the token: the provider's keys could not be fetched.
  return unavailable('its signing keys could not be fetched', err);
}

/**
 * Verifies the ID token's signature against the provider's JWKS (alg pinned), after
 * openid-client has checked its claims (iss, aud, azp, nonce, exp, iat, sub).
 *
 * Why here and not with openid-client's enableNonRepudiationChecks: openid-client refetches its
 * JWKS for an unknown kid only when its copy is at least 60 s old, so for up to a minute after a
 * provider rotates its key every login fails. The only place to recover is the signature check:
 * the token request cannot be redone, since the code is one-time and already spent. So on an
 * unknown kid we refetch the JWKS at once and verify again, through the cache that back-channel
 * logout uses too (one fetch in flight, forced refetches rate-limited, so a flood of made-up kids
 * cannot hammer the provider). iss and aud are checked again so the signature never vouches for
 * a token on its own.
 */
export async function verifyIdTokenSignature(idToken: string, check: IdTokenSignatureCheck): Promise<void> {
  const options = { algorithms: [check.alg], issuer: check.issuer, audience: check.clientId, clockTolerance: check.clockToleranceSec ?? CLOCK_TOLERANCE_SEC };
  const keys = await signingKeysOf(check.jwks);
  try {
    await jwtVerify(idToken, keys, options);
    return;
  } catch (err) {
    if (!isUnknownKid(err) || !check.jwks.refreshForUnknownKid(keys)) throw translate(err, check.alg);
  }
  try {
    await jwtVerify(idToken, await signingKeysOf(check.jwks), options);
  } catch (err) {
    throw err instanceof OidcAuthError ? err : translate(err, check.alg);
  }
}
