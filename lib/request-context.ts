import type { Request } from 'express';
import * as client from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { translateUserInfoError } from './provider-errors.js';
import type { Provider } from './provider.js';
import type { Refresher } from './refresh.js';
import type { AppSession, StoredLogin } from './session.js';
import type { OidcUser } from './types.js';

export interface OidcAccessToken {
  /** the token itself, for an Authorization header */
  readonly token: string;
  /** usually "bearer" */
  readonly tokenType: string;
  /** epoch seconds, when the provider said how long it lives */
  readonly expiresAt: number | undefined;
  /** true once expiresAt has passed (a token without expiry never expires here) */
  isExpired(): boolean;
  /**
   * refreshes now with the refresh token, single-flight per session (across instances with
   * redisSessionIndex); a refusal ends the session and rejects with OIDC_REFRESH_FAILED (401)
   */
  refresh(): Promise<OidcAccessToken>;
}

/** `req.oidc`: what the app reads about the current user. */
export interface OidcRequestContext {
  isAuthenticated(): boolean;
  /** claims of the logged-in user */
  readonly user: OidcUser | undefined;
  readonly idToken: string | undefined;
  readonly accessToken: OidcAccessToken | undefined;
  /** the provider's userinfo for the logged-in user; rejects with OIDC_NOT_AUTHENTICATED when nobody is */
  fetchUserInfo(): Promise<OidcUser>;
  /**
   * a valid access token, for an Authorization header: refreshed first when it expires within
   * `refresh.earlySeconds` (unless `refresh.automatic` is false); rejects with
   * OIDC_NOT_AUTHENTICATED (401) without a session, OIDC_REFRESH_FAILED (401) when the
   * provider refused the refresh (the session is then ended)
   */
  getAccessToken(): Promise<string>;
  /**
   * true on the request where the provider sent the browser back to postLogoutRedirect
   * after a logout this browser started, with its one-time state verified
   */
  readonly logoutCompleted: boolean;
}

declare global {
  // Declaration merging is how Express request extensions are typed; it needs a namespace.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** set by oidcAuth(); present on every request that passed through it */
      oidc: OidcRequestContext;
    }
  }
}

/** Where requiresAuth() sends a browser: kept per request, so instances share nothing. */
const loginPaths = new WeakMap<Request, string>();

export function loginPathFor(req: Request): string | undefined {
  return loginPaths.get(req);
}

function storedLogin(req: Request): StoredLogin | undefined {
  return (req.session as AppSession | undefined)?.oidc?.login;
}

function accessTokenOf(login: StoredLogin | undefined, refresh: () => Promise<StoredLogin>): OidcAccessToken | undefined {
  if (login?.accessToken === undefined) return undefined;
  const { accessToken, expiresAt } = login;
  return {
    token: accessToken,
    tokenType: login.tokenType ?? 'bearer',
    expiresAt,
    isExpired: () => expiresAt !== undefined && expiresAt <= Date.now() / 1000,
    async refresh() {
      const next = accessTokenOf(await refresh(), refresh);
      if (next === undefined) throw new OidcAuthError(OidcAuthErrorCode.NOT_AUTHENTICATED, 401, 'The provider returned no access token.');
      return next;
    },
  };
}

export interface RequestContextDeps {
  provider: Provider;
  refresher: Refresher;
  loginPath: string;
  logoutCompleted: boolean;
}

/** Builds req.oidc; every getter reads the session at call time, so it follows logins and logouts. */
export function attachRequestContext(req: Request, { provider, refresher, loginPath, logoutCompleted }: RequestContextDeps): void {
  loginPaths.set(req, loginPath);
  const refresh = (): Promise<StoredLogin> => refresher.refresh(req);
  req.oidc = {
    getAccessToken: () => refresher.getAccessToken(req),
    isAuthenticated: () => storedLogin(req) !== undefined,
    logoutCompleted,
    get user() {
      return storedLogin(req)?.user;
    },
    get idToken() {
      return storedLogin(req)?.idToken;
    },
    get accessToken() {
      return accessTokenOf(storedLogin(req), refresh);
    },
    async fetchUserInfo() {
      const login = storedLogin(req);
      if (login?.accessToken === undefined) {
        throw new OidcAuthError(OidcAuthErrorCode.NOT_AUTHENTICATED, 401, 'fetchUserInfo() needs a logged-in user with an access token.');
      }
      const config = await provider.config();
      // expectedSubject: a userinfo answer about another user is refused (OpenID Connect Core 5.3.2).
      const info = await client.fetchUserInfo(config, login.accessToken, login.user.sub).catch((err: unknown) => {
        throw translateUserInfoError(err);
      });
      return info;
    },
  };
}
