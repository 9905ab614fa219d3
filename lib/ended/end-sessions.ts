import { metadataOf } from '../provider/metadata.js';
import type { Request } from 'express';
import type { Store } from 'express-session';
import type { BoundHooks } from '../hooks.js';
import type { LoginVault } from '../login/login-vault.js';
import type { ResolvedOptions } from '../options/resolved.js';
import type { Provider } from '../provider/provider.js';
import type { SessionIndex } from '../session-index/session-index.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { EndedSessions } from './ended-marks.js';
import { endedMarkTtlMs } from '../session/lifetime.js';
import { revokeTokens } from '../tokens/revocation.js';
import { forgetSession, requireStore, tokensOf } from '../session/session.js';
import { STORE_TIMEOUT_MS, storeDestroy, storeGet } from '../session/store-calls.js';
import type { LogoutTrigger } from '../public-types.js';

/** What ending a session needs of the instance (the instance itself, in practice). */
export interface EndingServices {
  opts: ResolvedOptions;
  /** the provider's metadata and client configuration, discovered on first use */
  provider: Provider;
  /** sessions ended by logouts, which no write may bring back */
  ended: EndedSessions;
  /** seals logins for the store, opens them again */
  vault: LoginVault;
  /** the store holding this request's session: the package's own, or the app's express-session's; undefined when neither ran */
  storeOf: (req: Request) => Store | undefined;
  /** the app's index, bounded in time and keyed by hashes */
  sessionIndex: SessionIndex;
  /** the app's hooks, bound to its context factory */
  hooks: BoundHooks;
  /** the package's metrics and spans */
  telemetry: Telemetry;
}

/**
 * Ends sessions the provider asked to end (back-channel, front-channel) or that can no longer
 * live (expired, refresh refused): each is read, marked ended (so no write brings it back:
 * ended-marks.ts), destroyed in the store, dropped from the index, its tokens revoked, and
 * postLogout run once. A mark the index cannot write does not stop the destroy; a destroy the
 * store refuses rejects (the caller answers 503, and the provider may retry).
 */
export async function endSessions(
  { opts, ended, vault, provider, storeOf, sessionIndex, hooks, telemetry }: EndingServices,
  req: Request,
  sessionIds: readonly string[],
  trigger: LogoutTrigger,
): Promise<number> {
  const store = requireStore(storeOf(req));
  const config = provider.ready();
  // Without the provider's metadata (it is down and was never reached) the index entries stay
  // until they expire; the sessions themselves are still destroyed.
  const issuer = config === undefined ? undefined : metadataOf(config).issuer;
  const outcomes = await Promise.all(
    sessionIds.map(async (sessionId) => {
      const data = await storeGet(store, sessionId, STORE_TIMEOUT_MS);
      const stored = data?.oidc?.login;
      // A login no configured secret opens still ends; its index entries then lapse with their ttl.
      const login = stored === undefined ? undefined : vault.open(stored);
      await ended.end(sessionId, endedMarkTtlMs(opts.lifetime, stored, Date.now()), () => storeDestroy(store, sessionId, STORE_TIMEOUT_MS));
      if (login === undefined) return false;
      if (issuer !== undefined) await sessionIndex.remove({ issuer, sub: login.user.sub, sid: login.sid, sessionId });
      const tokens = tokensOf(login);
      const revocation = await revokeTokens(opts, telemetry, config, tokens);
      await hooks.postLogout(req, { trigger, user: login.user, tokens, revocation, endSessionUrl: undefined });
      opts.logger.info({ sub: login.user.sub, trigger }, trigger === 'admin' ? 'session ended by the app' : 'session ended by the provider');
      return true;
    }),
  );
  // The request may carry one of the ended sessions (a same-site front-channel iframe, a
  // session that expired or whose refresh was refused): it goes on anonymous.
  if (sessionIds.includes(req.sessionID)) await forgetSession(req);
  const count = outcomes.filter(Boolean).length;
  telemetry.sessionsEnded(trigger, count);
  return count;
}
