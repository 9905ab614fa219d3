import type { IDToken } from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import type { LoginRequirements } from './login-transactions.js';

/** How a user authenticated: from the ID token at login (`acr`, `auth_time`). */
export interface Authentication {
  acr?: string | undefined;
  /** epoch seconds */
  authTime?: number | undefined;
}

/**
 * Which requirement an authentication falls short of, if any. `maxAge` is judged with the
 * clock tolerance (`clockToleranceSec`), as at the callback: a login that just passed there
 * must pass here too, or a short maxAge would send the browser round in circles.
 */
export function unmetRequirement(shown: Authentication, required: LoginRequirements, nowSec: number, toleranceSec: number): 'acr' | 'maxAge' | undefined {
  // Stryker disable next-line ConditionalExpression: includes() finds no undefined either; the test is there for the type
  if (required.acr !== undefined && (shown.acr === undefined || !required.acr.includes(shown.acr))) return 'acr';
  if (required.maxAge !== undefined && (shown.authTime === undefined || nowSec - shown.authTime > required.maxAge + toleranceSec)) return 'maxAge';
  return undefined;
}

function refused(message: string): OidcAuthError {
  return new OidcAuthError(OidcAuthErrorCode.STEP_UP_FAILED, 403, `${message} The session is as it was before.`);
}

/**
 * At the callback of a login started with requirements: the new ID token must show them, and
 * a step-up must bring back the user the session already holds (someone else logging in at
 * the provider must not swap the session's user under the page that asked for more proof).
 */
export function checkRequirements(required: LoginRequirements, claims: IDToken, nowSec: number, toleranceSec: number): void {
  if (required.sub !== undefined && claims.sub !== required.sub) {
    throw refused('The provider logged in another user than the one this step-up was for.');
  }
  const acr = typeof claims['acr'] === 'string' ? claims['acr'] : undefined;
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : undefined;
  const unmet = unmetRequirement({ acr, authTime }, required, nowSec, toleranceSec);
  if (unmet === 'acr') {
    const shown = acr === undefined ? 'no acr' : `acr ${JSON.stringify(acr.slice(0, 64))}`;
    // Stryker disable next-line ArrayDeclaration: unmet is 'acr' only when required.acr is set
    throw refused(
      `The provider authenticated the user with ${shown}, but this page requires ${(required.acr ?? []).map((a) => JSON.stringify(a)).join(' or ')}.`,
    );
  }
  if (unmet === 'maxAge') {
    throw refused(
      authTime === undefined
        ? 'The provider did not say when the user authenticated (no auth_time), which a page with maxAge requires.'
        : `The provider did not authenticate the user again: the authentication is older than this page's maxAge (${String(required.maxAge)} s).`,
    );
  }
}
