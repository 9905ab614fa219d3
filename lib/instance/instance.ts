import type { Sealer } from '../crypto/sealing.js';
import type { TransactionCookies } from '../login/login-transactions.js';
import type { LoginMarker } from '../login/reauthentication.js';
import type { ProviderFetch } from '../public-types.js';
import type { Refresher, RefreshServices } from '../refresh/refresh.js';
import type { SessionStores } from '../store/session-stores.js';

/**
 * Everything one oidcAuth() instance shares with its routes, its req.oidc objects and its
 * helpers, each service built once by createInstance(). Two instances in one process share
 * nothing. The services that end sessions and refresh tokens are declared beside them
 * (EndingServices, RefreshServices): they take this instance without knowing its type.
 */
export interface Instance extends RefreshServices {
  /** keys derived from the secrets: seals what the package keeps in cookies and the store */
  sealer: Sealer;
  /** the app's fetch (or the global one) in a span and the provider-call histogram */
  fetch: ProviderFetch;
  /** express-session as the package mounts it, its store, and the guard on the app's own */
  sessions: SessionStores;
  /** the login transactions, kept in the browser */
  transactions: TransactionCookies;
  /** where requiresAuth() sends a browser; undefined when the login route is off */
  loginPath: string | undefined;
  /** the browser's "has logged in here" cookie: a login after an end asks for a fresh authentication */
  loginMarker: LoginMarker;
  /** refreshes access tokens, once per session however many requests ask */
  refresher: Refresher;
}
