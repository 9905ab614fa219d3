import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import type { OidcUser } from './public-types.js';
import { guarded } from './requires-auth.js';
import { got } from './options/checks.js';

/** What a claim check compares against: a JSON value that is not an object or array. */
export type ClaimPrimitive = string | number | boolean | null;

/**
 * The values claimEquals() accepts for a claim: its type in OidcUser (which an app extends by
 * declaration merging), or any primitive for a claim OidcUser does not declare.
 */
export type ClaimValue<K extends string> = unknown extends OidcUser[K] ? ClaimPrimitive : Extract<OidcUser[K], ClaimPrimitive>;

/** The values claimIncludes() accepts: elements of an array claim, words of a string claim, any primitive for an undeclared claim. */
export type ClaimElement<K extends string> = unknown extends OidcUser[K]
  ? ClaimPrimitive
  : NonNullable<OidcUser[K]> extends readonly (infer E)[]
    ? Extract<E, ClaimPrimitive>
    : Extract<OidcUser[K], string>;

function invalid(message: string): OidcAuthError {
  return new OidcAuthError(OidcAuthErrorCode.CONFIG_INVALID, 500, message);
}

function checkClaimName(fn: string, claim: unknown): void {
  if (typeof claim !== 'string' || claim === '') throw invalid(`${fn}(): the claim must be a non-empty string (got ${got(claim)}).`);
}

function isPrimitive(value: unknown): value is ClaimPrimitive {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function denied(message: string): OidcAuthError {
  return new OidcAuthError(OidcAuthErrorCode.CLAIM_CHECK_FAILED, 403, message);
}

/** The guard of requiresAuth(), then the check: true goes on, false is 403 OIDC_CLAIM_CHECK_FAILED. */
function claimGuard(check: (user: OidcUser, req: Request) => boolean | Promise<boolean>, refusal: string): RequestHandler {
  return function oidcClaimCheck(req: Request, res: Response, next: NextFunction) {
    guarded(req, res, next, undefined, async (user) => {
      if (await check(user, req)) next();
      else next(denied(refusal));
    });
  };
}

/**
 * Only a logged-in user whose claim has exactly this value gets through; others get 403
 * OIDC_CLAIM_CHECK_FAILED (and nobody logged in: as requiresAuth()).
 * `claimEquals('email_verified', true)`.
 */
export function claimEquals<K extends string>(claim: K, value: ClaimValue<K>): RequestHandler {
  checkClaimName('claimEquals', claim);
  if (!isPrimitive(value)) throw invalid(`claimEquals(): the value must be a string, number, boolean or null (got ${got(value)}).`);
  return claimGuard((user) => user[claim] === value, `This page requires the claim "${claim}" to have another value.`);
}

/**
 * Only a logged-in user whose claim holds every one of these values gets through: an array
 * claim (`groups`, `roles`) or a space-separated string (`scope`). Others get 403.
 * `claimIncludes('groups', 'admin')`.
 */
export function claimIncludes<K extends string>(claim: K, ...values: ClaimElement<K>[]): RequestHandler {
  checkClaimName('claimIncludes', claim);
  if (values.length === 0 || !values.every(isPrimitive))
    throw invalid(`claimIncludes(): give one or more values, each a string, number, boolean or null (got ${got(values)}).`);
  return claimGuard((user) => {
    const held: unknown = user[claim];
    const all: readonly unknown[] = Array.isArray(held) ? held : typeof held === 'string' ? held.split(' ') : [];
    return values.every((v) => all.includes(v));
  }, `This page requires the claim "${claim}" to include values this user does not have.`);
}

/** Only a logged-in user for whom `check` answers true gets through; others get 403. A check that throws goes to next(err). */
export function claimCheck(check: (user: OidcUser, req: Request) => boolean | Promise<boolean>): RequestHandler {
  if (typeof check !== 'function') throw invalid(`claimCheck(): the check must be a function (got ${got(check)}).`);
  return claimGuard(check, 'This page requires claims this user does not have.');
}
