import type { Request } from 'express';
import type { JWK } from 'jose';
import type { Session, SessionData, Store } from 'express-session';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import { isDeferred, preloadedSession } from './lazy-session.js';
import { storeFailed } from './store-calls.js';
import type { OidcTokens, OidcUser } from '../public-types.js';

/** A logged-in session as the package works with it, in memory only (see login-vault.ts). */
export interface Login {
  user: OidcUser;
  idToken?: string;
  accessToken?: string;
  refreshToken?: string;
  tokenType?: string;
  /** the private key the tokens are bound to (DPoP, RFC 9449), when `dpop` is on */
  dpopKey?: JWK;
  /** access token expiry, epoch seconds */
  expiresAt?: number;
  /** the provider's session id (ID token `sid`), for back-channel logout */
  sid?: string;
  /** how the user authenticated at login (ID token `acr`, `amr`, `auth_time`): what step-up judges */
  acr?: string;
  amr?: string[];
  /** epoch seconds */
  authTime?: number;
  /** the browser's User-Agent header at login (cut to 512 characters), so listSessions() can tell browsers apart */
  userAgent?: string;
  /** epoch seconds */
  loggedInAt: number;
  /** epoch seconds of the last request seen, for the idle lifetime; written at most once a minute */
  lastSeenAt?: number;
  /** how many times the tokens were refreshed: a save holding fewer is stale (see session-write.ts) */
  refreshes?: number;
}

/**
 * What a logged-in session holds at rest: claims and tokens sealed (AES-256-GCM, keys from
 * the secret), only times and counters in clear, since the lifetimes are judged on every
 * request without opening anything.
 */
export interface StoredLogin {
  /** sealed JSON of the user's claims, the provider's sid and how the user authenticated */
  claims: string;
  /** sealed JSON of the tokens, bound to `claims` */
  tokens: string;
  /** epoch seconds when the access token expires, when the provider said */
  expiresAt?: number;
  /** epoch seconds of the login */
  loggedInAt: number;
  /** epoch seconds of the last request seen, for the idle lifetime; written at most once a minute, absent until then */
  lastSeenAt?: number;
  /** how many times the tokens were refreshed: a save holding fewer is stale */
  refreshes?: number;
}

/** The package's whole part of the session, under the one key `req.session.oidc`. */
export interface OidcSessionData {
  /** the logged-in user's login, sealed; absent before a login and after its end */
  login?: StoredLogin;
}

declare module 'express-session' {
  interface SessionData {
    oidc?: OidcSessionData;
  }
}

export type AppSession = Session & Partial<SessionData>;

/**
 * This request's session, or undefined when no express-session ran for it: the one place that
 * reads req.session, typed by @types/express-session as always there.
 */
export function sessionOf(req: Request): AppSession | undefined {
  const { session } = req as { session?: AppSession };
  return session;
}

/** The store of the app's own express-session, when it ran for this request (typed as always there, too). */
export function mountedStoreOf(req: Request): Store | undefined {
  const { sessionStore } = req as { sessionStore?: Store };
  return sessionStore;
}

/** The tokens of a login, as hooks and revocation see them: only those it has. */
export function tokensOf(login: Login | undefined): OidcTokens {
  const tokens: OidcTokens = {};
  if (login?.idToken !== undefined) tokens.idToken = login.idToken;
  if (login?.accessToken !== undefined) tokens.accessToken = login.accessToken;
  if (login?.refreshToken !== undefined) tokens.refreshToken = login.refreshToken;
  return tokens;
}

/**
 * The logged-in state of this request, without creating a deferred session to find out: a
 * request without a session cookie has none; one whose session the package read holds it.
 * Read-only: a change must go through req.session (materialize() first), or express-session
 * does not know to save it.
 */
export function peekLogin(req: Request): StoredLogin | undefined {
  if (isDeferred(req)) return preloadedSession(req)?.oidc?.login;
  return sessionOf(req)?.oidc?.login;
}

const SESSION_MISSING_MESSAGE =
  'oidcAuth: req.session is missing. With "session: false", mount express-session before oidcAuth() (app.use(session({ … })) first).';

/** The store that holds the sessions: the package's own, or the app's express-session store. */
export function requireStore(store: Store | undefined): Store {
  if (store === undefined) throw new OidcAuthError(OidcAuthErrorCode.SESSION_MISSING, 500, SESSION_MISSING_MESSAGE);
  return store;
}

export function requireSession(req: Request): AppSession {
  const session = sessionOf(req);
  if (session === undefined) {
    throw new OidcAuthError(OidcAuthErrorCode.SESSION_MISSING, 500, SESSION_MISSING_MESSAGE);
  }
  return session;
}

function call(action: string, run: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    run((err?: unknown) => {
      if (err === undefined || err === null) resolve();
      else reject(storeFailed(action, err));
    });
  });
}

export function regenerateSession(req: Request): Promise<void> {
  return call('regenerate', (done) => requireSession(req).regenerate(done));
}

export function saveSession(req: Request): Promise<void> {
  return call('save', (done) => requireSession(req).save(done));
}

/**
 * Leaves this request with a fresh, empty session in place of one that ended: the app still
 * finds a req.session, and express-session has nothing of the old one left to write back.
 * Regenerating destroys the old id in the store once more, which is harmless.
 */
export async function forgetSession(req: Request): Promise<void> {
  await regenerateSession(req).catch(() => Reflect.deleteProperty(req, 'session'));
}

export function destroySession(req: Request): Promise<void> {
  return call('destroy', (done) => requireSession(req).destroy(done));
}
