import type { Request, Response } from 'express';
import { readCookie, sameString } from '../http/cookies.js';
import type { ResolvedOptions } from '../options/options.js';
import { createRefusalLog, type RefusalLog } from '../logging/refusal-log.js';

/**
 * The end_session state travels with a short-lived cookie bound to this browser: the
 * session is gone by the time the provider sends the browser back, so it cannot hold it.
 */
export const LOGOUT_STATE_COOKIE = 'oidc.logout';
const LOGOUT_STATE_MAX_AGE_MS = 10 * 60 * 1000;

function cookieOptions(opts: ResolvedOptions): { httpOnly: true; sameSite: 'lax'; secure: boolean; path: string } {
  // Lax: the return is a top-level GET navigation from the provider, which Lax cookies accompany.
  return { httpOnly: true, sameSite: 'lax', secure: opts.baseUrl.protocol === 'https:', path: opts.baseUrl.pathname };
}

export function rememberLogoutState(res: Response, opts: ResolvedOptions, state: string): void {
  res.cookie(LOGOUT_STATE_COOKIE, state, { ...cookieOptions(opts), maxAge: LOGOUT_STATE_MAX_AGE_MS });
}

/** The rate-limited log of post-logout returns whose state does not match: one per oidcAuth() instance. */
export function logoutReturnRefusals(opts: ResolvedOptions): RefusalLog {
  return createRefusalLog(opts.logger, 'post-logout return with an unverified state: not treated as a finished logout');
}

/**
 * On the post-logout redirect: true when the state the provider returned matches this
 * browser's logout cookie (then consumed). A missing or wrong state leaves the cookie
 * alone and is not a finished logout. Anyone can send that cookie with any page request, so
 * the mismatch goes to the rate-limited `refusals` log, never a warning per request.
 */
export function verifyLogoutReturn(req: Request, res: Response, opts: ResolvedOptions, refusals: RefusalLog, state: string | undefined): boolean {
  const expected = readCookie(req, LOGOUT_STATE_COOKIE);
  if (expected === undefined) return false;
  if (state === undefined || !sameString(state, expected)) {
    refusals.refused(state === undefined ? 'missing state' : 'wrong state');
    return false;
  }
  res.clearCookie(LOGOUT_STATE_COOKIE, cookieOptions(opts));
  return true;
}
