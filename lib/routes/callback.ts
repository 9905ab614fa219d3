import { metadataOf } from '../provider/metadata.js';
import * as client from 'openid-client';
import type { IDToken } from 'openid-client';
import { checkRequirements } from '../login/step-up.js';
import { checkReauthenticated } from '../login/reauthentication.js';
import { newDpopKey } from '../tokens/dpop.js';
import { revokeTokens } from '../tokens/revocation.js';
import type { OidcTokens } from '../public-types.js';
import { checkIdTokenTimes, userFromClaims } from '../tokens/claims.js';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import { verifyIdTokenSignature } from '../tokens/id-token.js';
import { indexTtlMs } from '../session/lifetime.js';
import { describeError } from '../logging/logger.js';
import { errorTypeOf } from '../telemetry/telemetry.js';
import { createRefusalLog } from '../logging/refusal-log.js';
import { queryOf, readForm, redirect, single, type AsyncHandler } from '../http/http.js';
import type { Instance } from '../instance/instance.js';
import { authorizationError, translateCallbackError } from '../provider/errors.js';
import { destroySession, regenerateSession, requireSession, saveSession, tokensOf, type Login } from '../session/session.js';

/** What a provider answers prompt=none with when only the user could go on (OpenID Connect Core 3.1.2.6). */
const SILENT_LOGIN_ANSWERS = new Set(['login_required', 'consent_required', 'interaction_required', 'account_selection_required']);

/** How the user authenticated, kept for step-up (requiresAuth({ acr, maxAge })). */
function authenticationOf(claims: IDToken): Pick<Login, 'acr' | 'amr' | 'authTime'> {
  const { acr, amr, auth_time: authTime } = claims;
  return {
    ...(typeof acr === 'string' ? { acr } : {}),
    ...(Array.isArray(amr) && amr.every((m) => typeof m === 'string') ? { amr } : {}),
    ...(typeof authTime === 'number' ? { authTime } : {}),
  };
}

function stateMismatch(): OidcAuthError {
  return new OidcAuthError(
    OidcAuthErrorCode.STATE_MISMATCH,
    400,
    'This login response does not match a login started in this browser (it expired, was already used, or came from elsewhere). Start the login again.',
  );
}

/**
 * GET (query) or POST (form_post) /callback: validate everything, then start a fresh session.
 */
