import type { Request, Response } from 'express';
import type { IDToken } from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import { readCookie } from '../http/cookies.js';
import { pathSuffix } from '../options/session.js';
import type { ResolvedOptions } from '../options/resolved.js';
import { unmetRequirement } from './step-up.js';

/**
 * "This browser has logged in here." Set at the callback, kept by the browser's own logout
 * (which sets it again), cleared only by the request that finds its session expired by
 * lifetime. So at /login, a browser that shows it but has no live session had its session
 * ended by something: its own logout, endSessions(), a back-channel or front-channel logout
 * (the last three never see the browser, which is why the browser must carry the fact).
 *
 * Only its presence counts, and presence only ever asks for more (a fresh authentication,
 * no silent login): a visitor who adds it gains nothing, and one who drops it from their
 * own browser only skips a prompt for themselves. It holds no time, so it needs no seal;
 * the time the callback checks is that of the /login request, kept in the sealed login
 * transaction. Nothing is stored on the server, for anyone.
 */
const NAME = 'oidc.seen';

export interface LoginMarker {
  /** the browser has (or had) a login here; `cookieMaxAgeMs` is the session cookie's */
  set(res: Response, cookieMaxAgeMs: number | null | undefined): void;
  /** the session only expired: this browser may log in silently again (from this request on) */
  clear(req: Request, res: Response): void;
  present(req: Request): boolean;
}

export function loginMarker(opts: Pick<ResolvedOptions, 'baseUrl' | 'lifetime'>): LoginMarker {
  const https = opts.baseUrl.protocol === 'https:';
  // __Host-: a sibling subdomain cannot overwrite or shadow it (it could only add one, which asks for more).
  // The app's path in the name, as for the session cookie: two apps on one host keep their own.
  const name = https ? `__Host-${NAME}${pathSuffix(opts.baseUrl.pathname)}` : NAME;
  const base = { httpOnly: true, secure: https, sameSite: 'lax', path: '/' } as const;
  const absoluteMs = opts.lifetime.absoluteSec === undefined ? undefined : opts.lifetime.absoluteSec * 1000;
  // Requests of this instance that cleared the marker: the cookie they carry is stale from then on.
  const cleared = new WeakSet<Request>();
  return {
    set(res, cookieMaxAgeMs) {
      // A browser-session cookie when the session cookie is one (closing the browser ends both);
      // else as long as the session can live: the absolute lifetime, not the cookie's maxAge,
      // which every activity note and refresh renews (without an absolute lifetime, that maxAge).
      const maxAge = typeof cookieMaxAgeMs === 'number' ? (absoluteMs ?? cookieMaxAgeMs) : undefined;
      res.cookie(name, '1', maxAge === undefined ? base : { ...base, maxAge });
    },
    clear(req, res) {
      if (readCookie(req, name) === undefined) return;
      cleared.add(req);
      res.clearCookie(name, base);
    },
    present: (req) => !cleared.has(req) && readCookie(req, name) !== undefined,
  };
}

/** The prompt of a login that must authenticate afresh: `login`, with whatever else was asked but `none`. */
export function withPromptLogin(prompt: string | undefined): string {
  const others = (prompt ?? '').split(' ').filter((p) => p !== '' && p !== 'login' && p !== 'none');
  return ['login', ...others].join(' ');
}

/**
 * At the callback of a login sent with prompt=login after an end: an ID token whose
 * auth_time is older than that login's start was answered from the provider's old session
 * (the provider ignored prompt=login, or something stripped it on the way: it travels
 * through the browser unless PAR is on). Judged with the clock tolerance, by step-up's own
 * rule. A token without auth_time cannot show it either way, and is accepted, unless
 * max_age was sent (`maxAgeSent`): OpenID Connect Core 3.1.2.1 then makes auth_time REQUIRED.
 */
export function checkReauthenticated(startedSec: number, claims: IDToken, nowSec: number, toleranceSec: number, maxAgeSent = false): void {
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : undefined;
  if (authTime === undefined && !maxAgeSent) return;
  if (authTime === undefined) {
    throw new OidcAuthError(
      OidcAuthErrorCode.REAUTHENTICATION_FAILED,
      403,
      'This browser was signed out, so the login asked the provider for a fresh sign-in with max_age=0, but the ID token has no auth_time to show one happened. No session was created.',
    );
  }
  if (unmetRequirement({ authTime }, { maxAge: Math.max(0, nowSec - startedSec) }, nowSec, toleranceSec) === undefined) return;
  throw new OidcAuthError(
    OidcAuthErrorCode.REAUTHENTICATION_FAILED,
    403,
    'This browser was signed out, so the login asked the provider for a fresh sign-in, but the provider answered from its earlier session without asking for credentials. No session was created. Sign out at the provider, then log in again.',
  );
}
