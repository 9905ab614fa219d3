import type { Request } from 'express';
import * as client from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { queryOf, redirect, single } from '../http.js';
import { returnToOr } from '../return-to.js';
import { requireSession, saveSession } from '../session.js';
import { addTransaction } from '../transactions.js';
import type { AsyncHandler, RouteContext } from './context.js';

/**
 * express-session silently drops a Secure cookie on a request it does not see as https.
 * The login would then fail at the callback with a baffling state mismatch: fail here
 * instead, and say what to set.
 */
function assertCookieCanBeSet<T>(opts: ResolvedOptions<T>, req: Request): void {
  if (opts.session === false || typeof opts.session.cookie !== 'object' || opts.session.cookie.secure !== true) return;
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim();
  if (req.secure || (opts.session.proxy === true && forwarded === 'https')) return;
  throw new OidcAuthError(
    OidcAuthErrorCode.CONFIG_INVALID,
    500,
    'The session cookie is Secure (baseUrl is https) but this request reached the app over http, so the browser would never get the cookie. Behind a TLS-terminating proxy, set app.set("trust proxy", …) (or session.proxy: true).',
  );
}

/** GET /login: a new state, nonce and PKCE verifier per attempt, then off to the provider. */
export function createLoginHandler<TContext>({ opts, provider }: RouteContext<TContext>): AsyncHandler {
  return async function oidcLogin(req, res, next) {
    try {
      assertCookieCanBeSet(opts, req);
      const session = requireSession(req);
      const config = await provider.config();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const verifier = client.randomPKCECodeVerifier();
      const returnTo = returnToOr(single(queryOf(req), 'returnTo'), opts.baseUrl.pathname);
      addTransaction(session, state, { nonce, verifier, returnTo, createdAt: Date.now() });
      const url = client.buildAuthorizationUrl(config, {
        ...opts.authorizationParams,
        response_type: 'code',
        redirect_uri: opts.redirectUri,
        scope: opts.scope,
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      await saveSession(req);
      redirect(res, 302, url.href);
    } catch (err) {
      next(err);
    }
  };
}
