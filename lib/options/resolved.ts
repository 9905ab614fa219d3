import type { Request } from 'express';
import type { SessionOptions } from 'express-session';
import type { Logger } from '../logging/logger.js';
import type { OidcHooks, ProviderFetch } from '../public-types.js';
import type { SessionIndex } from '../session-index/session-index.js';
import type { TelemetryOptions } from '../telemetry/telemetry.js';
import type { ResolvedAccess } from './access.js';
import type { ClientAuthMethod, ClientPrivateKey } from './options.js';

/** express-session options with the session cookie's name decided (lib/options/session.ts). */
export type ResolvedSession = SessionOptions & { name: string };

export interface ResolvedOptions {
  issuer: URL;
  clientId: string;
  clientSecret: string | undefined;
  clientAuthMethod: ClientAuthMethod;
  clientPrivateKey: ClientPrivateKey | undefined;
  baseUrl: URL;
  redirectUri: string;
  postLogoutRedirectUri: string;
  scope: string;
  authorizationParams: Readonly<Record<string, string>>;
  pushedAuthorizationRequests: boolean;
  signedRequestObjects: boolean;
  dpop: boolean;
  profile: 'fapi2' | undefined;
  idTokenSigningAlg: string;
  routes: {
    login: string | false;
    /** the redirect_uri path, mounted or not */
    callback: string;
    callbackMounted: boolean;
    logout: string | false;
    backchannelLogout: string | false;
    frontchannelLogout: string | false;
    postLogoutRedirect: string;
  };
  /** express-session options as oidcAuth mounts it, the cookie name always set; false with the app's own express-session */
  session: ResolvedSession | false;
  logout: {
    methods: ReadonlySet<string>;
    revokeAccessToken: boolean;
    revokeRefreshToken: boolean;
    idpLogout: boolean;
    timeoutMs: number;
    backchannelMaxAgeSec: number;
    /** false: off; else whether max_age=0 goes along with prompt=login */
    reauthenticate: false | { maxAgeZero: boolean };
  };
  logger: Logger;
  allowInsecureRequests: boolean;
  httpTimeoutMs: number;
  /** the app's fetch as given; undefined: the global one (createInstance wraps either in telemetry) */
  fetch: ProviderFetch | undefined;
  /** where the package's metrics and spans go */
  telemetry: TelemetryOptions;
  clockToleranceSec: number;
  access: ResolvedAccess;
  /** the app's index as given; undefined: one in memory (createInstance builds and wraps it) */
  sessionIndex: SessionIndex | undefined;
  refresh: { automatic: boolean; earlySeconds: number };
  lifetime: { absoluteSec: number | undefined; idleSec: number | undefined };
  /** newest first */
  secrets: readonly string[];
}

/** The configuration with the app's own code, typed by its context: createInstance binds the hooks to it. */
export interface ResolvedConfig<TContext> extends ResolvedOptions {
  hooks: Readonly<OidcHooks<TContext>>;
  context: (req: Request) => TContext | Promise<TContext>;
}

export const DEFAULT_SESSION_COOKIE = 'oidc.sid';

export const DEFAULTS = {
  scope: 'openid profile email',
  idTokenSigningAlg: 'RS256',
  routes: {
    login: '/login',
    callback: '/callback',
    logout: '/logout',
    backchannelLogout: '/backchannel-logout',
    frontchannelLogout: '/frontchannel-logout',
    postLogoutRedirect: '/',
  },
  logoutMethods: ['POST'],
  logoutTimeoutMs: 5000,
  backchannelMaxAgeSec: 300,
  httpTimeoutMs: 10_000,
  clockToleranceSec: 30,
  refreshEarlySeconds: 60,
  absoluteSec: 7 * 24 * 3600,
  idleSec: 24 * 3600,
} as const;

/** baseUrl without a trailing slash, joined with a route path that starts with "/". */
export function joinUrl(baseUrl: URL, path: string): string {
  const base = baseUrl.href.replace(/\/+$/, '');
  return path === '/' ? `${base}/` : base + path;
}
