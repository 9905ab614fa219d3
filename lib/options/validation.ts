import type { Request } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import { quietConsoleLogger, type Logger } from '../logging/logger.js';
import { type OidcAuthOptions } from './options.js';
import { DEFAULTS, joinUrl, type ResolvedConfig } from './resolved.js';
import { LIFETIME_KEYS, REFRESH_KEYS, resolveLifetime, resolveRefresh } from './refresh-and-lifetime.js';
import { kind, resolveSecrets } from './secrets.js';
import { resolveSession } from './session.js';
import type { SessionIndex } from '../session-index/session-index.js';
import type { OidcHooks } from '../public-types.js';
import { checkMillis, checkUnknownKeys, got, isFunctionOption, parseUrl, type Problems } from './checks.js';
import { isRecord } from '../values.js';
import { ROUTE_KEYS, resolveRoutes } from './routes.js';
import { resolveAccess } from './access.js';
import { resolveProfile } from './profile.js';
import { resolveTelemetry, TELEMETRY_KEYS } from './telemetry.js';
import { LOGOUT_KEYS, resolveLogout } from './logout.js';
import { checkClientAuth } from './client-auth.js';

const KNOWN = {
  top: [
    'issuer',
    'clientId',
    'clientSecret',
    'clientAuthMethod',
    'clientPrivateKey',
    'baseUrl',
    'scope',
    'authorizationParams',
    'pushedAuthorizationRequests',
    'signedRequestObjects',
    'dpop',
    'profile',
    'idTokenSigningAlg',
    'routes',
    'session',
    'logout',
    'hooks',
    'context',
    'logger',
    'allowInsecureRequests',
    'httpTimeoutMs',
    'fetch',
    'clockToleranceSec',
    'authRequired',
    'publicPaths',
    'attemptSilentLogin',
    'sessionIndex',
    'refresh',
    'lifetime',
    'secret',
    'telemetry',
  ],
  routes: ROUTE_KEYS,
  logout: LOGOUT_KEYS,
  hooks: ['postLogin', 'postLogout'],
} as const;

/** Every option by its full name (`logout.timeoutMs`): what the README's option table must list. */
export const OPTION_NAMES: readonly string[] = [
  ...KNOWN.top.filter((key) => !['routes', 'logout', 'hooks', 'refresh', 'lifetime', 'telemetry'].includes(key)),
  ...KNOWN.routes.map((key) => `routes.${key}`),
  ...KNOWN.logout.map((key) => `logout.${key}`),
  ...KNOWN.hooks.map((key) => `hooks.${key}`),
  ...REFRESH_KEYS.map((key) => `refresh.${key}`),
  ...LIFETIME_KEYS.map((key) => `lifetime.${key}`),
  ...TELEMETRY_KEYS.map((key) => `telemetry.${key}`),
];

/** parameters the package sets itself: letting options override them would undo a protection */
export const RESERVED_AUTH_PARAMS: readonly string[] = [
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
];

function checkSessionIndex(value: unknown, problems: Problems): SessionIndex | undefined {
  if (value === undefined) return undefined;
  const missing = isRecord(value)
    ? ['add', 'remove', 'lookup', 'claimOnce', 'release', 'markEnded', 'isEnded'].find((m) => typeof value[m] !== 'function')
    : undefined;
  if (!isRecord(value) || missing !== undefined) {
    const gotIndex = missing === undefined ? got(value) : `an object without the "${missing}" method`;
    problems.push(
      `"sessionIndex" must be a session index with add, remove, lookup, claimOnce, release, markEnded and isEnded methods, such as redisSessionIndex(client) or postgresSessionIndex(pool) (got ${gotIndex})`,
    );
    return undefined;
  }
  return value as unknown as SessionIndex;
}

