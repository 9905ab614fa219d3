import type { Request } from 'express';
import * as client from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { translateUserInfoError } from './provider/errors.js';
import type { Instance } from './instance/instance.js';
import { peekLogin, type Login, type StoredLogin } from './session/session.js';
import { passageOf, type Passage } from './session/lazy-session.js';
import type { OidcUser } from './public-types.js';
import type { SealedClaims } from './login/login-vault.js';
import type { JWK } from 'jose';

/** What `req.oidc.callApi()` sends besides the token. */
export interface ApiCallInit {
  /** Default `GET` */
  method?: string;
  /** headers sent besides `Authorization` (and `DPoP`), which the package sets */
  headers?: HeadersInit;
  /** the request body, as `fetch` takes it */
  body?: string | URLSearchParams | Uint8Array<ArrayBuffer> | ArrayBuffer | null;
}

/** `req.oidc.accessToken`: the access token of the login, with what the token response said of it. */
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
   * redisSessionIndex or postgresSessionIndex); a refusal ends the session and rejects with OIDC_REFRESH_FAILED (401)
   */
  refresh(): Promise<OidcAccessToken>;
}

/** `req.oidc`: what the app reads about the current user. */
export interface OidcRequestContext {
  /** true when a live login is in this request's session (not ended, within its lifetimes) */
  isAuthenticated(): boolean;
  /** claims of the logged-in user */
  readonly user: OidcUser | undefined;
  /** the raw ID token of the login (for `id_token_hint`, or an API that wants it); undefined when nobody is logged in */
  readonly idToken: string | undefined;
  /** the login's access token as stored (it may have expired: `getAccessToken()` refreshes); undefined when nobody is logged in */
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
   * calls an API with the user's access token, valid (as getAccessToken()) and sent as the
   * provider issued it: `Authorization: Bearer`, or, for a DPoP-bound token (`dpop: true`),
   * `Authorization: DPoP` with a proof for this method and URL made with the session's key
   * (a DPoP nonce the API asks for is sent on one retry). Through the `fetch` option. Answers
   * the API's response, whatever its status; rejects as getAccessToken() does, and with
   * OIDC_PROVIDER_UNAVAILABLE when the API cannot be reached
   */
  callApi(url: string | URL, init?: ApiCallInit): Promise<Response>;
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

function accessTokenOf(
  login: { accessToken?: string; tokenType?: string; expiresAt?: number } | undefined,
  refresh: () => Promise<Login>,
): OidcAccessToken | undefined {
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

/**
 * req.oidc. One small object per request, its methods on the prototype: it is built for
 * every request, so it must cost next to nothing. Every getter reads the session at call
 * time, so it follows logins and logouts within the request.
 */
export class RequestContext implements OidcRequestContext {
  readonly #req: Request;
  readonly #instance: Instance;
  /** the user a guard let through (requiresAuth): `user` stays theirs even if a logout lands later in this request */
  #authorized: OidcUser | undefined;
  readonly logoutCompleted: boolean;

  constructor(req: Request, instance: Instance, logoutCompleted: boolean) {
    this.#req = req;
    this.#instance = instance;
    this.logoutCompleted = logoutCompleted;
  }

  // Static, not per-request closures: the guards read these on every protected request.
  static instanceOf(context: RequestContext): Instance {
    return context.#instance;
  }

  static claimsOf(context: RequestContext): SealedClaims | undefined {
    const login = context.#login();
    return login === undefined ? undefined : context.#instance.vault.claims(login);
  }

  static authorize(context: RequestContext, user: OidcUser): void {
    context.#authorized = user;
  }

  /**
   * The stored login of this request, unless this instance ended its session since the
   * request loaded it, or no configured secret opens its claims (a removed secret): such a
   * session is simply not logged in.
   */
  #login(): StoredLogin | undefined {
    const login = peekLogin(this.#req);
    if (login === undefined || this.#instance.ended.knownEnded(this.#req.sessionID)) return undefined;
    return this.#instance.vault.claims(login) === undefined ? undefined : login;
  }

  #tokens(): { idToken?: string; accessToken?: string; tokenType?: string; expiresAt?: number; dpopKey?: JWK } | undefined {
    const login = this.#login();
    const tokens = login === undefined ? undefined : this.#instance.vault.tokens(login);
    return tokens === undefined || login?.expiresAt === undefined ? tokens : { ...tokens, expiresAt: login.expiresAt };
  }

  isAuthenticated(): boolean {
    return this.#login() !== undefined;
  }

  get user(): OidcUser | undefined {
    const login = this.#login();
    return (login === undefined ? undefined : this.#instance.vault.claims(login)?.user) ?? this.#authorized;
  }

  get idToken(): string | undefined {
    return this.#tokens()?.idToken;
  }

  get accessToken(): OidcAccessToken | undefined {
    return accessTokenOf(this.#tokens(), () => this.#instance.refresher.refresh(this.#req));
  }

  getAccessToken(): Promise<string> {
    return this.#instance.refresher.getAccessToken(this.#req);
  }

  async fetchUserInfo(): Promise<OidcUser> {
    const stored = this.#login();
    const login = stored === undefined ? undefined : this.#instance.vault.open(stored);
    if (login?.accessToken === undefined) {
      throw new OidcAuthError(OidcAuthErrorCode.NOT_AUTHENTICATED, 401, 'fetchUserInfo() needs a logged-in user with an access token.');
    }
    const config = await this.#instance.provider.config();
    // expectedSubject: a userinfo answer about another user is refused (OpenID Connect Core 5.3.2).
    return client.fetchUserInfo(config, login.accessToken, login.user.sub, await this.#instance.dpop.options(config, login.dpopKey)).catch((err: unknown) => {
      throw translateUserInfoError(err);
    });
  }

  async callApi(url: string | URL, init: ApiCallInit = {}): Promise<Response> {
    const token = await this.getAccessToken();
    const config = await this.#instance.provider.config();
    const options = await this.#instance.dpop.options(config, this.#tokens()?.dpopKey);
    const target = new URL(url);
    try {
      return await client.fetchProtectedResource(config, token, target, init.method ?? 'GET', init.body ?? undefined, new Headers(init.headers), options);
    } catch (err) {
      // A 401 with a challenge is the API's answer, for the app to read like any other.
      if (err instanceof client.WWWAuthenticateChallengeError) return err.response;
      throw new OidcAuthError(OidcAuthErrorCode.PROVIDER_UNAVAILABLE, 503, `The API at ${target.origin} could not be reached.`, { cause: err });
    }
  }
}

/** This request's req.oidc as the package built it, or undefined when no oidcAuth() handled the request. */
export function contextOf(req: Request): RequestContext | undefined {
  // Typed as always present by declaration merging, but absent when oidcAuth() is not mounted.
  const context = (req as { oidc?: unknown }).oidc;
  return context instanceof RequestContext ? context : undefined;
}

/** The oidcAuth() instance that built this req.oidc. */
export function instanceOf(context: RequestContext): Instance {
  return RequestContext.instanceOf(context);
}

/** The opened claims of the request's live login, or undefined when nobody is logged in. */
export function liveClaims(context: RequestContext): SealedClaims | undefined {
  return RequestContext.claimsOf(context);
}

/** Keeps `user` as req.oidc.user for the rest of the request: a guard let this user through. */
export function authorizeUser(context: RequestContext, user: OidcUser): void {
  RequestContext.authorize(context, user);
}

/** A passage of one oidcAuth() instance: req.oidc is built from it when first read. */
export interface RequestPassage extends Passage {
  readonly instance: Instance;
  readonly loaded: RequestPassage;
}

const CONTEXT: unique symbol = Symbol('express-oidc-auth.context');
type WithContext = Request & { [CONTEXT]?: RequestContext };

/**
 * req.oidc, built on first read and kept for the request; rebuilt when a later oidcAuth()
 * (another instance mounted in the same app) passed the request since, as the last one to
 * pass a request owns its req.oidc.
 */
const OIDC_ACCESSOR: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Request): RequestContext | undefined {
    // Only instances of this module set a passage, and they set a RequestPassage.
    const passage = passageOf(this) as RequestPassage | undefined;
    if (passage === undefined) return undefined;
    const cached = (this as WithContext)[CONTEXT];
    if (cached !== undefined && RequestContext.instanceOf(cached) === passage.instance) return cached;
    const context = new RequestContext(this, passage.instance, false);
    (this as WithContext)[CONTEXT] = context;
    return context;
  },
  set(this: Request, value: unknown): void {
    Object.defineProperty(this, 'oidc', { configurable: true, enumerable: true, writable: true, value });
  },
};

/** Puts the req.oidc getter on `target`: the app's request prototype (once), or the request itself. */
export function installRequestContextAccessor(target: object): void {
  Object.defineProperty(target, 'oidc', OIDC_ACCESSOR);
}

/** Builds req.oidc at once, for a request whose context knows more than the passage (a verified logout return). */
export function attachRequestContext(req: Request, instance: Instance, logoutCompleted: boolean): void {
  (req as WithContext)[CONTEXT] = new RequestContext(req, instance, logoutCompleted);
}
