import type { Request } from 'express';
import type { Instance } from '../instance/instance.js';
import { endedMarkTtlMs } from '../session/lifetime.js';
import { revokeTokens } from '../tokens/revocation.js';
import { forgetSession, requireStore, tokensOf } from '../session/session.js';
import { STORE_TIMEOUT_MS, storeDestroy, storeGet } from '../store/store-calls.js';
import type { LogoutTrigger } from '../public-types.js';

/**
 * Ends sessions the provider asked to end (back-channel, front-channel) or that can no longer
 * live (expired, refresh refused): each is read, marked ended (so no write brings it back:
 * ended-marks.ts), destroyed in the store, dropped from the index, its tokens revoked, and
 * postLogout run once. A mark the index cannot write does not stop the destroy; a destroy the
 * store refuses rejects (the caller answers 503, and the provider may retry).
 */
export async function endSessions(
  { opts, ended, vault, provider, storeOf }: Pick<Instance, 'opts' | 'ended' | 'vault' | 'provider' | 'storeOf'>,
  req: Request,
  sessionIds: readonly string[],
  trigger: LogoutTrigger,
): Promise<number> {
  const store = requireStore(storeOf(req));
  const config = provider.ready();
  // Without the provider's metadata (it is down and was never reached) the index entries stay
  // until they expire; the sessions themselves are still destroyed.
  const issuer = config?.serverMetadata().issuer;
  const outcomes = await Promise.all(
    sessionIds.map(async (sessionId) => {
      const data = await storeGet(store, sessionId, STORE_TIMEOUT_MS);
      const stored = data?.oidc?.login;
      // A login no configured secret opens still ends; its index entries then lapse with their ttl.
      const login = stored === undefined ? undefined : vault.open(stored);
      await ended.end(sessionId, endedMarkTtlMs(opts.lifetime, stored, Date.now()), () => storeDestroy(store, sessionId, STORE_TIMEOUT_MS));
      if (login === undefined) return false;
      if (issuer !== undefined) await opts.sessionIndex.remove({ issuer, sub: login.user.sub, sid: login.sid, sessionId });
      const tokens = tokensOf(login);
      const revocation = await revokeTokens(opts, config, tokens);
      await opts.hooks.postLogout(req, { trigger, user: login.user, tokens, revocation, endSessionUrl: undefined });
      opts.logger.info({ sub: login.user.sub, trigger }, trigger === 'admin' ? 'session ended by the app' : 'session ended by the provider');
      return true;
    }),
  );
  // The request may carry one of the ended sessions (a same-site front-channel iframe, a
  // session that expired or whose refresh was refused): it goes on anonymous.
  if (sessionIds.includes(req.sessionID)) await forgetSession(req);
  const count = outcomes.filter(Boolean).length;
  opts.telemetry.sessionsEnded(trigger, count);
  return count;
}
