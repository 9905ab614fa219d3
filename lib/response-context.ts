import type { Request, Response } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import type { Instance } from './instance/instance.js';
import type { AsyncHandler } from './http/http.js';
import { returnToOr } from './http/return-to.js';
import { RESERVED_AUTH_PARAMS } from './options/validation.js';
import { isNavigation, refuseLoginStart, startLogin } from './routes/login.js';
import { isRecord } from './values.js';
import type { RequestPassage } from './request-context.js';
import { passageOf } from './session/lazy-session.js';

/** What `res.oidc.login()` is given: this login's own landing place and parameters. */
export interface LoginOptions {
  /** where the browser lands after the login: an origin-relative path of this app. Default: the path of `baseUrl` */
  returnTo?: string;
  /**
   * this login's own authorization request parameters (`screen_hint`, `login_hint`,
   * `ui_locales`, `prompt`, `acr_values`…), over the configured `authorizationParams`; the
   * protocol's own and `response_mode` cannot be set. `prompt: 'none'` makes it a silent login
   */
  authorizationParams?: Readonly<Record<string, string>>;
}

/** `res.oidc`: what the app's own handlers can start. */
export interface OidcResponseContext {
  /**
   * Sends the browser to the provider to log in, as GET /login does, with this login's own
   * returnTo and parameters (a "sign up" button: `{ authorizationParams: { screen_hint: 'signup' } }`).
   * A request that is not a top-level navigation gets 401 JSON instead. Rejects with
   * OIDC_CONFIG_INVALID for a protocol parameter, OIDC_PROVIDER_UNAVAILABLE when discovery fails.
   */
  login(options?: LoginOptions): Promise<void>;
  /**
   * Finishes a login at the redirect_uri, as the package's callback route does: for an app
   * that turned it off (`routes.callback: false`) to run its own code around it, at
   * `/callback`. The answer (a redirect to the login's returnTo) is sent; rejects with the
   * callback's errors (OIDC_STATE_MISMATCH, OIDC_CALLBACK_INVALID…) without answering.
   */
  callback(): Promise<void>;
  /**
   * Ends the session as the package's logout route does (destroy, revoke, provider logout,
   * postLogout, answer), for an app that turned it off (`routes.logout: false`). The
   * cross-site check still applies: only a request from the app's own pages ends a session.
   * Rejects with the logout's errors without answering.
   */
  logout(): Promise<void>;
}

/** What res.oidc needs of its oidcAuth() instance, built once. */
export interface ResponseActions {
  instance: Instance;
  callback: AsyncHandler;
  logout: AsyncHandler;
}

/** Runs a route's handler for the app: what it would have passed to next() rejects instead. */
async function run(handler: AsyncHandler, req: Request, res: Response): Promise<void> {
  const outcome: { failure?: unknown } = {};
  await handler(req, res, (err?: unknown) => {
    if (err !== undefined) outcome.failure = err;
  });
  if ('failure' in outcome) throw outcome.failure;
}

declare global {
  // Declaration merging is how Express response extensions are typed; it needs a namespace.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Response {
      /** set by oidcAuth(); present on every response of a request that passed through it */
      oidc: OidcResponseContext;
    }
  }
}

/** response_mode decides the transaction cookies' SameSite for the whole instance: not a per-login choice. */
const NOT_PER_LOGIN = new Set([...RESERVED_AUTH_PARAMS, 'response_mode']);

function checkedParams(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const problems: string[] = [];
  const params: Record<string, string> = {};
  if (!isRecord(value)) problems.push('"authorizationParams" must be an object of string values');
  else {
    for (const [key, v] of Object.entries(value)) {
      if (NOT_PER_LOGIN.has(key)) problems.push(`"authorizationParams.${key}" is set by the package itself and cannot be given to res.oidc.login()`);
      else if (typeof v !== 'string') problems.push(`"authorizationParams.${key}" must be a string`);
      else params[key] = v;
    }
  }
  if (problems.length > 0) throw new OidcAuthError(OidcAuthErrorCode.CONFIG_INVALID, 500, `res.oidc.login(): ${problems.join('; ')}.`, { problems });
  return params;
}

class ResponseContext implements OidcResponseContext {
  readonly #req: Request;
  readonly #res: Response;
  readonly #actions: ResponseActions;

  constructor(req: Request, res: Response, actions: ResponseActions) {
    this.#req = req;
    this.#res = res;
    this.#actions = actions;
  }

  static actionsOf(context: ResponseContext): ResponseActions {
    return context.#actions;
  }

  async login(options: LoginOptions = {}): Promise<void> {
    const authorizationParams = checkedParams(options.authorizationParams);
    if (!isNavigation(this.#req)) {
      refuseLoginStart(this.#req, this.#res);
      return;
    }
    const { instance } = this.#actions;
    const returnTo = returnToOr(options.returnTo, instance.opts.baseUrl.pathname);
    await startLogin(instance, this.#req, this.#res, { returnTo, authorizationParams });
  }

  callback(): Promise<void> {
    return run(this.#actions.callback, this.#req, this.#res);
  }

  logout(): Promise<void> {
    return run(this.#actions.logout, this.#req, this.#res);
  }
}

/** A passage of one oidcAuth() instance, with what res.oidc needs. */
export interface ResponsePassage extends RequestPassage {
  readonly actions: ResponseActions;
  readonly loaded: ResponsePassage;
}

const CONTEXT: unique symbol = Symbol('express-oidc-auth.response-context');
type WithContext = Response & { [CONTEXT]?: ResponseContext };

/** res.oidc, built on first read from the request's passage, kept for the response (rebuilt for another instance's). */
const OIDC_ACCESSOR: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Response): ResponseContext | undefined {
    const req = this.req as Request | undefined;
    // The pipeline sets a ResponsePassage on every request it passes.
    const passage = req === undefined ? undefined : (passageOf(req) as ResponsePassage | undefined);
    if (req === undefined || passage === undefined) return undefined;
    const cached = (this as WithContext)[CONTEXT];
    if (cached !== undefined && ResponseContext.actionsOf(cached) === passage.actions) return cached;
    const context = new ResponseContext(req, this, passage.actions);
    (this as WithContext)[CONTEXT] = context;
    return context;
  },
  set(this: Response, value: unknown): void {
    Object.defineProperty(this, 'oidc', { configurable: true, enumerable: true, writable: true, value });
  },
};

/** Puts the res.oidc getter on `target`: the app's response prototype (once), or the response itself. */
export function installResponseContextAccessor(target: object): void {
  Object.defineProperty(target, 'oidc', OIDC_ACCESSOR);
}
