import type { Request } from 'express';

/**
 * Logout CSRF: a state-changing POST from another site is refused. Browsers send Origin on
 * every cross-origin POST and Sec-Fetch-Site on every request; either one naming another
 * site is enough to refuse. A client that sends neither (curl, a server) is no browser an
 * attacker can drive, so it is accepted. SameSite=Lax already keeps the session cookie off
 * cross-site POSTs; this check is the second lock, and covers apps with SameSite=None.
 */
export function isCrossSite(req: Request, appOrigin: string): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = req.headers.origin;
  return origin !== undefined && origin !== appOrigin;
}
