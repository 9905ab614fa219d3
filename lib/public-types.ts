import type { Request } from 'express';
import type { Logger } from './logging/logger.js';

/** Claims of the logged-in user: the ID token's claims without the protocol ones. */
export interface OidcUser {
  /** the user's identifier at the provider */
  sub: string;
  /** the user's full name, when the provider sends it (scope `profile`) */
  name?: string;
  /** the user's email address, when the provider sends it (scope `email`) */
  email?: string;
  /** whether the provider verified `email` */
  email_verified?: boolean;
  /** the name the user goes by at the provider (scope `profile`) */
  preferred_username?: string;
  [claim: string]: unknown;
}

/** The tokens the provider issued at login. */
export interface OidcTokens {
  /** the raw ID token */
  idToken?: string;
  /** the raw access token */
  accessToken?: string;
  /** the raw refresh token, when the provider issued one */
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

/** What `hooks.postLogin` is given. */
export interface PostLoginContext<TContext = unknown> {
  /** claims of the user who just logged in */
  user: OidcUser;
  /** the tokens the login was issued (revoked if the hook refuses it) */
  tokens: OidcTokens;
  /** the callback request, headers included */
  clientRequest: Request;
  /** the package's logger */
  log: Logger;
  /** from `options.context(req)` */
  context: TContext;
}

/** Return claims to keep instead of the ID token's, or nothing to keep them as they are. Throw to refuse the login. */
// void, not undefined: a hook written as `async function (ctx) { … }` returns Promise<void>.
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type
export type PostLoginResult = void | OidcUser;

/** What `hooks.postLogout` is given, once per ended session. */
export interface PostLogoutContext<TContext = unknown> {
  /** what ended the session */
  trigger: LogoutTrigger;
  /** claims of the user who was logged out; undefined when there was no session */
  user: OidcUser | undefined;
  /** the request that caused it, headers included */
  clientRequest: Request;
  /** the package's logger */
  log: Logger;
  /** from `options.context(req)` */
  context: TContext;
  /** the session's tokens, already revoked as `revocation` says */
  tokens: OidcTokens;
  /** what became of each token's revocation (RFC 7009) */
  revocation: {
    /** the access token's */
    accessToken: RevocationOutcome;
    /** the refresh token's */
    refreshToken: RevocationOutcome;
  };
  /** where the user will be sent, if the provider has an end_session_endpoint */
  endSessionUrl: URL | undefined;
}

/** Return `{ redirectTo }` to choose where the browser goes when the provider has no end_session_endpoint. */
export type PostLogoutResult =
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  void | {
    /** an absolute http(s) URL or a path of this app, where the browser goes next */
    redirectTo: string;
  };

/** The app's own code at a login and at each session's end: `oidcAuth({ hooks })`. */
export interface OidcHooks<TContext = unknown> {
  /** runs after the code exchange, before the session is created; throw to refuse the login (403). Default: none */
  postLogin?: (ctx: PostLoginContext<TContext>) => PostLoginResult | Promise<PostLoginResult>;
  /** runs once per ended session, after it is destroyed and its tokens revoked. Default: none */
  postLogout?: (ctx: PostLogoutContext<TContext>) => PostLogoutResult | Promise<PostLogoutResult>;
}

/** How the package calls the provider: the shape of the global `fetch`, which is the default. */
export type ProviderFetch = (url: string, init: RequestInit) => Promise<Response>;
