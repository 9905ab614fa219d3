export { oidcAuth } from './oidc-auth.js';
export { requiresAuth } from './requires-auth.js';
export { OidcAuthError, OidcAuthErrorCode, isOidcAuthError, type OidcAuthErrorOptions } from './errors.js';
export type { ClientAuthMethod, ClientPrivateKey, LogoutOptions, OidcAuthOptions, RoutesOptions } from './options.js';
export type { Logger } from './logger.js';
export type { OidcAccessToken, OidcRequestContext } from './request-context.js';
export type { OidcSessionData, StoredLogin } from './session.js';
export type { AtomicSessionWriter, SessionIndex, SessionIndexEntry } from './session-index.js';
export type {
  LogoutTrigger,
  OidcHooks,
  OidcTokens,
  OidcUser,
  PostLoginContext,
  PostLoginResult,
  PostLogoutContext,
  PostLogoutResult,
  RevocationOutcome,
} from './types.js';
export { redisSessionIndex, type RedisCommandClient, type RedisSessionIndexOptions } from './redis-session-index.js';
