import type { Request, Response } from 'express';
import { readCookie, sameString } from '../http/cookies.js';
import { queryOf, single } from '../http/http.js';
import type { ResolvedOptions } from '../options/resolved.js';
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

/**
 * On the post-logout redirect: true when the state the provider returned matches this
 * browser's logout cookie (then consumed). A missing or wrong state leaves the cookie
 * alone and is not a finished logout. Anyone can send that cookie with any page request, so
 * the mismatch goes to the rate-limited `refusals` log, never a warning per request.
 */
function verifyLogoutReturn(req: Request, res: Response, opts: ResolvedOptions, refusals: RefusalLog, state: string | undefined): boolean {
  const expected = readCookie(req, LOGOUT_STATE_COOKIE);
  if (expected === undefined) return false;
  if (state === undefined || !sameString(state, expected)) {
    refusals.refused(state === undefined ? 'missing state' : 'wrong state');
    return false;
  }
  res.clearCookie(LOGOUT_STATE_COOKIE, cookieOptions(opts));
  return true;
}

/**
 * A route that does not answer: it looks at a request on its way to the app's own handler at
 * that path, and says whether the request finishes a logout of this browser (req.oidc.logoutCompleted).
 */
export type Landing = (req: Request, res: Response) => boolean;

/** The post-logout return, at routes.postLogoutRedirect: the app's page answers it, the package only checks the state. */
export function createLogoutReturnLanding(opts: ResolvedOptions): Landing {
  // Rate-limited, one log per oidcAuth() instance.
  const refusals = createRefusalLog(opts.logger, 'post-logout return with an unverified state: not treated as a finished logout');
  return (req, res) => readCookie(req, LOGOUT_STATE_COOKIE) !== undefined && verifyLogoutReturn(req, res, opts, refusals, single(queryOf(req), 'state'));
}
