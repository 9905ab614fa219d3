import type { Request, Response } from 'express';
import { readCookie } from '../http/cookies.js';
import type { ResolvedOptions } from '../options/resolved.js';
import { pathSuffix } from '../options/session.js';

/** Set once a silent login was tried (or the user logged out): this browser session is not tried again. */
const SILENT_TRIED = 'oidc.silent';

export interface SilentLoginMarker {
  /** marks this browser as tried: no silent login until the browser session ends */
  mark(res: Response): void;
  tried(req: Request): boolean;
}

export function silentLoginMarker(opts: Pick<ResolvedOptions, 'baseUrl'>): SilentLoginMarker {
  const https = opts.baseUrl.protocol === 'https:';
  const name = https ? `__Host-${SILENT_TRIED}${pathSuffix(opts.baseUrl.pathname)}` : SILENT_TRIED;
  return {
    // A browser-session cookie, no maxAge: closing the browser is when a silent login may be tried again.
    mark: (res) => res.cookie(name, '1', { httpOnly: true, secure: https, sameSite: 'lax', path: '/' }),
    tried: (req) => readCookie(req, name) !== undefined,
  };
}
