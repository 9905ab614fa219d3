import { metadataOf } from '../provider/metadata.js';
import type { Request } from 'express';
import type { Store } from 'express-session';
import * as client from 'openid-client';
import { endSessions, type EndingServices } from '../ended/end-sessions.js';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import { verifyIdTokenSignature } from '../tokens/id-token.js';
import type { JwksCache } from '../provider/jwks.js';
import type { DpopHandles } from '../tokens/dpop.js';
import { describeError } from '../logging/logger.js';
import { translateCallbackError } from '../provider/errors.js';
import { revokeTokens } from '../tokens/revocation.js';
import { withLatestActivity } from '../ended/session-write.js';
import { refreshOnce } from './refresh-once.js';
import { errorTypeOf } from '../telemetry/telemetry.js';
import { peekLogin, regenerateSession, requireStore, sessionOf, tokensOf, type Login, type StoredLogin } from '../session/session.js';
import { STORE_TIMEOUT_MS, storeGet, storeSet } from '../session/store-calls.js';

const POLL_MS = 50;

function notAuthenticated(message: string): OidcAuthError {
  return new OidcAuthError(OidcAuthErrorCode.NOT_AUTHENTICATED, 401, message);
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/** `run`, with its duration and its failure's code handed to `record`. */
async function measured<T>(record: (seconds: number, errorType: string | undefined) => void, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const value = await run();
    record((performance.now() - started) / 1000, undefined);
    return value;
  } catch (err) {
    record((performance.now() - started) / 1000, errorTypeOf(err));
    throw err;
  }
}

/** Refreshes access tokens, once per session however many requests ask. */
export interface Refresher {
  /** a valid access token: refreshed first when it is about to expire (automatic refresh on) */
  getAccessToken(req: Request): Promise<string>;
  /** refreshes now, whatever the expiry; single-flight per session */
  refresh(req: Request): Promise<Login>;
}

/** What a refresh needs of the instance: a refresh the provider refuses ends the session. */
export interface RefreshServices extends EndingServices {
  /** the provider's signing keys, shared by the callback, refresh and back-channel logout */
  jwks: JwksCache;
  /** the sessions' DPoP handles, which remember the nonces they were given */
  dpop: DpopHandles;
}

/**
 * Refreshes access tokens, spending each session's refresh token at most once however many
 * requests ask at once (the rule and where it is kept: refresh-once.ts).
 */
