import { metadataOf } from '../provider/metadata.js';
import type { Request, Response } from 'express';
import { endSessions } from '../ended/end-sessions.js';
import { OidcAuthError } from '../errors.js';
import { readForm, sendJson, single } from '../http/http.js';
import type { Instance } from '../instance/instance.js';
import { describeError } from '../logging/logger.js';
import { LogoutTokenError, replayKey, validateLogoutToken, type LogoutTokenRefusal } from '../tokens/logout-token.js';
import { errorTypeOf, type TracedHandler } from '../telemetry/telemetry.js';
import { createRefusalLog } from '../logging/refusal-log.js';

/**
 * POST /backchannel-logout (OpenID Connect Back-Channel Logout 1.0): the provider tells us
 * a provider session (sid) or a user (sub) has logged out. Every rule of the logout token
 * is checked before any session is touched; the answer is 200 even when no session matched.
 */
export function createBackchannelLogoutHandler(instance: Instance): TracedHandler<Request, Response> {
  const { opts, provider, jwks, sessionIndex, telemetry } = instance;
  const refusals = createRefusalLog(opts.logger, 'back-channel logout refused');
  // Before its token is found valid a request could come from anyone: a provider outage (no
  // metadata, no keys) must not cost an error line per request.
  const unavailable = createRefusalLog(opts.logger, 'back-channel logout could not be completed', 'error');
  // The refusal is answered here, not passed on: its span is marked failed by hand, as the metric is.
  const invalid = (res: Response, fail: (errorType: string) => void, description: string, refusal: LogoutTokenRefusal | 'request'): void => {
    refusals.refused(description);
    telemetry.backchannel(refusal);
    fail(refusal);
    sendJson(res, 400, { error: 'invalid_request', error_description: description });
  };
  /**
   * The jti replay memory. When the index cannot write it (a full Redis under noeviction) the
   * logout goes on: refusing it would keep the provider's ended sessions alive, while a replay
   * of this fully validated, short-lived token could only end that user's sessions again.
   */
  const rememberOrProceed = (key: string, ttlMs: number): Promise<boolean> =>
    sessionIndex.claimOnce(key, ttlMs).catch((err: unknown) => {
      opts.logger.warn(
        { ...describeError(err) },
        'back-channel logout: the logout token id could not be remembered against replay (is the session index full?); the logout goes on',
      );
      return true;
    });
  return async function oidcBackchannelLogout(req, res, next, fail) {
    const started = Date.now();
    let validated = false;
    try {
      let form: URLSearchParams;
      try {
        form = await readForm(req);
      } catch {
        invalid(res, fail, 'the body must be application/x-www-form-urlencoded with a logout_token', 'request');
        return;
      }
      const token = single(form, 'logout_token');
      if (token === undefined) {
        invalid(res, fail, 'exactly one logout_token is required', 'request');
        return;
      }
      const config = await provider.config();
      const issuer = metadataOf(config).issuer;
      let claims;
      try {
        claims = await validateLogoutToken(token, {
          issuer,
          clientId: opts.clientId,
          alg: opts.idTokenSigningAlg,
          jwks,
          maxAgeSec: opts.logout.backchannelMaxAgeSec,
          clockToleranceSec: opts.clockToleranceSec,
          claimOnce: rememberOrProceed,
        });
      } catch (err) {
        if (!(err instanceof LogoutTokenError)) throw err;
        invalid(res, fail, err.message, err.refusal);
        return;
      }
      validated = true;
      opts.logger.debug({ by: claims.sid !== undefined ? 'sid' : 'sub', ms: Date.now() - started }, 'back-channel logout: the logout token is valid');
      let ended: number;
      try {
        const ids = await sessionIndex.lookup(issuer, claims.sid !== undefined ? { sid: claims.sid } : { sub: claims.sub });
        opts.logger.debug({ sessions: ids.length, ms: Date.now() - started }, 'back-channel logout: sessions found in the index');
        ended = await endSessions(instance, req, ids, 'backchannel');
      } catch (err) {
        // The sessions were not ended: forget the jti, so the provider's retry is not refused as a replay.
        await sessionIndex.release(replayKey(issuer, claims.jti)).catch(() => undefined);
        throw err;
      }
      opts.logger.info({ sessions: ended, by: claims.sid !== undefined ? 'sid' : 'sub', ms: Date.now() - started }, 'back-channel logout');
      telemetry.backchannel(undefined);
      res.statusCode = 200;
      res.end();
    } catch (err) {
      const errorType = err instanceof OidcAuthError ? err.code : errorTypeOf(err);
      telemetry.backchannel(errorType);
      if (err instanceof OidcAuthError && err.status === 503) {
        fail(errorType);
        if (validated) opts.logger.error({ ...describeError(err) }, 'back-channel logout could not be completed');
        else unavailable.refused(errorType, describeError(err));
        sendJson(res, 503, { error: 'temporarily_unavailable', error_description: err.message });
        return;
      }
      next(err);
    }
  };
}
