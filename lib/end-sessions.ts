import type { Request } from 'express';
import type { Store } from 'express-session';
import type * as client from 'openid-client';
import { runPostLogout } from './hooks.js';
import type { ResolvedOptions } from './options.js';
import { revokeTokens } from './revocation.js';
import { regenerateSession, type StoredLogin } from './session.js';
import { STORE_TIMEOUT_MS, storeDestroy, storeGet } from './store.js';
import type { LogoutTrigger, OidcTokens } from './types.js';

export function tokensOf(login: StoredLogin | undefined): OidcTokens {
  const tokens: OidcTokens = {};
  if (login?.idToken !== undefined) tokens.idToken = login.idToken;
  if (login?.accessToken !== undefined) tokens.accessToken = login.accessToken;
  if (login?.refreshToken !== undefined) tokens.refreshToken = login.refreshToken;
  return tokens;
}

/**
 * Ends sessions the provider asked to end (back-channel, front-channel): each is read,
 * destroyed in the store, dropped from the index, its tokens revoked, and postLogout run
 * once. Store failures reject (the caller answers 503, and the provider may retry).
 */
export async function endSessions<T>(
  opts: ResolvedOptions<T>,
  req: Request,
  store: Store,
  config: client.Configuration | undefined,
  sessionIds: readonly string[],
  trigger: LogoutTrigger,
): Promise<number> {
  // Without the provider's metadata (it is down and was never reached) the index entries stay
  // until they expire; the sessions themselves are still destroyed.
  const issuer = config?.serverMetadata().issuer;
  const ended = await Promise.all(
    sessionIds.map(async (sessionId) => {
      const login = (await storeGet(store, sessionId, STORE_TIMEOUT_MS))?.oidc?.login;
      await storeDestroy(store, sessionId, STORE_TIMEOUT_MS);
      if (login === undefined) return false;
      if (issuer !== undefined) await opts.sessionIndex.remove({ issuer, sub: login.user.sub, sid: login.sid, sessionId });
      const tokens = tokensOf(login);
      const revocation = await revokeTokens(opts, config, tokens);
      await runPostLogout(opts, req, { trigger, user: login.user, tokens, revocation, endSessionUrl: undefined });
      opts.logger.info({ sub: login.user.sub, trigger }, 'session ended by the provider');
      return true;
    }),
  );
  // When the request carries one of the ended sessions (a same-site front-channel iframe, a
  // session ended because it expired or its refresh failed), express-session loaded it and
  // would write it back as the response ends (resave, touch): swap it for a fresh, empty
  // one, so the app still finds a req.session and the old one stays gone.
  if (sessionIds.includes(req.sessionID)) {
    await regenerateSession(req).catch(() => Reflect.deleteProperty(req, 'session'));
  }
  return ended.filter(Boolean).length;
}
