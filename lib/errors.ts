/**
 * Every error the package raises is an `OidcAuthError`: branch on `code`, answer with
 * `status`. Messages say what happened and what to do; they never carry a token, a code,
 * a cookie or a secret.
 */
export const OidcAuthErrorCode = {
  /** options given to `oidcAuth()`, `requiresAuth()` or a claim check are invalid (thrown at the call), or to `res.oidc.login()` (rejected) */
  CONFIG_INVALID: 'OIDC_CONFIG_INVALID',
  /** `session: false` was given but no `req.session` exists at request time */
  SESSION_MISSING: 'OIDC_SESSION_MISSING',
  /** the session store failed to load, save or destroy a session */
  SESSION_STORE_FAILED: 'OIDC_SESSION_STORE_FAILED',
  /** the provider (discovery, token, revocation endpoint) could not be reached */
  PROVIDER_UNAVAILABLE: 'OIDC_PROVIDER_UNAVAILABLE',
  /** the callback `state` matches no login started in this browser (missing, wrong, replayed, expired) */
  STATE_MISMATCH: 'OIDC_STATE_MISMATCH',
  /** the provider answered the authorization request with an error (access_denied, login_required…) */
  AUTHORIZATION_ERROR: 'OIDC_AUTHORIZATION_ERROR',
  /** the authorization response, token response or ID token failed validation */
  CALLBACK_INVALID: 'OIDC_CALLBACK_INVALID',
  /** the `postLogin` hook refused the login */
  LOGIN_REFUSED: 'OIDC_LOGIN_REFUSED',
  /** an operation needs a logged-in user and there is none */
  NOT_AUTHENTICATED: 'OIDC_NOT_AUTHENTICATED',
  /** `requiresAuth()` or `req.oidc` was used without `oidcAuth()` mounted before it */
  MIDDLEWARE_MISSING: 'OIDC_MIDDLEWARE_MISSING',
  /** a cross-site request was refused (logout CSRF) */
  CROSS_SITE_REQUEST: 'OIDC_CROSS_SITE_REQUEST',
  /** the route does not accept this HTTP method */
  METHOD_NOT_ALLOWED: 'OIDC_METHOD_NOT_ALLOWED',
  /** the provider's userinfo answer failed validation (another subject, not JSON…) */
  USERINFO_INVALID: 'OIDC_USERINFO_INVALID',
  /** a refresh the provider refused ended the session */
  REFRESH_FAILED: 'OIDC_REFRESH_FAILED',
  /** a step-up login (requiresAuth({ acr, maxAge })) came back without what it asked for, or as another user; the session is unchanged */
  STEP_UP_FAILED: 'OIDC_STEP_UP_FAILED',
  /** a login after this browser's session was ended came back from the provider's old session (an auth_time before the login started): no session was created */
  REAUTHENTICATION_FAILED: 'OIDC_REAUTHENTICATION_FAILED',
  /** with pushed authorization requests on, a login was asked for by a client that is not a browser's top-level navigation (no Fetch Metadata saying so): no call to the provider was made */
  NAVIGATION_REQUIRED: 'OIDC_NAVIGATION_REQUIRED',
  /** the logged-in user lacks a claim a route requires (claimEquals, claimIncludes, claimCheck) */
  CLAIM_CHECK_FAILED: 'OIDC_CLAIM_CHECK_FAILED',
} as const;

export type OidcAuthErrorCode = (typeof OidcAuthErrorCode)[keyof typeof OidcAuthErrorCode];

/** What an `OidcAuthError` carries besides its code, status and message. */
export interface OidcAuthErrorOptions {
  /** the lower-level error, kept for logs; never shown to the browser by the package */
  cause?: unknown;
  /** each problem found, for `OIDC_CONFIG_INVALID` */
  problems?: readonly string[];
  /** the OAuth error code sent by the provider, for `OIDC_AUTHORIZATION_ERROR` */
  providerError?: string;
}

/**
 * The one error class of the package: requests' errors reach `next(err)` as one, and
 * `oidcAuth()` throws one for invalid options. Branch on `code`; answer with `status`.
 * The lower-level error, when there is one, is the standard `cause`.
 */
export class OidcAuthError extends Error {
  /** always `'OidcAuthError'` */
  override readonly name = 'OidcAuthError';
  /** what went wrong, one of `OidcAuthErrorCode`: the field to branch on */
  readonly code: OidcAuthErrorCode;
  /** HTTP status to answer with (Express's error handler reads `status`) */
  readonly status: number;
  /** Express's default error handler also reads `statusCode` */
  readonly statusCode: number;
  /** set so Express's default handler shows the message: it is written to be safe */
  readonly expose: boolean;
  /** each problem found, for `OIDC_CONFIG_INVALID` (the message lists them too); empty otherwise */
  readonly problems: readonly string[];
  /** the OAuth error code the provider sent (`access_denied`…), for `OIDC_AUTHORIZATION_ERROR`; undefined otherwise */
  readonly providerError: string | undefined;

  constructor(code: OidcAuthErrorCode, status: number, message: string, options: OidcAuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = status;
    this.statusCode = status;
    this.expose = status < 500;
    this.problems = Object.freeze([...(options.problems ?? [])]);
    this.providerError = options.providerError;
  }
}

/** True for an `OidcAuthError`: narrows an error handler's `unknown` before it reads `code`. */
export function isOidcAuthError(value: unknown): value is OidcAuthError {
  return value instanceof OidcAuthError;
}
