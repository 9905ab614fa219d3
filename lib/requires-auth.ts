import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { redirect, sendJson, wantsJson } from './http/http.js';
import { returnToOr } from './http/return-to.js';
import { authorizeUser, contextOf, instanceOf, liveClaims, type OidcRequestContext, type RequestContext } from './request-context.js';
import type { OidcUser } from './public-types.js';
import { isNavigation, refuseLoginStart, startLogin } from './routes/login.js';
import type { LoginRequirements } from './login/login-transactions.js';
import { unmetRequirement } from './login/step-up.js';
import { checkRequiresAuthOptions, type RequiresAuthOptions } from './requires-auth-options.js';

export type { RequiresAuthOptions } from './requires-auth-options.js';

/** `req.oidc` behind `requiresAuth()`: someone is logged in. */
export interface AuthenticatedOidcContext extends OidcRequestContext {
  /** claims of the logged-in user: the one requiresAuth() let through, for the whole request */
  readonly user: OidcUser;
}

/** The request a handler given to `requiresAuth(handler)` sees. */
export type AuthenticatedRequest<
  P = Request['params'],
  ResBody = unknown,
  ReqBody = unknown,
  ReqQuery = Request['query'],
  Locals extends Record<string, unknown> = Record<string, unknown>,
> = Request<P, ResBody, ReqBody, ReqQuery, Locals> & {
  /** `req.oidc`, with the user let through by the guard */
  oidc: AuthenticatedOidcContext;
};

/** A route handler that runs only for a logged-in user: `req.oidc.user` is always there. */
export type AuthenticatedHandler<
  P = Request['params'],
  ResBody = unknown,
  ReqBody = unknown,
  ReqQuery = Request['query'],
  Locals extends Record<string, unknown> = Record<string, unknown>,
> = (req: AuthenticatedRequest<P, ResBody, ReqBody, ReqQuery, Locals>, res: Response<ResBody, Locals>, next: NextFunction) => unknown;

/** What a guard decided: go on with this user, or the answer was already sent. */
type Verdict = { user: OidcUser } | undefined;

function contextOrFail(req: Request, next: NextFunction): RequestContext | undefined {
  const context = contextOf(req);
  if (context === undefined) next(new OidcAuthError(OidcAuthErrorCode.MIDDLEWARE_MISSING, 500, 'requiresAuth() needs app.use(oidcAuth(…)) mounted before it.'));
  return context;
}

/** RFC 9470: a logged-in client whose authentication is not enough for this resource. */
function challenge(res: Response, required: LoginRequirements): void {
  const description = 'A stronger or more recent authentication is required.';
  const params = [`error="insufficient_user_authentication"`, `error_description="${description}"`];
  if (required.acr !== undefined) params.push(`acr_values="${required.acr.join(' ')}"`);
  if (required.maxAge !== undefined) params.push(`max_age="${String(required.maxAge)}"`);
  res.setHeader('WWW-Authenticate', `Bearer ${params.join(', ')}`);
  sendJson(res, 401, {
    error: 'insufficient_user_authentication',
    error_description: description,
    ...(required.acr === undefined ? {} : { acr_values: required.acr.join(' ') }),
    ...(required.maxAge === undefined ? {} : { max_age: required.maxAge }),
  });
}

/**
 * The guard of requiresAuth() and the claim checks. Nobody logged in: a browser goes to
 * login and comes back here (GET), a client that asks for JSON gets 401 with
 * WWW-Authenticate. Logged in without the required acr or a recent enough authentication: a
 * browser goes to the provider for exactly that, as the same user (step-up), a client gets
 * RFC 9470's challenge.
 */
