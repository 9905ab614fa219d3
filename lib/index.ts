export { oidcAuth, type OidcAuthHandler } from './oidc-auth.js';
export type { SessionAdmin, SessionAdminOptions, SessionInfo, SessionSelector } from './session-admin.js';
export { claimCheck, claimEquals, claimIncludes, type ClaimElement, type ClaimPrimitive, type ClaimValue } from './claim-checks.js';
export {
  requiresAuth,
  type AuthenticatedHandler,
  type AuthenticatedOidcContext,
  type AuthenticatedRequest,
  type RequiresAuthOptions,
} from './requires-auth.js';
export { OidcAuthError, OidcAuthErrorCode, isOidcAuthError, type OidcAuthErrorOptions } from './errors.js';
export type {
  ClientAuthMethod,
  ClientPrivateKey,
  LifetimeOptions,
  LogoutOptions,
  OidcAuthOptions,
  ProviderFetch,
  RefreshOptions,
  RoutesOptions,
} from './options/options.js';
export type { TelemetryOptions } from './telemetry/telemetry.js';
export type { Logger } from './logging/logger.js';
export type { ApiCallInit, OidcAccessToken, OidcRequestContext } from './request-context.js';
export type { LoginOptions, OidcResponseContext } from './response-context.js';
export type { OidcSessionData, StoredLogin } from './session/session.js';
export type { AtomicSessionWriter, SessionIndex, SessionIndexEntry } from './session-index/session-index.js';
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
} from './public-types.js';
export { redisSessionIndex, type RedisCommandClient, type RedisSessionIndexOptions } from './session-index/redis/redis.js';
export { postgresSessionIndex, type PostgresPool, type PostgresSessionIndexOptions } from './session-index/postgres/postgres.js';