function checkLogger(value: unknown, problems: Problems): Logger {
  if (value === undefined) return quietConsoleLogger();
  const levels = ['debug', 'info', 'warn', 'error'] as const;
  const missing = isRecord(value) ? levels.find((l) => typeof value[l] !== 'function') : undefined;
  if (!isRecord(value) || missing !== undefined) {
    const gotLogger = missing === undefined ? got(value) : `an object without the "${missing}" method`;
    problems.push(`"logger" must have debug, info, warn and error methods, as pino and console do (got ${gotLogger})`);
    return quietConsoleLogger();
  }
  return value as unknown as Logger;
}

function checkAuthorizationParams(value: unknown, problems: Problems): Record<string, string> {
  if (value === undefined) return {};
  if (!isRecord(value)) {
    problems.push(`"authorizationParams" must be an object of string values (got ${got(value)})`);
    return {};
  }
  const params: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (RESERVED_AUTH_PARAMS.includes(key)) {
      problems.push(`"authorizationParams.${key}" is set by the package itself${key === 'scope' ? ': use the "scope" option' : ' and cannot be overridden'}`);
    } else if (typeof v !== 'string') {
      problems.push(`"authorizationParams.${key}" must be a string (got ${got(v)})`);
    } else {
      params[key] = v;
    }
  }
  return params;
}

