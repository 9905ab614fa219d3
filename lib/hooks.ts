import type { Request } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { describeError, type Logger } from './logging/logger.js';
import type { OidcHooks, OidcTokens, OidcUser, PostLogoutContext, PostLogoutResult } from './public-types.js';

/** What the package knows of an ended session when postLogout runs; the hook also gets the request, the logger and the app's context. */
export type PostLogoutEvent = Omit<PostLogoutContext, 'context' | 'log' | 'clientRequest'>;

/**
 * The app's hooks bound to its context factory and the logger, once, in resolveOptions: the
 * rest of the package calls them without knowing the app's context type.
 */
export interface BoundHooks {
  /** the claims to keep for the new session; throws OIDC_LOGIN_REFUSED (403) when the hook refuses or cannot run */
  postLogin(req: Request, user: OidcUser, tokens: OidcTokens): Promise<OidcUser>;
  /** runs postLogout once for one ended session; never throws */
  postLogout(req: Request, event: PostLogoutEvent): Promise<{ redirectTo: string } | undefined>;
}

export function bindHooks<TContext>(hooks: OidcHooks<TContext>, context: (req: Request) => TContext | Promise<TContext>, logger: Logger): BoundHooks {
  /** The app's context for a request; not ok when the app's factory throws (logged). */
  async function contextFor(req: Request): Promise<{ ok: true; value: TContext } | { ok: false }> {
    try {
      return { ok: true, value: await context(req) };
    } catch (err) {
      logger.error({ option: 'context', ...describeError(err) }, 'the context option threw; hooks were not run');
      return { ok: false };
    }
  }

  return {
    async postLogin(req, user, tokens) {
      const hook = hooks.postLogin;
      if (hook === undefined) return user;
      // Without its context the hook cannot run, and a login the hook never saw must not go through (contextFor logs why).
      const ctx = await contextFor(req);
      if (!ctx.ok) throw new OidcAuthError(OidcAuthErrorCode.LOGIN_REFUSED, 403, 'The application refused this login.');
      try {
        const result = await hook({ user, tokens, clientRequest: req, log: logger, context: ctx.value });
        return result !== undefined && typeof result.sub === 'string' ? result : user;
      } catch (err) {
        logger.warn({ hook: 'postLogin', ...describeError(err) }, 'postLogin refused the login');
        throw new OidcAuthError(OidcAuthErrorCode.LOGIN_REFUSED, 403, 'The application refused this login.', { cause: err });
      }
    },

    /**
     * A hook that throws is logged with its name and the logout completes anyway: the session
     * is already gone, and that must not depend on the app's code.
     */
    async postLogout(req, event) {
      const hook = hooks.postLogout;
      if (hook === undefined) return undefined;
      const ctx = await contextFor(req);
      if (!ctx.ok) return undefined;
      try {
        const result: PostLogoutResult = await hook({ ...event, clientRequest: req, log: logger, context: ctx.value });
        return result !== undefined && typeof result.redirectTo === 'string' ? { redirectTo: result.redirectTo } : undefined;
      } catch (err) {
        logger.error({ hook: 'postLogout', function: hook.name || 'anonymous', trigger: event.trigger, ...describeError(err) }, 'postLogout hook threw; the logout completed anyway');
        return undefined;
      }
    },
  };
}
