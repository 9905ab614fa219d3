import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session, { MemoryStore, type Store } from 'express-session';
import { wrapStore } from './store/bounded-store.js';
import { deferSession, mayCarryCookie } from './store/lazy-session.js';
import { lateSaveLog, sessionCallback } from './store/late-session-errors.js';
import { createJwksCache } from './provider/jwks.js';
import type { Configuration } from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { noStore, queryOf, single } from './http/http.js';
import type { Instance, InstanceCore } from './instance/instance.js';
import { joinUrl, type OidcAuthOptions } from './options/options.js';
import { resolveOptions } from './options/validation.js';
import { sessionCookieExposure } from './options/session.js';
import { createProvider } from './provider/provider.js';
import { attachRequestContext } from './request-context.js';
import { attachResponseContext } from './response-context.js';
import { buildRouteTable } from './routes/route-table.js';
import { createAccessGate, silentLoginMarker } from './access-gate.js';
import { createSessionAdmin, type SessionAdmin } from './session-admin.js';
import { readCookie } from './http/cookies.js';
import { LOGOUT_STATE_COOKIE, logoutReturnRefusals, verifyLogoutReturn } from './routes/logout-return.js';
import { forgetSession, peekLogin, requireSession, type StoredLogin } from './session/session.js';
import { createEndedSessions } from './ended/ended-marks.js';
import { transactionCookies } from './login/login-transactions.js';
import { createLoginVault } from './login/login-vault.js';
import { guardedStoreFactory } from './ended/session-write.js';
import { endSessions } from './ended/end-sessions.js';
import { judgeLifetime } from './session/lifetime.js';
import { createRefresher } from './refresh/refresh.js';
import { dpopHandles } from './tokens/dpop.js';
import { loginMarker } from './login/reauthentication.js';

function normalisePath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}


function jwksUri(config: Configuration, allowInsecure: boolean): URL {
  const uri = config.serverMetadata().jwks_uri;
  if (uri === undefined) throw new Error('the provider publishes no jwks_uri');
  const url = new URL(uri);
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) throw new Error('the provider jwks_uri is not https');
  return url;
}

function methodNotAllowed(res: Response, allowed: string[]): void {
  res.setHeader('Allow', allowed.join(', '));
}

/** What oidcAuth() returns: the middleware for app.use(), with the session admin's methods. */
export type OidcAuthHandler = RequestHandler & SessionAdmin;

/**
 * Mounts OpenID Connect login, callback and logout on an Express app.
 * Options are validated here, once: a bad option throws OIDC_CONFIG_INVALID at this call.
 */