export function resolveOptions<TContext>(options: OidcAuthOptions<TContext>): Readonly<ResolvedConfig<TContext>> {
  if (!isRecord(options)) {
    // nothing else can be checked: report this one problem rather than every option as missing
    const problem = `options must be an object (got ${kind(options)})`;
    throw new OidcAuthError(OidcAuthErrorCode.CONFIG_INVALID, 500, `oidcAuth: invalid options:\n  - ${problem}`, { problems: [problem] });
  }
  const problems: Problems = [];
  const input: Record<string, unknown> = options;
  checkUnknownKeys(input, KNOWN.top, '', problems);

  const allowInsecure = input['allowInsecureRequests'] ?? false;
  if (typeof allowInsecure !== 'boolean') problems.push(`"allowInsecureRequests" must be a boolean (got ${got(allowInsecure)})`);
  const issuer = parseUrl(input['issuer'], 'issuer', allowInsecure === true, problems);
  const baseUrl = parseUrl(input['baseUrl'], 'baseUrl', allowInsecure === true, problems);
  const clientId = input['clientId'];
  if (typeof clientId !== 'string' || clientId === '') problems.push(`"clientId" must be a non-empty string (got ${got(clientId)})`);
  const clientAuthMethod = checkClientAuth(input, problems);

  const scope = input['scope'] ?? DEFAULTS.scope;
  if (typeof scope !== 'string' || !scope.split(' ').includes('openid')) {
    problems.push(`"scope" must be a space-separated string that contains "openid" (got ${got(scope)})`);
  }
  const alg = input['idTokenSigningAlg'] ?? DEFAULTS.idTokenSigningAlg;
  if (typeof alg !== 'string' || !/^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/.test(alg)) {
    problems.push(`"idTokenSigningAlg" must be an asymmetric JWS algorithm such as "RS256" or "ES256" (got ${got(alg)})`);
  }

  const routes = resolveRoutes(input['routes'], problems);

  const hooksIn = input['hooks'] ?? {};
  if (!isRecord(hooksIn)) problems.push(`"hooks" must be an object (got ${got(hooksIn)})`);
  const h = isRecord(hooksIn) ? hooksIn : {};
  checkUnknownKeys(h, KNOWN.hooks, 'hooks.', problems);
  const hooks: OidcHooks<TContext> = {};
  const given = options.hooks;
  if (isFunctionOption(h['postLogin'], 'hooks.postLogin', problems) && given?.postLogin !== undefined) hooks.postLogin = given.postLogin;
  if (isFunctionOption(h['postLogout'], 'hooks.postLogout', problems) && given?.postLogout !== undefined) hooks.postLogout = given.postLogout;
  const context: (req: Request) => TContext | Promise<TContext> =
    isFunctionOption(input['context'], 'context', problems) && options.context !== undefined ? options.context : () => undefined as TContext;

  const session = resolveSession(input['session'], baseUrl, problems);
  const logout = resolveLogout(input['logout'], problems);
  const authorizationParams = checkAuthorizationParams(input['authorizationParams'], problems);
  const logger = checkLogger(input['logger'], problems);
  const httpTimeoutMs = checkMillis(input['httpTimeoutMs'], 'httpTimeoutMs', DEFAULTS.httpTimeoutMs, problems);
  const fetchOption = isFunctionOption(input['fetch'], 'fetch', problems) ? options.fetch : undefined;
  const tolerance = input['clockToleranceSec'] ?? DEFAULTS.clockToleranceSec;
  // Over 5 minutes a token refused as expired or too old would be taken for that much longer.
  const validTolerance = typeof tolerance === 'number' && Number.isInteger(tolerance) && tolerance >= 0 && tolerance <= 300;
  if (!validTolerance) problems.push(`"clockToleranceSec" must be a whole number of seconds between 0 and 300 (got ${got(tolerance)})`);
  const access = resolveAccess(input, problems);
  const par = input['pushedAuthorizationRequests'] ?? false;
  if (typeof par !== 'boolean') problems.push(`"pushedAuthorizationRequests" must be a boolean (got ${got(par)})`);
  const dpop = input['dpop'] ?? false;
  if (typeof dpop !== 'boolean') problems.push(`"dpop" must be a boolean (got ${got(dpop)})`);
  const jar = input['signedRequestObjects'] ?? false;
  if (typeof jar !== 'boolean') problems.push(`"signedRequestObjects" must be a boolean (got ${got(jar)})`);
  else if (jar && options.clientPrivateKey === undefined)
    problems.push('"signedRequestObjects" needs "clientPrivateKey": the request object is signed with it');
  const profile = resolveProfile(input, clientAuthMethod, options.clientPrivateKey, problems);
  const refresh = resolveRefresh(input['refresh'], problems);
  const lifetime = resolveLifetime(input['lifetime'], problems);
  const sessionIndex = checkSessionIndex(input['sessionIndex'], problems);
  const secrets = resolveSecrets(input['secret'], input['session'], problems);
  const telemetryOptions = resolveTelemetry(input['telemetry'], options.telemetry, problems);

  if (problems.length > 0 || issuer === undefined || baseUrl === undefined) {
    throw new OidcAuthError(OidcAuthErrorCode.CONFIG_INVALID, 500, `oidcAuth: invalid options:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { problems });
  }
  const secret = input['clientSecret'];
  const key = options.clientPrivateKey;
  return Object.freeze({
    issuer,
    clientId: clientId as string,
    clientSecret: typeof secret === 'string' ? secret : undefined,
    clientAuthMethod,
    clientPrivateKey: key,
    baseUrl,
    redirectUri: joinUrl(baseUrl, routes.callback),
    postLogoutRedirectUri: joinUrl(baseUrl, routes.postLogoutRedirect),
    scope: scope as string,
    authorizationParams: Object.freeze(authorizationParams),
    ...profile,
    signedRequestObjects: jar === true,
    idTokenSigningAlg: alg as string,
    routes: Object.freeze(routes),
    session,
    logout: Object.freeze(logout),
    hooks: Object.freeze(hooks),
    context,
    logger,
    allowInsecureRequests: allowInsecure === true,
    httpTimeoutMs,
    fetch: fetchOption,
    telemetry: telemetryOptions,
    clockToleranceSec: validTolerance ? tolerance : DEFAULTS.clockToleranceSec,
    access: Object.freeze(access),
    refresh: Object.freeze(refresh),
    lifetime: Object.freeze(lifetime),
    secrets: Object.freeze(secrets),
    sessionIndex,
  });
}
