import { createSealer } from '../crypto/sealing.js';
import { createEndedSessions } from '../ended/ended-marks.js';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import { bindHooks } from '../hooks.js';
import { transactionCookies } from '../login/login-transactions.js';
import { createLoginVault } from '../login/login-vault.js';
import { loginMarker } from '../login/reauthentication.js';
import { joinUrl, type ResolvedConfig } from '../options/resolved.js';
import { createJwksCache, jwksUriOf } from '../provider/jwks.js';
import { createProvider } from '../provider/provider.js';
import { createRefresher } from '../refresh/refresh.js';
import { boundedSessionIndex } from '../session-index/bounded.js';
import { hashedSessionIndex } from '../session-index/hashed.js';
import { memorySessionIndex } from '../session-index/memory.js';
import { createSessionStores } from '../store/session-stores.js';
import { STORE_TIMEOUT_MS } from '../session/store-calls.js';
import { endpointNames, instrumentedFetch } from '../telemetry/provider-calls.js';
import { createTelemetry } from '../telemetry/telemetry.js';
import { dpopHandles } from '../tokens/dpop.js';
import type { Instance } from './instance.js';

/** Builds every service of one oidcAuth() instance, once, from its resolved configuration. */
export function createInstance<TContext>(config: Readonly<ResolvedConfig<TContext>>): Instance {
  const opts = config;
  // Keys are derived once, here: opening a session runs on every authenticated request.
  const sealer = createSealer(opts.secrets);
  const telemetry = createTelemetry(opts.telemetry);
  const endpoints = endpointNames();
  // Looked up at each call, not bound now: a test (or an app) may replace the global fetch later.
  const fetch = instrumentedFetch(opts.fetch ?? ((url, init) => globalThis.fetch(url, init)), telemetry, endpoints);
  const sessionIndex = hashedSessionIndex(
    boundedSessionIndex(
      opts.sessionIndex ?? memorySessionIndex(),
      STORE_TIMEOUT_MS,
      (what, cause) => new OidcAuthError(OidcAuthErrorCode.SESSION_STORE_FAILED, 503, `The session index failed (${what}); try again shortly.`, { cause }),
    ),
    sealer,
  );
  const provider = createProvider(opts, fetch, endpoints);
  const ended = createEndedSessions(sessionIndex, opts.logger);
  const https = opts.baseUrl.protocol === 'https:';
  const transactions = transactionCookies({
    sealer,
    secure: https,
    // A provider on another site POSTs the form_post callback: only a SameSite=None cookie goes along.
    sameSite: opts.authorizationParams['response_mode'] === 'form_post' && https ? 'none' : 'lax',
    callbackPath: new URL(opts.redirectUri).pathname,
  });
  const sessions = createSessionStores(opts, ended, sessionIndex, telemetry);
  const services = {
    opts,
    sealer,
    telemetry,
    fetch,
    hooks: bindHooks(config.hooks, config.context, opts.logger),
    sessionIndex,
    provider,
    jwks: createJwksCache(async () => jwksUriOf(await provider.config(), opts.allowInsecureRequests), opts.httpTimeoutMs, Date.now, fetch),
    ended,
    transactions,
    vault: createLoginVault(sealer),
    sessions,
    storeOf: sessions.storeOf,
    loginPath: opts.routes.login === false ? undefined : new URL(joinUrl(opts.baseUrl, opts.routes.login)).pathname,
    dpop: dpopHandles(),
    loginMarker: loginMarker(opts),
  };
  return { ...services, refresher: createRefresher(services) };
}
