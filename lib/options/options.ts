import type { Request } from 'express';
import type { SessionOptions } from 'express-session';
import type { Logger } from '../logging/logger.js';
import type { OidcHooks, ProviderFetch } from '../public-types.js';
import type { SessionIndex } from '../session-index/session-index.js';
import type { TelemetryOptions } from '../telemetry/telemetry.js';

/** How the app authenticates at the token endpoint ([OpenID Connect Core 9](https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication)). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** A private key for `private_key_jwt` client authentication ([RFC 7523](https://www.rfc-editor.org/rfc/rfc7523)). */
export interface ClientPrivateKey {
  /** the private key (WebCrypto), e.g. from jose's `importPKCS8`. Required */
  key: CryptoKey;
  /** the `kid` registered at the provider, sent in the assertion header. Default: none */
  kid?: string;
}

/** Paths of the package's routes, each starting with `/`, relative to `baseUrl`. */
export interface RoutesOptions {
  /** starts a login. Default `/login`; `false` turns it off (`res.oidc.login()` starts one) */
  login?: string | false;
  /**
   * the redirect_uri path (GET, and POST for `response_mode=form_post`). Default `/callback`;
   * `false` turns it off, and the app's own handler at `/callback` calls `res.oidc.callback()`
   */
  callback?: string | false;
  /** ends the session. Default `/logout`; `false` turns it off (`res.oidc.logout()` ends it) */
  logout?: string | false;
  /**
   * [OpenID Connect Back-Channel Logout 1.0](https://openid.net/specs/openid-connect-backchannel-1_0.html)
   * endpoint, called by the provider. Default `/backchannel-logout`; `false` turns it off
   */
  backchannelLogout?: string | false;
  /**
   * [OpenID Connect Front-Channel Logout 1.0](https://openid.net/specs/openid-connect-frontchannel-1_0.html)
   * endpoint (GET with `iss` and `sid`). Default `false` (off)
   */
  frontchannelLogout?: string | false;
  /** where the browser lands after logout (the `post_logout_redirect_uri`); not one of the routes above. Default `/` */
  postLogoutRedirect?: string;
}

/** How the logout route ends a session: `oidcAuth({ logout })`. */
export interface LogoutOptions {
  /** HTTP methods the logout route accepts; others get 405 and change nothing. Default `['POST']` */
  methods?: readonly ('POST' | 'GET')[];
  /** [RFC 7009](https://www.rfc-editor.org/rfc/rfc7009) revocation of the tokens at logout, both or each. Default `true` (both) */
  revokeTokens?:
    | boolean
    | {
        /** revoke the access token. Default `true` */
        accessToken?: boolean;
        /** revoke the refresh token. Default `true` */
        refreshToken?: boolean;
      };
  /**
   * [RP-initiated logout](https://openid.net/specs/openid-connect-rpinitiated-1_0.html) at the
   * provider's `end_session_endpoint` when it has one. Default `true`
   */
  idpLogout?: boolean;
  /** bound on every call to the provider during logout, in milliseconds. Default `5000` */
  timeoutMs?: number;
  /**
   * oldest back-channel logout token accepted, in seconds since its `iat` (the only bound on
   * a token that has no `exp`, as many providers send). Default `300`; 30 to 3600
   */
  backchannelMaxAgeSec?: number;
  /**
   * after this browser's session was ended (its own logout, `endSessions()`, back-channel or
   * front-channel logout), its next login asks the provider for a fresh authentication
   * (`prompt=login`), and refuses one answered from the provider's old session (an ID token
   * `auth_time` before the login started: `OIDC_REAUTHENTICATION_FAILED`). A session that
   * only expired by lifetime does not count. `{ maxAgeZero: true }` also sends `max_age=0`,
   * for providers that ignore `prompt=login`. `false`: logins after an end are as any other.
   * Default `true`
   */
  reauthenticate?:
    | boolean
    | {
        /** send `max_age=0` besides `prompt=login`. Default `false` */
        maxAgeZero?: boolean;
      };
}