export function guard(req: Request, res: Response, next: NextFunction, required: LoginRequirements | undefined): Promise<Verdict> | Verdict {
  const context = contextOrFail(req, next);
  if (context === undefined) return undefined;
  const claims = liveClaims(context);
  if (
    claims !== undefined &&
    (required === undefined || unmetRequirement(claims, required, Math.floor(Date.now() / 1000), instanceOf(context).opts.clockToleranceSec) === undefined)
  ) {
    authorizeUser(context, claims.user);
    return { user: claims.user };
  }
  const instance = instanceOf(context);
  const returnTo = req.method === 'GET' ? req.originalUrl : undefined;
  // Where a login started here lands: judged like every returnTo (an originalUrl such as //host/ must not leave the app).
  const landing = returnToOr(returnTo, instance.opts.baseUrl.pathname);
  if (claims === undefined) {
    res.setHeader('Cache-Control', 'no-store');
    const { loginPath } = instance;
    if (wantsJson(req)) {
      res.setHeader('WWW-Authenticate', `OpenIDConnect realm="app"${loginPath === undefined ? '' : `, login_uri="${loginPath}"`}`);
      sendJson(res, 401, { error: 'unauthorized', error_description: 'Log in first.', ...(loginPath === undefined ? {} : { login: loginPath }) });
      return undefined;
    }
    if (required === undefined && loginPath !== undefined) {
      redirect(res, 302, returnTo === undefined ? loginPath : `${loginPath}?returnTo=${encodeURIComponent(returnTo)}`);
      return undefined;
    }
    // A login that must show more, or no login route to send the browser to: the login starts
    // here, and like GET /login only for a top-level navigation (a page's fetch must not mint login cookies).
    if (!isNavigation(req)) {
      refuseLoginStart(req, res);
      return undefined;
    }
    return startLogin(instance, req, res, { returnTo: landing, ...(required === undefined ? {} : { requirements: required }) }).then(() => undefined);
  }
  // Logged in, but without what this route requires: step up.
  res.setHeader('Cache-Control', 'no-store');
  if (required === undefined || !isNavigation(req)) {
    challenge(res, required ?? {});
    return undefined;
  }
  return startLogin(instance, req, res, { returnTo: landing, requirements: { ...required, sub: claims.user.sub } }).then(() => undefined);
}

/** Runs the guard, then `then` with the user it let through; a failure of either goes to next(). */
export function guarded(req: Request, res: Response, next: NextFunction, required: LoginRequirements | undefined, then: (user: OidcUser) => unknown): void {
  const settle = (verdict: Verdict): void => {
    if (verdict === undefined) return;
    const result = then(verdict.user);
    // Express 4 does not catch a handler's rejected promise; Express 5 never sees this one.
    if (result instanceof Promise) result.catch(next);
  };
  try {
    const verdict = guard(req, res, next, required);
    if (verdict instanceof Promise) verdict.then(settle, next);
    else settle(verdict);
  } catch (err) {
    next(err);
  }
}

/**
 * Guards a route: only a logged-in user gets through (see guard() for what the others get).
 * With `{ acr, maxAge }`, only a user who authenticated that way, recently enough (step-up).
 * Given a handler, it runs behind the guard with `req.oidc.user` typed as present.
 */
export function requiresAuth(options?: RequiresAuthOptions): RequestHandler;
export function requiresAuth<
  P = Request['params'],
  ResBody = unknown,
  ReqBody = unknown,
  ReqQuery = Request['query'],
  Locals extends Record<string, unknown> = Record<string, unknown>,
>(handler: AuthenticatedHandler<P, ResBody, ReqBody, ReqQuery, Locals>): RequestHandler<P, ResBody, ReqBody, ReqQuery, Locals>;
export function requiresAuth<
  P = Request['params'],
  ResBody = unknown,
  ReqBody = unknown,
  ReqQuery = Request['query'],
  Locals extends Record<string, unknown> = Record<string, unknown>,
>(options: RequiresAuthOptions, handler: AuthenticatedHandler<P, ResBody, ReqBody, ReqQuery, Locals>): RequestHandler<P, ResBody, ReqBody, ReqQuery, Locals>;
export function requiresAuth(first?: RequiresAuthOptions | AuthenticatedHandler, second?: AuthenticatedHandler): RequestHandler {
  const handler = typeof first === 'function' ? first : second;
  const required = checkRequiresAuthOptions(typeof first === 'function' ? undefined : first);
  if (handler !== undefined && typeof handler !== 'function') {
    throw new OidcAuthError(OidcAuthErrorCode.CONFIG_INVALID, 500, 'requiresAuth(options, handler): the handler must be a function.');
  }
  return function oidcRequiresAuth(req, res, next) {
    guarded(req, res, next, required, () => {
      if (handler === undefined) {
        next();
        return undefined;
      }
      // The guard checked at run time what this type says: someone is logged in, and authorize() keeps them for the request.
      return handler(req as AuthenticatedRequest, res, next);
    });
  };
}
