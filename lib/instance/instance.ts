import type { Request } from 'express';
import type { Store } from 'express-session';
import type { EndedSessions } from '../ended/ended-marks.js';
import type { JwksCache } from '../provider/jwks.js';
import type { TransactionCookies } from '../login/login-transactions.js';
import type { LoginVault } from '../login/login-vault.js';
import type { ResolvedOptions } from '../options/options.js';
import type { Provider } from '../provider/provider.js';
import type { DpopHandles } from '../tokens/dpop.js';
import type { Login } from '../session/session.js';
import type { LoginMarker } from '../login/reauthentication.js';

/**
 * Everything one oidcAuth() instance shares with its routes, its req.oidc objects and its
 * helpers, built once in oidcAuth(). Two instances in one process share nothing.
 */
export interface Instance {
  opts: ResolvedOptions;
  /** the provider's metadata and client configuration, discovered on first use */
  provider: Provider;
  /** the provider's signing keys, shared by the callback, refresh and back-channel logout */
  jwks: JwksCache;
  /** sessions ended by logouts, which no write may bring back */
  ended: EndedSessions;
  /** the login transactions, kept in the browser */
  transactions: TransactionCookies;
  /** seals logins for the store, opens them again */
  vault: LoginVault;
  /** the store holding this request's session: the package's own, or the app's express-session's; undefined when neither ran */
  storeOf(req: Request): Store | undefined;
  /** the sessions' DPoP handles, which remember the nonces they were given */
  dpop: DpopHandles;
  /** where requiresAuth() sends a browser; undefined when the login route is off */
  loginPath: string | undefined;
  /** the browser's "has logged in here" cookie: a login after an end asks for a fresh authentication */
  loginMarker: LoginMarker;
  /** refreshes access tokens, once per session however many requests ask */
  refresher: Refresher;
}

/** The instance before its refresher, which is built from it. */
export type InstanceCore = Omit<Instance, 'refresher'>;

/**
 * Refreshes access tokens, once per session however many requests ask (refresh/refresh.ts).
 * Declared here, not beside its implementation: the instance holds one, and the refresher is
 * built from the instance, so the type living with the implementation made an import circle.
 */
export interface Refresher {
  /** a valid access token: refreshed first when it is about to expire (automatic refresh on) */
  getAccessToken(req: Request): Promise<string>;
  /** refreshes now, whatever the expiry; single-flight per session */
  refresh(req: Request): Promise<Login>;
}
