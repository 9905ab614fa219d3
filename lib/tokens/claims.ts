import type { IDToken } from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import type { OidcUser } from '../public-types.js';

/** Protocol claims: they describe the token, not the user, and would only bloat the session. */
const PROTOCOL_CLAIMS = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'azp', 'auth_time', 'at_hash', 'c_hash', 's_hash', 'sid', 'jti', 'acr', 'amr']);

/** Accepted difference between our clock and the provider's. */
export const CLOCK_TOLERANCE_SEC = 30;

export function userFromClaims(claims: IDToken): OidcUser {
  const user: OidcUser = { sub: claims.sub };
  for (const [name, value] of Object.entries(claims)) {
    if (!PROTOCOL_CLAIMS.has(name) && value !== undefined) user[name] = value;
  }
  return user;
}

/** Checks openid-client leaves to the caller. */
export function checkIdTokenTimes(claims: IDToken, nowSec: number, toleranceSec: number = CLOCK_TOLERANCE_SEC): void {
  if (claims.iat > nowSec + toleranceSec) {
    throw new OidcAuthError(
      OidcAuthErrorCode.CALLBACK_INVALID,
      400,
      'The ID token was issued in the future (check the clocks of this server and the provider). Start the login again.',
    );
  }
}
