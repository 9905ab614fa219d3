import * as client from 'openid-client';
import { queryOf, redirect, single } from '../http.js';
import { returnToOr } from '../return-to.js';
import { requireSession, saveSession } from '../session.js';
import { addTransaction } from '../transactions.js';
import type { AsyncHandler, RouteContext } from './context.js';

/** GET /login: a new state, nonce and PKCE verifier per attempt, then off to the provider. */
export function createLoginHandler<TContext>({ opts, provider }: RouteContext<TContext>): AsyncHandler {
  return async function oidcLogin(req, res, next) {
    try {
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