/** How access tokens are refreshed: `oidcAuth({ refresh })`. */
export interface RefreshOptions {
  /** `req.oidc.getAccessToken()` refreshes a token that is about to expire. Default `true` */
  automatic?: boolean;
  /** seconds before its expiry when a token counts as about to expire. Default `60` */
  earlySeconds?: number;
}

/** Session lifetimes, enforced on the server whatever the cookie says. */
export interface LifetimeOptions {
  /** seconds after login when the session ends, however active. Default `604800` (7 days); `false`: none */
  absoluteSec?: number | false;
  /** seconds without a request after which the session ends. Default `86400` (1 day); `false`: none */
  idleSec?: number | false;
}

export type { ProviderFetch } from '../public-types.js';

/**
 * The options of `oidcAuth()`, checked when it is called (every problem listed in one
 * `OIDC_CONFIG_INVALID`). `TContext` is what `context(req)` returns, handed to every hook.
 */
export interface OidcAuthOptions<TContext = undefined> {
  /**
   * The provider's issuer URL, https (http only on loopback or with `allowInsecureRequests`);
   * its metadata comes from `/.well-known/openid-configuration`
   * ([Discovery 1.0](https://openid.net/specs/openid-connect-discovery-1_0.html)), fetched on
   * first use and cached. Required
   */
  issuer: string;
  /** the client id registered at the provider. Required */
  clientId: string;
  /** the client secret; required for `client_secret_basic` and `client_secret_post`. Default: none (a public client) */
  clientSecret?: string;
  /** token endpoint client authentication. Default `client_secret_basic` with a secret, `private_key_jwt` with a key, else `none` */
  clientAuthMethod?: ClientAuthMethod;
  /** the key for `private_key_jwt`. Default: none */
  clientPrivateKey?: ClientPrivateKey;
  /** the app's external absolute URL (origin plus optional path); the redirect_uri is `baseUrl` + `routes.callback`. Required */
  baseUrl: string;
  /** space-separated scopes; must contain `openid`. Default `openid profile email` */
  scope?: string;
  /**
   * extra authorization request parameters (`prompt`, `audience`, `acr_values`…); the
   * protocol's own (`state`, `nonce`, PKCE, `redirect_uri`, `scope`, `response_type`,
   * `client_id`) cannot be set here. Default `{}`
   */
  authorizationParams?: Readonly<Record<string, string>>;
  /**
   * send the authorization request's parameters to the provider first
   * ([RFC 9126](https://www.rfc-editor.org/rfc/rfc9126) pushed authorization requests): the
   * browser carries only `client_id` and `request_uri`. Always on when the provider's metadata
   * says `require_pushed_authorization_requests`. Default `false`
   */
  pushedAuthorizationRequests?: boolean;
  /**
   * send the authorization request as a request object signed with `clientPrivateKey`
   * ([RFC 9101](https://www.rfc-editor.org/rfc/rfc9101) JAR), pushed too when PAR is on.
   * Default `false`
   */
  signedRequestObjects?: boolean;
  /**
   * bind the session's tokens to a key pair of its own ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)
   * DPoP): a token read from the store or a log is useless without the key. Calls to APIs then
   * need a proof: use `req.oidc.callApi()`. Default `false`
   */
  dpop?: boolean;
  /**
   * `'fapi2'`: the [FAPI 2.0 Security Profile](https://openid.net/specs/fapi-security-profile-2_0-final.html):
   * PAR and DPoP on, `private_key_jwt` with a PS256, ES256 or EdDSA key, an ID token signed
   * with one of those, and a provider that sends `iss` in its authorization responses; what
   * the profile forbids is refused at `oidcAuth()`. Default: none
   */
  profile?: 'fapi2';
  /** the algorithm the provider signs ID tokens and logout tokens with: asymmetric only, never `none` or HMAC. Default `RS256` */
  idTokenSigningAlg?: string;
  /** paths of the package's routes. Default: see RoutesOptions */
  routes?: RoutesOptions;
  /**
   * express-session options: oidcAuth mounts express-session with them and secure cookie
   * defaults (on https `__Host-oidc.sid` at Path=/ with no Domain, `__Host-oidc.sid.app` for an
   * app under `/app`, so no sibling subdomain can plant it; `oidc.sid` at baseUrl's path on http
   * or with an app's cookie path, domain or `secure: false`, with a start-up warning on https;
   * HttpOnly, SameSite=Lax, Secure when baseUrl is https; resave and saveUninitialized off).
   * `false`: the app mounted express-session itself, before oidcAuth. Required (at least `{ secret }`)
   */
  session: SessionOptions | false;
  /** what logout does. Default: see LogoutOptions */
  logout?: LogoutOptions;
  /** the app's code at login and logout (`postLogin`, `postLogout`). Default: none */
  hooks?: OidcHooks<TContext>;
  /** the app's own services for a request, handed to every hook as `context`. Default `() => undefined` */
  context?: (req: Request) => TContext | Promise<TContext>;
  /** where the package logs. Default: warnings and errors to the console, nothing else */
  logger?: Logger;
  /** permit an http: issuer and http: baseUrl off loopback. Local development and tests only. Default `false` */
  allowInsecureRequests?: boolean;
  /** bound on discovery, token, userinfo and JWKS calls, in milliseconds. Default `10000` */
  httpTimeoutMs?: number;
  /**
   * every call to the provider (discovery, JWKS, token, refresh, revocation, userinfo) goes
   * through this function, e.g. undici's fetch with a ProxyAgent for a corporate proxy.
   * Default: the global `fetch`
   */
  fetch?: ProviderFetch;
  /** accepted difference between this server's clock and the provider's, in seconds, for token times and `maxAge`. Default `30`; 0 to 300 */
  clockToleranceSec?: number;
  /**
   * where the package's OpenTelemetry metrics and spans go: `{ meterProvider, tracerProvider }`,
   * either or both. Default: the global providers of `@opentelemetry/api`, which record nothing
   * until the app registers an SDK (register it before calling oidcAuth())
   */
  telemetry?: TelemetryOptions;
  /**
   * every route of the app needs a logged-in user, as if each had `requiresAuth()`, except the
   * package's own routes, `routes.postLogoutRedirect` and `publicPaths`. Default `false`
   */
  authRequired?: boolean;
  /**
   * with `authRequired`, the paths left open: a string is that path and every path under it
   * (`'/assets'`: `/assets`, `/assets/app.css`), a RegExp is tested against the path, both
   * relative to where oidcAuth() is mounted and case-sensitive. Default `[]`
   */
  publicPaths?: readonly (string | RegExp)[];
  /**
   * an anonymous visitor's first page view (a GET navigation that accepts HTML) tries a silent
   * login (`prompt=none`): a visitor with a provider session comes back logged in, one without
   * comes back to the page, anonymous, and is not tried again in this browser session (nor
   * after a logout, nor in a browser whose session was ended elsewhere). Default `false`
   */
  attemptSilentLogin?: boolean;
  /** where back-channel and front-channel logout find the sessions of a `sid` or `sub`. Default: in memory (one process); several instances need `redisSessionIndex(client)` or `postgresSessionIndex(pool)` */
  sessionIndex?: SessionIndex;
  /** access token refresh. Default: see RefreshOptions */
  refresh?: RefreshOptions;
  /** absolute and idle session lifetimes. Default: see LifetimeOptions */
  lifetime?: LifetimeOptions;
  /**
   * Keys for the package's own cookies (login transactions) and for the encryption of tokens
   * and claims at rest: a random string of at least 32 characters, or an array of them,
   * newest first (the first seals, every one opens: rotate by prepending). Default
   * `session.secret`; required with `session: false`.
   */
  secret?: string | readonly string[];
}
