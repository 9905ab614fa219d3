import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session, { MemoryStore, type Store } from 'express-session';
import { wrapStore } from './bounded-store.js';
import { deferSession, mayCarryCookie } from './lazy-session.js';
import { createJwksCache } from './jwks.js';
import { createBackchannelLogoutHandler } from './routes/backchannel-logout.js';
import { createFrontchannelLogoutHandler } from './routes/frontchannel-logout.js';
import type { Configuration } from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { noStore, queryOf, single } from './http.js';
import { joinUrl, type OidcAuthOptions } from './options.js';
import { resolveOptions } from './options-validation.js';
import { createProvider } from './provider.js';
import { attachRequestContext, type InstanceDeps } from './request-context.js';
import { createCallbackHandler } from './routes/callback.js';
import type { AsyncHandler, RouteContext } from './routes/context.js';
import { createLoginHandler } from './routes/login.js';
import { createLogoutHandler } from './routes/logout.js';
import { LOGOUT_STATE_COOKIE, readCookie, verifyLogoutReturn } from './logout-return.js';
import { peekLogin, requireSession } from './session.js';
import { endSessions } from './end-sessions.js';
import { judgeLifetime } from './lifetime.js';
import { createRefresher } from './refresh.js';

type MethodTable = Partial<Record<string, AsyncHandler>>;

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

/**
 * Mounts OpenID Connect login, callback and logout on an Express app.
 * Options are validated here, once: a bad option throws OIDC_CONFIG_INVALID at this call.
 */
export function oidcAuth<TContext = undefined>(options: OidcAuthOptions<TContext>): RequestHandler {
  const opts = resolveOptions(options);
  const provider = createProvider(opts);
  const ctx: RouteContext<TContext> = { opts, provider };
  // A store we hold ourselves: back-channel logout destroys sessions without a browser request.
  const appStore = opts.session === false ? undefined : (opts.session.store ?? new MemoryStore());
  // MemoryStore answers synchronously and cannot hang; every other store gets a deadline on each call.
  const ownStore = appStore === undefined ? undefined : wrapStore(appStore, { bounded: !(appStore instanceof MemoryStore), touch: opts.lifetime.idleSec === undefined });
  const sessionMiddleware = opts.session === false ? undefined : session({ ...opts.session, store: ownStore });
  const cookieName = opts.session === false ? undefined : (opts.session.name ?? 'connect.sid');
  const storeOf = (req: Request): Store | undefined => {
    // Typed as always there, but only set when the app's express-session ran for this request.
    const mounted: Store | undefined = req.sessionStore;
    return ownStore ?? mounted;
  };
  const jwks = createJwksCache(async () => jwksUri(await provider.config(), opts.allowInsecureRequests), opts.httpTimeoutMs);
  const loginPath = new URL(joinUrl(opts.baseUrl, opts.routes.login)).pathname;
  const deps: InstanceDeps = { provider, refresher: createRefresher(opts, provider, storeOf, jwks), loginPath };

  if (appStore !== undefined && !(appStore instanceof MemoryStore) && !opts.sessionIndex.shared) {
    opts.logger.warn({}, 'a shared session store is used with the in-memory session index: back-channel and front-channel logout only reach sessions created by this process. Pass sessionIndex: redisSessionIndex(client).');
  }

  if (opts.authorizationParams['response_mode'] === 'form_post' && opts.session !== false && typeof opts.session.cookie === 'object' && opts.session.cookie.sameSite !== 'none') {
    opts.logger.warn(
      {},
      'response_mode=form_post with a SameSite=Lax session cookie: browsers withhold that cookie from a provider on another site when it POSTs the callback, so such logins fail with OIDC_STATE_MISMATCH. Set session.cookie.sameSite "none" (with secure) unless the provider is on the same site.',
    );
  }

  const callback = createCallbackHandler(ctx, jwks);
  const logout = createLogoutHandler(ctx);
  const routes = new Map<string, MethodTable>([
    [opts.routes.login, { GET: createLoginHandler(ctx) }],
    [opts.routes.callback, { GET: callback, POST: callback }],
    [opts.routes.logout, Object.fromEntries([...opts.logout.methods].map((m) => [m, logout]))],
  ]);
  // Called by the provider (server to server, or in a hidden iframe): no session of their own, no cookie, no store read.
  const sessionless = new Set<string>();
  if (opts.routes.backchannelLogout !== false) {
    routes.set(opts.routes.backchannelLogout, { POST: createBackchannelLogoutHandler(ctx, jwks, storeOf) });
    sessionless.add(opts.routes.backchannelLogout);
  }
  if (opts.routes.frontchannelLogout !== false) {
    routes.set(opts.routes.frontchannelLogout, { GET: createFrontchannelLogoutHandler(ctx, storeOf) });
    sessionless.add(opts.routes.frontchannelLogout);
  }

  /** Ends a logged-in session that outlived its lifetimes, then lets the request go on anonymous. */
  function enforceLifetime(req: Request, next: (err?: unknown) => void): void {
    const login = peekLogin(req);
    if (login === undefined) {
      next();
      return;
    }
    const nowSec = Math.floor(Date.now() / 1000);
    const verdict = judgeLifetime(opts, login, nowSec);
    if (verdict === 'touch') login.lastSeenAt = nowSec;
    const store = storeOf(req);
    if (verdict !== 'expired' || store === undefined) {
      next();
      return;
    }
    endSessions(opts, req, store, provider.ready(), [req.sessionID], 'expired').then(() => {
      next();
    }, next);
  }

  function dispatch(req: Request, res: Response, next: NextFunction, path: string): void {
    const logoutCompleted =
      req.method === 'GET' && path === opts.routes.postLogoutRedirect && readCookie(req, LOGOUT_STATE_COOKIE) !== undefined
        ? verifyLogoutReturn(req, res, opts, single(queryOf(req), 'state'))
        : false;
    attachRequestContext(req, deps, logoutCompleted);
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
      next();
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
    enforceLifetime(req, (err?: unknown) => {
      if (err !== undefined) next(err);
      else dispatch(req, res, next, path);
    });
  }

  return function oidcAuthMiddleware(req, res, next) {
    const path = normalisePath(req.path);
    if (sessionMiddleware === undefined || cookieName === undefined || sessionless.has(path)) {
      withLifetime(req, res, next, path);
      return;
    }
    if (!routes.has(path) && !mayCarryCookie(req, cookieName)) {
      // No cookie, so nobody is logged in: no store read, no new session id, unless the app asks for req.session.
      deferSession(req, res, sessionMiddleware);
      dispatch(req, res, next, path);
      return;
    }
    sessionMiddleware(req, res, (err?: unknown) => {
      if (err !== undefined && err !== null) {
        next(new OidcAuthError(OidcAuthErrorCode.SESSION_STORE_FAILED, 503, 'The session store could not load the session; try again shortly.', { cause: err }));
        return;
      }
      withLifetime(req, res, next, path);
    });
  };
}