export function oidcAuth<TContext = undefined>(options: OidcAuthOptions<TContext>): OidcAuthHandler {
  const opts = resolveOptions(options);
  const provider = createProvider(opts);
  const ended = createEndedSessions(opts.sessionIndex, opts.logger);
  const https = opts.baseUrl.protocol === 'https:';
  const formPost = opts.authorizationParams['response_mode'] === 'form_post';
  const transactions = transactionCookies({
    sealer: opts.sealer,
    secure: https,
    // A provider on another site POSTs the form_post callback: only a SameSite=None cookie goes along.
    sameSite: formPost && https ? 'none' : 'lax',
    callbackPath: new URL(opts.redirectUri).pathname,
  });
  const vault = createLoginVault(opts.sealer);
  // A store we hold ourselves: back-channel logout destroys sessions without a browser request.
  const appStore = opts.session === false ? undefined : (opts.session.store ?? new MemoryStore());
  // MemoryStore answers synchronously and cannot hang; every other store gets a deadline on each call.
  const atomic = appStore === undefined ? undefined : opts.sessionIndex.atomicWriter?.(appStore);
  const ownStore =
    appStore === undefined ? undefined : wrapStore(appStore, { bounded: !(appStore instanceof MemoryStore), touch: opts.lifetime.idleSec === undefined, ended, atomic, telemetry: opts.telemetry });
  const sessionMiddleware = opts.session === false ? undefined : session({ ...opts.session, store: ownStore });
  const cookieName = opts.session === false ? undefined : opts.session.name;
  const guarded = guardedStoreFactory(ended, (store) => opts.sessionIndex.atomicWriter?.(store));
  const storeOf = (req: Request): Store | undefined => {
    // Typed as always there, but only set when the app's express-session ran for this request.
    const { sessionStore: mounted } = req as { sessionStore?: Store };
    return ownStore ?? (mounted === undefined ? undefined : guarded(mounted));
  };
  const jwks = createJwksCache(async () => jwksUri(await provider.config(), opts.allowInsecureRequests), opts.httpTimeoutMs, Date.now, opts.fetch);
  const loginPath = opts.routes.login === false ? undefined : new URL(joinUrl(opts.baseUrl, opts.routes.login)).pathname;
  const core: InstanceCore = { opts, provider, jwks, ended, transactions, vault, storeOf, loginPath, dpop: dpopHandles(), loginMarker: loginMarker(opts) };
  const instance: Instance = { ...core, refresher: createRefresher(core) };

  // express-session warns about its MemoryStore in production, but never sees it: we pass our wrapper.
  if (opts.session !== false && opts.session.store === undefined && process.env['NODE_ENV'] === 'production') {
    opts.logger.warn(
      {},
      'NODE_ENV is production but no session store was given: sessions live in this process\'s memory, are lost on restart and are not seen by other instances. Pass session.store and sessionIndex on one shared database: connect-redis (new RedisStore({ client })) with redisSessionIndex(client), or connect-pg-simple (new PGStore({ pool })) with postgresSessionIndex(pool).',
    );
  }

  const exposure = sessionCookieExposure(opts.session, opts.baseUrl);
  if (exposure !== undefined) opts.logger.warn({}, exposure);

  if (appStore !== undefined && !(appStore instanceof MemoryStore) && !opts.sessionIndex.shared) {
    opts.logger.warn({}, 'a shared session store is used with the in-memory session index: back-channel and front-channel logout only reach sessions created by this process. Pass sessionIndex: redisSessionIndex(client) or postgresSessionIndex(pool), on the same connection as the store.');
  }

  if (appStore !== undefined && opts.sessionIndex.shared) {
    opts.logger.debug(
      { atomicWrites: atomic !== undefined },
      atomic !== undefined
        ? 'sessions are written atomically with their ended mark: requests read the session only'
        : 'the session index cannot write sessions of this store atomically with their ended mark (connect-redis on the index\'s own client can, and connect-pg-simple with postgresSessionIndex): every request of a logged-in session also reads the mark',
    );
  }

  if (formPost && !https) {
    opts.logger.warn(
      {},
      'response_mode=form_post over http: browsers only send the login cookies along with a cross-site POST when they are SameSite=None, which needs https. Logins through a provider on another site fail with OIDC_STATE_MISMATCH; use an https baseUrl.',
    );
  }

  const { routes, needsSession, sessionless, callback, logout } = buildRouteTable(instance);
  const actions = { instance, callback, logout };
  const unverifiedLogoutReturns = logoutReturnRefusals(opts);
  const lateSaves = lateSaveLog(opts.logger);
  const accessGate = createAccessGate(instance, silentLoginMarker(instance));

  /**
   * A loaded login goes on only if no logout ended it (R1 of ended-marks.ts: one index
   * read per request of a logged-in session, made by the package's store alongside the
   * session read, or here for the app's own express-session) and it is within its
   * lifetimes; otherwise the request goes on anonymous.
   */
  function settleLoadedSession(req: Request, res: Response, next: (err?: unknown) => void): void {
    const login = peekLogin(req);
    if (login === undefined) {
      next();
      return;
    }
    // The package's own store already refused to load an ended login (R1 at the read).
    if (ownStore !== undefined) {
      enforceLifetime(req, res, login, next);
      return;
    }
    req.sessionStore = guarded(req.sessionStore);
    ended.isEnded(req.sessionID).then((isEnded) => {
      if (isEnded) {
        forgetSession(req).then(() => {
          next();
        }, next);
        return;
      }
      enforceLifetime(req, res, login, next);
    }, next);
  }

  /** Ends a logged-in session that outlived its lifetimes, then lets the request go on anonymous. */
  function enforceLifetime(req: Request, res: Response, login: StoredLogin, next: (err?: unknown) => void): void {
    const nowSec = Math.floor(Date.now() / 1000);
    const verdict = judgeLifetime(opts.lifetime, login, nowSec);
    if (verdict === 'touch') login.lastSeenAt = nowSec;
    if (verdict !== 'expired' || storeOf(req) === undefined) {
      next();
      return;
    }
    endSessions(instance, req, [req.sessionID], 'expired').then(() => {
      // Only expired: nobody signed this browser out, so its next login may be silent (logout.reauthenticate).
      instance.loginMarker.clear(req, res);
      next();
    }, next);
  }

  function dispatch(req: Request, res: Response, next: NextFunction, path: string): void {
    const logoutCompleted =
      req.method === 'GET' && path === opts.routes.postLogoutRedirect && readCookie(req, LOGOUT_STATE_COOKIE) !== undefined
        ? verifyLogoutReturn(req, res, opts, unverifiedLogoutReturns, single(queryOf(req), 'state'))
        : false;
    attachRequestContext(req, instance, logoutCompleted);
    attachResponseContext(req, res, actions);
    const table = routes.get(path);
    if (table === undefined) {
      // With session: false, a missing express-session is the app's mistake: say so at once.
      if (sessionMiddleware === undefined && !sessionless.has(path)) {
        try {
          requireSession(req);
        } catch (err) {
          next(err);
          return;
        }
      }
      if (accessGate === undefined || sessionless.has(path) || needsSession.has(path)) next();
      else accessGate(req, res, next, path);
      return;
    }
    noStore(res);
    const handler = table[req.method];
    if (handler === undefined) {
      methodNotAllowed(res, Object.keys(table));
      next(new OidcAuthError(OidcAuthErrorCode.METHOD_NOT_ALLOWED, 405, `${req.method} is not allowed here; use ${Object.keys(table).join(' or ')}.`));
      return;
    }
    void handler(req, res, next);
  }

  function withLifetime(req: Request, res: Response, next: NextFunction, path: string): void {
    settleLoadedSession(req, res, (err?: unknown) => {
      if (err !== undefined) next(err);
      else dispatch(req, res, next, path);
    });
  }

  const middleware: RequestHandler = function oidcAuthMiddleware(req, res, next) {
    const path = normalisePath(req.path);
    if (sessionMiddleware === undefined || cookieName === undefined || sessionless.has(path)) {
      withLifetime(req, res, next, path);
      return;
    }
    if (!needsSession.has(path) && !mayCarryCookie(req, cookieName)) {
      // No cookie, so nobody is logged in: no store read, no new session id, unless the app asks for req.session.
      deferSession(req, res, sessionMiddleware, lateSaves);
      dispatch(req, res, next, path);
      return;
    }
    sessionMiddleware(
      req,
      res,
      sessionCallback(lateSaves, req, (err?: unknown) => {
        if (err !== undefined && err !== null) {
          next(new OidcAuthError(OidcAuthErrorCode.SESSION_STORE_FAILED, 503, 'The session store could not load the session; try again shortly.', { cause: err }));
          return;
        }
        withLifetime(req, res, next, path);
      }),
    );
  };
  return Object.assign(middleware, createSessionAdmin(instance));
}