export function createRefresher(instance: RefreshServices): Refresher {
  const { opts, provider, storeOf, jwks, ended, vault, telemetry } = instance;
  const once = refreshOnce(instance.sessionIndex, opts.httpTimeoutMs);

  async function end(req: Request, sessionId: string, reason: string, cause: unknown): Promise<never> {
    opts.logger.warn({ reason, ...describeError(cause) }, 'refresh failed; the session is ended');
    await endSessions(instance, req, [sessionId], 'refresh-failed');
    throw new OidcAuthError(OidcAuthErrorCode.REFRESH_FAILED, 401, `The session ended: ${reason}. Log in again.`, { cause });
  }

  async function grant(req: Request, sessionId: string, current: Login): Promise<Login> {
    if (current.refreshToken === undefined)
      throw notAuthenticated('The access token cannot be refreshed: the provider issued no refresh token (ask for offline_access).');
    const config = await provider.config();
    const started = Date.now();
    let response;
    try {
      // A DPoP-bound refresh token is only good with a proof made with the session's key (RFC 9449 5).
      response = await client.refreshTokenGrant(config, current.refreshToken, undefined, await instance.dpop.options(config, current.dpopKey));
    } catch (err) {
      const translated = translateCallbackError(err);
      if (translated.status === 503) throw translated;
      return end(req, sessionId, 'the provider refused the refresh token', err);
    }
    const nowSec = Math.floor(Date.now() / 1000);
    const claims = response.claims();
    // OpenID Connect Core 12.2: a refreshed ID token must name the same issuer and subject.
    if (claims !== undefined && (claims.iss !== metadataOf(config).issuer || claims.sub !== current.user.sub)) {
      return end(req, sessionId, 'the refreshed ID token names another issuer or subject', undefined);
    }
    if (response.id_token !== undefined) {
      try {
        await verifyIdTokenSignature(response.id_token, {
          jwks,
          alg: opts.idTokenSigningAlg,
          issuer: metadataOf(config).issuer,
          clientId: opts.clientId,
          clockToleranceSec: opts.clockToleranceSec,
        });
      } catch (err) {
        if (err instanceof OidcAuthError && err.status === 503) throw err;
        return end(req, sessionId, 'the refreshed ID token failed validation', err);
      }
    }
    const next: Login = { ...current, accessToken: response.access_token, refreshes: (current.refreshes ?? 0) + 1 };
    if (response.refresh_token !== undefined) next.refreshToken = response.refresh_token;
    if (response.id_token !== undefined) next.idToken = response.id_token;
    if (response.expires_in === undefined) delete next.expiresAt;
    else next.expiresAt = nowSec + response.expires_in;
    if (response.token_type === 'bearer') delete next.tokenType;
    else next.tokenType = response.token_type;
    opts.logger.debug(
      { sub: current.user.sub, ms: Date.now() - started, rotated: response.refresh_token !== undefined, expiresIn: response.expires_in },
      'access token refreshed',
    );
    return next;
  }

  /** Under the refresh lock: re-read the stored session, refresh unless another instance just did (rule 3 of refresh-once.ts), write it back. */
  async function refreshLocked(req: Request, store: Store, sessionId: string, seen: StoredLogin): Promise<StoredLogin> {
    const data = await storeGet(store, sessionId, STORE_TIMEOUT_MS);
    const stored = data?.oidc?.login;
    if (data === null || data === undefined || stored === undefined) throw notAuthenticated('The session ended while its token was being refreshed.');
    if (stored.tokens !== seen.tokens) return stored;
    const current = vault.open(stored);
    if (current === undefined) throw notAuthenticated('The session can no longer be read (its secret was removed). Log in again.');
    const next = await measured(
      (sec, failure) => {
        telemetry.refresh(sec, failure);
      },
      () => telemetry.inSpan('express_oidc_auth.refresh', () => grant(req, sessionId, current)),
    );
    // A logout that landed during the grant revoked the old tokens, not these: revoke them too
    // and write nothing. (The store's own check after the write below covers a later logout.)
    if (await ended.isEnded(sessionId)) {
      await revokeTokens(opts, telemetry, provider.ready(), tokensOf(next));
      throw new OidcAuthError(OidcAuthErrorCode.REFRESH_FAILED, 401, 'The session ended while its token was being refreshed. Log in again.');
    }
    // Written now, not when the response ends: other instances are waiting to read it.
    const sealed = vault.seal(next);
    await storeSet(store, sessionId, { ...data, oidc: { ...data.oidc, login: sealed } }, STORE_TIMEOUT_MS);
    // A write refused because the session ended meanwhile (or its key is gone: C1 of
    // ended-marks.ts) reports no error: read it back, and revoke what nobody will hold.
    if ((await storeGet(store, sessionId, STORE_TIMEOUT_MS))?.oidc?.login?.tokens !== sealed.tokens) {
      await revokeTokens(opts, telemetry, provider.ready(), tokensOf(next));
      throw new OidcAuthError(OidcAuthErrorCode.REFRESH_FAILED, 401, 'The session ended while its token was being refreshed. Log in again.');
    }
    return sealed;
  }

  /** Another instance holds the lock: wait until its new tokens are in the store (or the session is gone). */
  async function waitForOther(store: Store, sessionId: string, seen: StoredLogin): Promise<StoredLogin> {
    for (let waited = 0; waited < once.lockTtlMs; waited += POLL_MS) {
      await sleep(POLL_MS);
      const stored = (await storeGet(store, sessionId, STORE_TIMEOUT_MS))?.oidc?.login;
      if (stored === undefined) throw new OidcAuthError(OidcAuthErrorCode.REFRESH_FAILED, 401, 'The session ended: its refresh failed. Log in again.');
      if (stored.tokens !== seen.tokens) return stored;
    }
    throw new OidcAuthError(OidcAuthErrorCode.PROVIDER_UNAVAILABLE, 503, 'The access token refresh did not finish in time; try again shortly.');
  }

  async function refresh(req: Request): Promise<Login> {
    const session = sessionOf(req);
    const seen = peekLogin(req);
    if (session === undefined || seen === undefined) throw notAuthenticated('There is no logged-in session to refresh.');
    const store = requireStore(storeOf(req));
    const sessionId = req.sessionID;
    const pending = once.run(
      sessionId,
      () => refreshLocked(req, store, sessionId, seen),
      () =>
        measured(
          (sec, failure) => {
            telemetry.refreshLockWait(sec, failure);
          },
          () => waitForOther(store, sessionId, seen),
        ),
    );
    const next = await pending.catch((err: unknown) => {
      // The session is gone: this request too must answer as unauthenticated, and not save it back.
      if (err instanceof OidcAuthError && err.code === OidcAuthErrorCode.REFRESH_FAILED && peekLogin(req) !== undefined) {
        const own = req.session;
        return regenerateSession(req).then(
          () => Promise.reject(err),
          () => {
            delete own.oidc;
            return Promise.reject(err);
          },
        );
      }
      throw err;
    });
    // Every waiting request adopts the result, so the session it saves at its end holds the new tokens.
    const own = sessionOf(req);
    const noted = own?.oidc?.login;
    if (own?.oidc !== undefined) own.oidc = { ...own.oidc, login: noted === undefined ? next : withLatestActivity(next, noted) };
    const opened = vault.open(next);
    if (opened === undefined) throw notAuthenticated('The refreshed session could not be read. Log in again.');
    return opened;
  }

  return {
    refresh,
    async getAccessToken(req) {
      const stored = ended.knownEnded(req.sessionID) ? undefined : peekLogin(req);
      const login = stored === undefined ? undefined : vault.open(stored);
      if (login?.accessToken === undefined) throw notAuthenticated('getAccessToken() needs a logged-in user with an access token.');
      const nowSec = Date.now() / 1000;
      const fresh = login.expiresAt === undefined || login.expiresAt - opts.refresh.earlySeconds > nowSec;
      if (fresh || !opts.refresh.automatic) {
        if (login.expiresAt !== undefined && login.expiresAt <= nowSec) throw notAuthenticated('The access token has expired (automatic refresh is off).');
        return login.accessToken;
      }
      if (login.refreshToken === undefined) {
        if (login.expiresAt !== undefined && login.expiresAt > nowSec) return login.accessToken;
        throw notAuthenticated('The access token has expired and cannot be refreshed (no refresh token). Log in again.');
      }
      const next = await refresh(req);
      if (next.accessToken === undefined) throw notAuthenticated('The provider returned no access token.');
      return next.accessToken;
    },
  };
}
