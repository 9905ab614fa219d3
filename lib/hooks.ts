import type { Request } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { describeError, type Logger } from './logging/logger.js';
import { createRefusalLog } from './logging/refusal-log.js';
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

/** A reason to count failures by: the error's class, never its message (which may hold anything). */
function kindOf(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

export function bindHooks<TContext>(hooks: OidcHooks<TContext>, context: (req: Request) => TContext | Promise<TContext>, logger: Logger): BoundHooks {
  // A logout without a user is anyone's POST /logout: an app's hook or context factory that
  // fails on it would otherwise log an error per request. One line a minute, and each at debug.
  const anonymousContextFailures = createRefusalLog(logger, 'the context option threw; hooks were not run (a logout without a user)', 'error');
  const anonymousHookFailures = createRefusalLog(logger, 'postLogout hook threw on a logout without a user; the logout completed anyway', 'error');

  /** The app's context for a request; not ok when the app's factory throws (logged, rate-limited when `anonymous`). */
  async function contextFor(req: Request, anonymous = false): Promise<{ ok: true; value: TContext } | { ok: false }> {
    try {
      return { ok: true, value: await context(req) };
    } catch (err) {
      const fields = { option: 'context', ...describeError(err) };
      if (anonymous) anonymousContextFailures.refused(kindOf(err), fields);
      else logger.error(fields, 'the context option threw; hooks were not run');
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
      const anonymous = event.user === undefined;
      const ctx = await contextFor(req, anonymous);
      if (!ctx.ok) return undefined;
      try {
        const result: PostLogoutResult = await hook({ ...event, clientRequest: req, log: logger, context: ctx.value });
        return result !== undefined && typeof result.redirectTo === 'string' ? { redirectTo: result.redirectTo } : undefined;
      } catch (err) {
        const fields = { hook: 'postLogout', function: hook.name || 'anonymous', trigger: event.trigger, ...describeError(err) };
        if (anonymous) anonymousHookFailures.refused(`${fields.function}: ${kindOf(err)}`, fields);
        else logger.error(fields, 'postLogout hook threw; the logout completed anyway');
        return undefined;
      }
    },
  };
}
