import { metadataOf } from '../provider/metadata.js';
import { randomToken } from '../crypto/random.js';
import type { Request, Response } from 'express';
import * as client from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import { isCrossSite } from '../http/cross-site.js';
import { redirect, sendJson, wantsJson, type AsyncHandler } from '../http/http.js';
import type { Instance } from '../instance/instance.js';
import { describeError } from '../logging/logger.js';
import { createRefusalLog, type RefusalLog } from '../logging/refusal-log.js';
import { rememberLogoutState } from './logout-return.js';
import { silentLoginMarker } from '../login/silent-login.js';
import type { ResolvedOptions } from '../options/resolved.js';
import { safeReturnTo } from '../http/return-to.js';
import { revokeTokens } from '../tokens/revocation.js';
import { endedMarkTtlMs } from '../session/lifetime.js';
import { destroySession, sessionOf, tokensOf, type AppSession, type Login } from '../session/session.js';
import { TIMED_OUT, within } from '../timeout.js';
import { errorTypeOf } from '../telemetry/telemetry.js';

/** Where the hook may send the browser: an absolute http(s) URL or an origin-relative path (from the app's own code only). */
function hookTarget(value: string): string | undefined {
  if (value.startsWith('/')) return safeReturnTo(value);
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function endSessionUrl(opts: ResolvedOptions, config: client.Configuration | undefined, idToken: string | undefined): { url: URL; state: string } | undefined {
  if (!opts.logout.idpLogout || config === undefined || metadataOf(config).end_session_endpoint === undefined) return undefined;
  const state = randomToken();
  const params: Record<string, string> = { post_logout_redirect_uri: opts.postLogoutRedirectUri, state };
  if (idToken !== undefined) params['id_token_hint'] = idToken;
  // buildEndSessionUrl adds client_id itself, so a logout without a session still names the client.
  return { url: client.buildEndSessionUrl(config, params), state };
}

/**
 * Expires the session cookie with the attributes it was set with: browsers match on name, path
 * and domain, and ignore a __Host- or __Secure- cookie, its expiry included, without Secure.
 */
function clearSessionCookie(res: Response, opts: ResolvedOptions, session: AppSession): void {
  // With session: false the cookie's name is the app's; destroying the session in the store already voids it.
  if (opts.session === false) return;
  const { path, domain, secure, sameSite } = session.cookie;
  res.clearCookie(opts.session.name, {
    path: path ?? '/',
    httpOnly: true,
    secure: secure === true,
    ...(domain === undefined ? {} : { domain }),
    ...(sameSite === undefined ? {} : { sameSite }),
  });
}

/** The session has something worth destroying besides its cookie: a login, or the app's own data. */
function holdsData(session: AppSession): boolean {
  return Object.keys(session).some((key) => key !== 'cookie' && key !== 'oidc');
}

/** Rate-limited lines for what a logout without a login (anyone's POST) can make the package log. */
interface AnonymousLogoutLogs {
  storeFailures: RefusalLog;
  badHookTargets: RefusalLog;
}

/**
 * Ends the request's session. Only a loaded login is marked ended and dropped from the index:
 * a request without one (a cookieless bot, the cookie of a session that already ended) leaves
 * nothing behind it could flood the store with. An anonymous session the app kept data in is
 * destroyed, which writes nothing.
 */
async function invalidate(
  { opts, ended, sessionIndex }: Instance,
  logs: AnonymousLogoutLogs,
  req: Request,
  res: Response,
  session: AppSession,
  login: Login | undefined,
  issuer: string | undefined,
): Promise<unknown> {
  const sessionId = req.sessionID;
  const stored = session.oidc?.login;
  let failure: unknown;
  try {
    // Marked before it is destroyed: a request of this session still running cannot write it back (ended-marks.ts).
    if (stored !== undefined) await ended.end(sessionId, endedMarkTtlMs(opts.lifetime, stored, Date.now()), () => destroySession(req));
    else if (holdsData(session)) await destroySession(req);
  } catch (err) {
    failure = err;
    if (login !== undefined) opts.logger.error({ ...describeError(err) }, 'logout: the session store failed to destroy the session');
    // A logout without a login is anyone's POST: while the store is down, one line a minute.
    else logs.storeFailures.refused(errorTypeOf(err), describeError(err));
  }
  if (login !== undefined && issuer !== undefined) {
    await sessionIndex.remove({ issuer, sub: login.user.sub, sid: login.sid, sessionId }).catch((err: unknown) => {
      opts.logger.warn({ ...describeError(err) }, 'logout: the session index entry could not be removed (it expires with the session)');
    });
  }
  clearSessionCookie(res, opts, session);
  return failure;
}

/**
 * POST /logout, in the documented order: read the session; destroy it, drop it from the
 * index, clear the cookie; revoke the tokens; run postLogout; answer.
 */
export function createLogoutHandler(instance: Instance): AsyncHandler {
  const { opts, provider, vault, hooks, telemetry } = instance;
  const marker = silentLoginMarker(instance.opts);
  const logs: AnonymousLogoutLogs = {
    storeFailures: createRefusalLog(opts.logger, 'logout: the session store failed to destroy a session without a login', 'error'),
    // The hook's answer is the app's code: one line a minute is enough to find it, whoever logs out.
    badHookTargets: createRefusalLog(opts.logger, 'postLogout returned a redirectTo that is not an http(s) URL or a path; ignored'),
  };
  return async function oidcLogout(req, res, next) {
    // Each step at debug, with the time since the request came in: a slow logout can be read from the log.
    const started = Date.now();
    const debug = (fields: Record<string, unknown>, message: string): void => {
      opts.logger.debug({ ...fields, ms: Date.now() - started }, `logout: ${message}`);
    };
    try {
      if (isCrossSite(req, opts.baseUrl.origin)) {
        throw new OidcAuthError(
          OidcAuthErrorCode.CROSS_SITE_REQUEST,
          403,
          "Logout was requested from another site and refused. Log out from this application's own page.",
        );
      }
      const session = sessionOf(req);
      const stored = session?.oidc?.login;
      // A login no configured secret opens still ends, with nothing to revoke or name.
      const login = stored === undefined ? undefined : vault.open(stored);
      const discovered = await within(provider.config(), opts.logout.timeoutMs).catch(() => undefined);
      const config = discovered === TIMED_OUT ? undefined : discovered;
      const issuer = config === undefined ? undefined : metadataOf(config).issuer;

      debug({ session: session !== undefined, login: login !== undefined, provider: config !== undefined }, 'the session is read');
      const storeFailure = session === undefined ? undefined : await invalidate(instance, logs, req, res, session, login, issuer);
      debug({ storeFailed: storeFailure !== undefined }, 'the session is ended in the store and the index');
      // The provider's session may outlive this logout (no end_session_endpoint): a silent login must not bring the user back.
      if (opts.access.attemptSilentLogin) marker.mark(res);
      // Signed out here: the next login asks for a fresh authentication, set even if this browser's marker was lost.
      if (opts.logout.reauthenticate !== false) instance.loginMarker.set(res, session?.cookie.originalMaxAge);
      const tokens = tokensOf(login);
      const revocation = await revokeTokens(opts, telemetry, config, tokens);
      debug({ revocation }, 'the tokens are revoked');
      if (storeFailure !== undefined) {
        throw new OidcAuthError(OidcAuthErrorCode.SESSION_STORE_FAILED, 503, 'Logout failed: the session store could not end the session. Try again shortly.', {
          cause: storeFailure,
        });
      }
      if (stored !== undefined) telemetry.sessionsEnded('logout', 1);

      const endSession = endSessionUrl(opts, config, tokens.idToken);
      const hookResult = await hooks.postLogout(req, { trigger: 'logout', user: login?.user, tokens, revocation, endSessionUrl: endSession?.url });
      if (login !== undefined) opts.logger.info({ sub: login.user.sub, revocation }, 'user logged out');

      let redirectTo = opts.postLogoutRedirectUri;
      if (endSession !== undefined) {
        rememberLogoutState(res, opts, endSession.state);
        redirectTo = endSession.url.href;
      } else if (hookResult !== undefined) {
        const target = hookTarget(hookResult.redirectTo);
        if (target === undefined) logs.badHookTargets.refused('not an http(s) URL or a path', { hook: 'postLogout' });
        else redirectTo = target;
      }
      debug({ endSession: endSession !== undefined, hook: hookResult !== undefined }, 'postLogout ran; answering');
      if (wantsJson(req)) sendJson(res, 200, { redirectTo });
      else redirect(res, 303, redirectTo);
    } catch (err) {
      next(err);
    }
  };
}
