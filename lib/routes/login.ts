import { metadataOf } from '../provider/metadata.js';
import { pkceChallenge, randomToken } from '../crypto/random.js';
import type { Request, Response } from 'express';
import * as client from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import type { ResolvedOptions } from '../options/resolved.js';
import { queryOf, redirect, sendJson, single, wantsJson, type AsyncHandler } from '../http/http.js';
import type { Instance } from '../instance/instance.js';
import { returnToOr } from '../http/return-to.js';
import { requireSession } from '../session/session.js';
import { translatePushError } from '../provider/errors.js';
import type { LoginRequirements, LoginTransaction } from '../login/login-transactions.js';
import { withPromptLogin } from '../login/reauthentication.js';
import { contextOf } from '../request-context.js';

/**
 * A browser drops a Secure cookie set on a request it does not see as https. The login
 * would then fail at the callback with a baffling state mismatch: fail here instead, and say
 * what to set.
 */
function assertCookieCanBeSet(opts: ResolvedOptions, req: Request): void {
  if (opts.baseUrl.protocol !== 'https:') return;
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    ?.trim();
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
export function isNavigation(req: Request): boolean {
  if (wantsJson(req)) return false;
  const dest = req.headers['sec-fetch-dest'];
  if (dest === undefined) return true;
  if (String(req.headers['sec-purpose'] ?? '').includes('prefetch')) return false;
  return req.headers['sec-fetch-mode'] === 'navigate' && dest === 'document';
}

/**
 * A browser's own top-level navigation, as it says in Fetch Metadata: `Sec-Fetch-Mode:
 * navigate` and `Sec-Fetch-Dest: document`, which browsers send together on every navigation
 * (Chrome 80, Firefox 90, Safari 16.4 and later) and which a page's script cannot set. A client
 * outside a browser can send them too: this keeps out clients that do not pretend (crawlers,
 * link previews, monitors, scripts), not one that does; rate-limit the login route for those.
 */
export function isBrowserNavigation(req: Request): boolean {
  return req.headers['sec-fetch-mode'] === 'navigate' && req.headers['sec-fetch-dest'] === 'document' && isNavigation(req);
}

/**
 * With PAR every login start is a client-authenticated call to the provider's PAR endpoint,
 * which providers rate-limit per client: if any anonymous request could make one, a bot
 * could spend the app's allowance and the provider would refuse real users' logins. So only
 * a browser navigation pushes; anything else is refused here, before any call.
 */
function assertMayPush(req: Request): void {
  if (isBrowserNavigation(req)) return;
  throw new OidcAuthError(
    OidcAuthErrorCode.NAVIGATION_REQUIRED,
    400,
    'This login sends its parameters to the provider first (pushed authorization requests), so it only starts from a browser opening this page (a top-level navigation, with Sec-Fetch-Mode: navigate and Sec-Fetch-Dest: document). Open the link in an up-to-date browser (Chrome 80, Firefox 90, Safari 16.4 or later).',
  );
}

export interface LoginStart {
  /** where the browser goes after the login: already judged by return-to.ts */
  returnTo: string;
  /** this login's own parameters (res.oidc.login), already checked; they override the configured ones */
  authorizationParams?: Readonly<Record<string, string>>;
  /** what the new ID token must show: sent as acr_values and max_age, verified at the callback */
  requirements?: LoginRequirements;
  /** prompt=none: the provider answers at once, and login_required brings the browser back anonymous */
  silent?: boolean;
}

/**
 * True when this browser had a login here that something ended (see reauthentication.ts):
 * its next login must authenticate afresh at the provider, whose own session may well
 * have survived the end.
 */
function mustReauthenticate({ opts, loginMarker }: Pick<Instance, 'opts' | 'loginMarker'>, req: Request): boolean {
  return opts.logout.reauthenticate !== false && loginMarker.present(req) && contextOf(req)?.isAuthenticated() !== true;
}

/**
 * Sends the browser to the provider: a new state, nonce and PKCE verifier per attempt, kept
 * in this browser's cookies with what the callback must check. Every login starts here:
 * GET /login, res.oidc.login(), a step-up from requiresAuth() and a silent login.
 */
export async function startLogin(instance: Instance, req: Request, res: Response, start: LoginStart): Promise<void> {
  const { opts, provider, transactions } = instance;
  assertCookieCanBeSet(opts, req);
  // With session: false the callback will need the app's express-session: say so now, not after the provider.
  if (opts.session === false) requireSession(req);
  const started = Date.now();
  const { requirements } = start;
  const params: Record<string, string> = { ...opts.authorizationParams, ...start.authorizationParams };
  if (start.silent === true) params['prompt'] = 'none';
  const reauthenticate = mustReauthenticate(instance, req);
  if (reauthenticate && params['prompt'] === 'none') {
    // A silent login would come back through the provider's surviving session and undo the
    // end: answer as the provider would without one (login_required: back, anonymous).
    opts.logger.debug({}, 'login: no silent login after this browser was signed out; back to the page, anonymous');
    redirect(res, 302, start.returnTo);
    return;
  }
  // Known without the provider's metadata: refused before discovery could cost a call.
  if (opts.pushedAuthorizationRequests) assertMayPush(req);
  const config = await provider.config();
  const state = randomToken();
  const nonce = randomToken();
  const verifier = randomToken();
  if (requirements?.acr !== undefined) params['acr_values'] = requirements.acr.join(' ');
  if (requirements?.maxAge !== undefined) params['max_age'] = String(requirements.maxAge);
  if (reauthenticate) {
    params['prompt'] = withPromptLogin(params['prompt']);
    // OpenID Connect Core 3.1.2.1: max_age=0 means the same, for providers that only honour max_age.
    if (opts.logout.reauthenticate !== false && opts.logout.reauthenticate.maxAgeZero) params['max_age'] = '0';
  }
  const request = {
    ...params,
    response_type: 'code',
    redirect_uri: opts.redirectUri,
    scope: opts.scope,
    state,
    nonce,
    code_challenge: pkceChallenge(verifier),
    code_challenge_method: 'S256',
  };
  const metadata = metadataOf(config);
  // FAPI 2.0 (5.3.2.2): the client must check iss in the authorization response, so the provider must send it.
  if (opts.profile === 'fapi2' && metadata.authorization_response_iss_parameter_supported !== true) {
    throw new OidcAuthError(
      OidcAuthErrorCode.CONFIG_INVALID,
      500,
      'profile "fapi2" needs a provider that sends iss in its authorization responses (RFC 9207: authorization_response_iss_parameter_supported), and this one does not say it does.',
    );
  }
  const pushed = opts.pushedAuthorizationRequests || metadata.require_pushed_authorization_requests === true;
  if (pushed) assertMayPush(req);
  if (pushed && metadata.pushed_authorization_request_endpoint === undefined) {
    throw new OidcAuthError(
      OidcAuthErrorCode.CONFIG_INVALID,
      500,
      'pushedAuthorizationRequests is on, but the provider publishes no pushed_authorization_request_endpoint. Turn the option off, or enable PAR at the provider.',
    );
  }
  // Signed (RFC 9101): the parameters travel as one request object signed with the client's key.
  const signed =
    opts.signedRequestObjects && opts.clientPrivateKey !== undefined
      ? await client.buildAuthorizationUrlWithJAR(config, request, opts.clientPrivateKey)
      : undefined;
  // Pushed (RFC 9126): the parameters (or the request object) go to the provider over the back channel, with the client's authentication.
  const url = pushed
    ? await client.buildAuthorizationUrlWithPAR(config, signed?.searchParams ?? request).catch((err: unknown) => {
        throw translatePushError(err, { method: opts.clientAuthMethod, supported: metadata.token_endpoint_auth_methods_supported });
      })
    : (signed ?? client.buildAuthorizationUrl(config, request));
  const tx: LoginTransaction = { state, nonce, verifier, returnTo: start.returnTo, createdAt: Date.now() };
  if (requirements !== undefined) tx.requirements = requirements;
  if (params['prompt'] === 'none') tx.silent = true;
  if (reauthenticate) tx.reauthenticateAfter = Math.floor(started / 1000);
  transactions.start(req, res, tx);
  opts.logger.debug(
    { ms: Date.now() - started, pushed, stepUp: requirements !== undefined, silent: tx.silent === true, reauthenticate },
    'login: a login starts; off to the provider',
  );
  redirect(res, 302, url.href);
}

/** The answer to a request that cannot start a login: it is not a top-level navigation. */
export function refuseLoginStart(req: Request, res: Response): void {
  sendJson(res, 401, {
    error: 'login_required',
    error_description: 'A login starts with a top-level navigation of the browser to this URL, not with a fetch.',
    login: req.originalUrl.split('?')[0],
  });
}

/** GET /login?returnTo=…: off to the provider, and back to returnTo afterwards. */
export function createLoginHandler(instance: Instance): AsyncHandler {
  const { opts } = instance;
  return async function oidcLogin(req, res, next) {
    try {
      if (!isNavigation(req)) {
        refuseLoginStart(req, res);
        return;
      }
      await startLogin(instance, req, res, { returnTo: returnToOr(single(queryOf(req), 'returnTo'), opts.baseUrl.pathname) });
    } catch (err) {
      next(err);
    }
  };
}