export function createCallbackHandler({
  opts,
  provider,
  jwks,
  transactions,
  vault,
  dpop,
  ended,
  loginMarker,
  hooks,
  sessionIndex,
  telemetry,
}: Instance): AsyncHandler {
  const refusals = createRefusalLog(opts.logger, 'login failed at the callback');
  return async function oidcCallback(req, res, next) {
    // Each step at debug, with how long the provider took: a failed login can be read from the log.
    const started = Date.now();
    let step = 'reading the callback';
    const debug = (fields: Record<string, unknown>, message: string): void => {
      opts.logger.debug({ ...fields, ms: Date.now() - started }, `callback: ${message}`);
    };
    // Tokens the provider issued for a login that then fails (refused ID token, step-up, postLogin, store): revoked, never left valid.
    let unkept: OidcTokens | undefined;
    try {
      const params = req.method === 'POST' ? await readForm(req) : queryOf(req);
      const state = single(params, 'state');
      const tx = transactions.take(req, res, state, Date.now());
      if (tx === undefined || state === undefined) throw stateMismatch();
      debug({ method: req.method, loginAgeMs: Date.now() - tx.createdAt }, 'the state matches a login this browser started');
      const error = params.get('error');
      // A silent login the provider could not finish without the user: back to the page, anonymous.
      if (error !== null && tx.silent === true && SILENT_LOGIN_ANSWERS.has(error)) {
        debug({ error }, 'a silent login found no provider session; back to the page, anonymous');
        redirect(res, 302, tx.returnTo);
        return;
      }
      if (error !== null) throw authorizationError(error, params.get('error_description'));

      step = 'discovery';
      const config = await provider.config();
      step = 'the token request';
      const tokenRequestStarted = Date.now();
      const currentUrl = new URL(opts.redirectUri);
      for (const [key, value] of params) currentUrl.searchParams.append(key, value);
      // With DPoP, the session's key is made now: the tokens this request gets are bound to it.
      const dpopKey = opts.dpop ? await newDpopKey() : undefined;
      const grantOptions = dpopKey === undefined ? {} : { DPoP: dpop.adopt(config, dpopKey) };
      const response = await client
        .authorizationCodeGrant(
          config,
          currentUrl,
          { expectedState: state, expectedNonce: tx.nonce, pkceCodeVerifier: tx.verifier, idTokenExpected: true },
          undefined,
          grantOptions,
        )
        .catch((err: unknown) => {
          throw translateCallbackError(err, {
            method: opts.clientAuthMethod,
            supported: metadataOf(config).token_endpoint_auth_methods_supported,
            dpop: opts.dpop,
            dpopSupported: metadataOf(config).dpop_signing_alg_values_supported !== undefined,
          });
        });
      debug(
        { tokenRequestMs: Date.now() - tokenRequestStarted, refreshToken: response.refresh_token !== undefined, expiresIn: response.expires_in },
        'the provider answered the token request',
      );
      unkept = { accessToken: response.access_token, ...(response.refresh_token === undefined ? {} : { refreshToken: response.refresh_token }) };
      step = 'the ID token';
      const claims = response.claims();
      if (claims === undefined || response.id_token === undefined) throw translateCallbackError(new Error('the token response has no ID token'));
      // Nothing from the token response is used before this: see id-token.ts for why we verify it ourselves.
      await verifyIdTokenSignature(response.id_token, {
        jwks,
        alg: opts.idTokenSigningAlg,
        issuer: metadataOf(config).issuer,
        clientId: opts.clientId,
        clockToleranceSec: opts.clockToleranceSec,
      });
      const nowSec = Math.floor(Date.now() / 1000);
      checkIdTokenTimes(claims, nowSec, opts.clockToleranceSec);
      if (tx.requirements !== undefined) checkRequirements(tx.requirements, claims, nowSec, opts.clockToleranceSec);
      if (tx.reauthenticateAfter !== undefined) {
        try {
          checkReauthenticated(
            tx.reauthenticateAfter,
            claims,
            nowSec,
            opts.clockToleranceSec,
            opts.logout.reauthenticate !== false && opts.logout.reauthenticate.maxAgeZero,
          );
        } catch (err) {
          // Not floodable (it takes the provider's own tokens), and the operator must learn which provider it is.
          opts.logger.warn(
            { issuer: metadataOf(config).issuer },
            "login refused: the provider ignored prompt=login and answered from its earlier session (see logout.reauthenticate and the README's provider recipes)",
          );
          throw err;
        }
      }
      debug(
        { sid: typeof claims['sid'] === 'string', stepUp: tx.requirements !== undefined, reauthenticated: tx.reauthenticateAfter !== undefined },
        'the ID token is valid',
      );

      const login: Login = { user: userFromClaims(claims), idToken: response.id_token, loggedInAt: nowSec, ...authenticationOf(claims) };
      login.accessToken = response.access_token;
      if (response.refresh_token !== undefined) login.refreshToken = response.refresh_token;
      if (response.token_type !== 'bearer') login.tokenType = response.token_type;
      if (dpopKey !== undefined) login.dpopKey = dpopKey.jwk;
      if (response.expires_in !== undefined) login.expiresAt = nowSec + response.expires_in;
      if (typeof claims['sid'] === 'string') login.sid = claims['sid'];
      const userAgent = req.headers['user-agent'];
      if (userAgent !== undefined && userAgent !== '') login.userAgent = userAgent.slice(0, 512);
      step = 'postLogin';
      login.user = await hooks.postLogin(req, login.user, tokensOf(login));

      step = 'storing the session';
      // A new session id at login: whatever id an attacker planted before is worthless now.
      await regenerateSession(req);
      const fresh = requireSession(req);
      const sealed = vault.seal(login);
      // The one write that may create a login's key (C1 of ended-marks.ts): this new login's first save.
      ended.permitCreate(sealed);
      fresh.oidc = { ...fresh.oidc, login: sealed };
      await saveSession(req);
      try {
        const entry = { issuer: metadataOf(config).issuer, sub: claims.sub, sid: login.sid, sessionId: req.sessionID };
        await sessionIndex.add(entry, indexTtlMs(opts.lifetime));
      } catch (err) {
        // A session that back-channel logout could not find must not exist: fail closed.
        await destroySession(req).catch(() => undefined);
        throw new OidcAuthError(OidcAuthErrorCode.SESSION_STORE_FAILED, 503, 'The session index could not be updated; try logging in again shortly.', {
          cause: err,
        });
      }
      unkept = undefined;
      // Marked for logout.reauthenticate and attemptSilentLogin: once this session is ended, the browser knows it had one.
      if (opts.logout.reauthenticate !== false || opts.access.attemptSilentLogin) loginMarker.set(res, fresh.cookie.originalMaxAge);
      telemetry.login((Date.now() - started) / 1000, undefined);
      opts.logger.info({ sub: login.user.sub, ms: Date.now() - started }, 'user logged in');
      redirect(res, 302, tx.returnTo);
    } catch (err) {
      if (unkept !== undefined) {
        const revocation = await revokeTokens(opts, telemetry, provider.ready(), unkept);
        debug({ revocation }, 'the tokens of the failed login are revoked');
      }
      // Codes and the package's own messages only: they never hold a token, code or cookie.
      // Anyone can call /callback, so the warning is rate-limited like back-channel refusals.
      const known = err instanceof OidcAuthError;
      telemetry.login((Date.now() - started) / 1000, known ? err.code : errorTypeOf(err));
      debug({ at: step, ...(known ? { code: err.code, status: err.status } : describeError(err)) }, 'the login failed');
      refusals.refused(known ? `${err.code} at ${step}: ${err.message}` : `an unexpected error at ${step}`);
      next(err);
    }
  };
}
