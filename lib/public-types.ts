import type { Request } from 'express';
import type { Logger } from './logging/logger.js';

/** Claims of the logged-in user: the ID token's claims without the protocol ones. */
export interface OidcUser {
  sub: string;
  name?: string;
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
  [claim: string]: unknown;
}

/** The tokens the provider issued at login. */
export interface OidcTokens {
  idToken?: string;
  accessToken?: string;
  refreshToken?: string;
}

/**
 * Outcome of one RFC 7009 revocation at logout.
 * 'unsupported': the provider has no revocation endpoint;
 * 'skipped': revocation is turned off by options or there was no such token.
 */
export type RevocationOutcome = 'revoked' | 'failed' | 'timeout' | 'skipped' | 'unsupported';

/**
 * 'expired': the session outlived `lifetime.absoluteSec` or sat idle past `lifetime.idleSec`;
 * 'admin': the app's own code ended it (`endSessions()` on what oidcAuth() returns).
 */
export type LogoutTrigger = 'logout' | 'backchannel' | 'frontchannel' | 'refresh-failed' | 'expired' | 'admin';

export interface PostLoginContext<TContext = unknown> {
  /** claims of the user who just logged in */
  user: OidcUser;
  tokens: OidcTokens;
  /** the callback request, headers included */
  clientRequest: Request;
  log: Logger;
  /** from `options.context(req)` */
  context: TContext;
}

/** Return claims to keep instead of the ID token's, or nothing to keep them as they are. Throw to refuse the login. */
// void, not undefined: a hook written as `async function (ctx) { … }` returns Promise<void>.
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type
export type PostLoginResult = void | OidcUser;

export interface PostLogoutContext<TContext = unknown> {
  trigger: LogoutTrigger;
  /** claims of the user who was logged out; undefined when there was no session */
  user: OidcUser | undefined;
  /** the request that caused it, headers included */
  clientRequest: Request;
  log: Logger;
  /** from `options.context(req)` */
  context: TContext;
  tokens: OidcTokens;
  revocation: { accessToken: RevocationOutcome; refreshToken: RevocationOutcome };
  /** where the user will be sent, if the provider has an end_session_endpoint */
  endSessionUrl: URL | undefined;
}

/** Return `{ redirectTo }` to choose where the browser goes when the provider has no end_session_endpoint. */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type
export type PostLogoutResult = void | { redirectTo: string };

export interface OidcHooks<TContext = unknown> {
  /** runs after the code exchange, before the session is created; throw to refuse the login (403). Default: none */
  postLogin?: (ctx: PostLoginContext<TContext>) => PostLoginResult | Promise<PostLoginResult>;
  /** runs once per ended session, after it is destroyed and its tokens revoked. Default: none */
  postLogout?: (ctx: PostLogoutContext<TContext>) => PostLogoutResult | Promise<PostLogoutResult>;
}

/** How the package calls the provider: the shape of the global `fetch`, which is the default. */
export type ProviderFetch = (url: string, init: RequestInit) => Promise<Response>;
