import type { Request } from 'express';
import { describeError } from './logger.js';
import type { ResolvedOptions } from './options.js';
import type { PostLogoutContext, PostLogoutResult } from './types.js';

/** The app's context for a request; undefined result when the app's factory throws (logged). */
export async function contextFor<T>(opts: ResolvedOptions<T>, req: Request): Promise<{ ok: true; value: T } | { ok: false }> {
  try {
    return { ok: true, value: await opts.context(req) };
  } catch (err) {
    opts.logger.error({ option: 'context', ...describeError(err) }, 'the context option threw; hooks were not run');
    return { ok: false };
  }
}

/**
 * Runs postLogout once for one ended session. A hook that throws is logged with its name
 * and the logout completes anyway: the session is already gone, and that must not depend
 * on the app's code.
 */
export async function runPostLogout<T>(opts: ResolvedOptions<T>, req: Request, event: Omit<PostLogoutContext<T>, 'context' | 'log' | 'clientRequest'>): Promise<{ redirectTo: string } | undefined> {
  const hook = opts.hooks.postLogout;
  if (hook === undefined) return undefined;
  const context = await contextFor(opts, req);
  if (!context.ok) return undefined;
  try {
    const result: PostLogoutResult = await hook({ ...event, clientRequest: req, log: opts.logger, context: context.value });
    return result !== undefined && typeof result.redirectTo === 'string' ? { redirectTo: result.redirectTo } : undefined;
  } catch (err) {
    opts.logger.error({ hook: 'postLogout', function: hook.name || 'anonymous', trigger: event.trigger, ...describeError(err) }, 'postLogout hook threw; the logout completed anyway');
    return undefined;
  }
}
