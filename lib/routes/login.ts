import type { Request } from 'express';
import * as client from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import type { ResolvedOptions } from '../options/options.js';
import { queryOf, redirect, sendJson, single, wantsJson, type AsyncHandler } from '../http/http.js';
import type { Instance } from '../instance.js';
import { returnToOr } from '../http/return-to.js';
import { requireSession } from '../session/session.js';

/**
 * A browser drops a Secure cookie set on a request it does not see as https. The login
 * would then fail at the callback with a baffling state mismatch: fail here instead, and say
 * what to set.
 */
function assertCookieCanBeSet(opts: ResolvedOptions, req: Request): void {
  if (opts.baseUrl.protocol !== 'https:') return;
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim();
  const trustsProxy = opts.session !== false && opts.session.proxy === true;
  if (req.secure || (trustsProxy && forwarded === 'https')) return;
  throw new OidcAuthError(
    OidcAuthErrorCode.CONFIG_INVALID,
    500,
    'The login cookies are Secure (baseUrl is https) but this request reached the app over http, so the browser would never keep them. Behind a TLS-terminating proxy, set app.set("trust proxy", …) (or session.proxy: true).',
  );
}

/**
 * Only a top-level navigation starts a login: a page's fetch, image, script or frame (a
 * browser says so in Sec-Fetch-Mode and Sec-Fetch-Dest, always sent together), a speculative
 * prefetch (Sec-Purpose) or a client asking for JSON could not follow the redirect anyway,
 * and a page must not mint login cookies in its visitors' browsers (five of them would push
 * out a login the user really started). Clients outside a browser (curl; Node's fetch, which
 * always says "cors" but sends no Sec-Fetch-Dest) choose their headers freely: not judged.
 */
function isNavigation(req: Request): boolean {
  if (wantsJson(req)) return false;
  const dest = req.headers['sec-fetch-dest'];
  if (dest === undefined) return true;
  if (String(req.headers['sec-purpose'] ?? '').includes('prefetch')) return false;
  return req.headers['sec-fetch-mode'] === 'navigate' && dest === 'document';
}

/** GET /login: a new state, nonce and PKCE verifier per attempt, kept in this browser's cookies, then off to the provider. */
export function createLoginHandler({ opts, provider, transactions }: Instance): AsyncHandler {
  return async function oidcLogin(req, res, next) {
    try {
      if (!isNavigation(req)) {
        sendJson(res, 401, { error: 'login_required', error_description: 'A login starts with a top-level navigation of the browser to this URL, not with a fetch.', login: req.originalUrl.split('?')[0] });
        return;
      }
      assertCookieCanBeSet(opts, req);
      // With session: false the callback will need the app's express-session: say so now, not after the provider.
      if (opts.session === false) requireSession(req);
      const started = Date.now();
      const config = await provider.config();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const verifier = client.randomPKCECodeVerifier();
      const returnTo = returnToOr(single(queryOf(req), 'returnTo'), opts.baseUrl.pathname);
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
      transactions.start(req, res, { state, nonce, verifier, returnTo, createdAt: Date.now() });
      opts.logger.debug({ ms: Date.now() - started }, 'login: a login starts; off to the provider');
      redirect(res, 302, url.href);
    } catch (err) {
      next(err);
    }
  };
}
