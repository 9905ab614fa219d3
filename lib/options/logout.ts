import { checkMillis, checkUnknownKeys, got, type Problems } from './checks.js';
import { DEFAULTS, type ResolvedOptions } from './resolved.js';
import { isRecord } from '../values.js';

/** The keys of the `logout` option. */
export const LOGOUT_KEYS = ['methods', 'revokeTokens', 'idpLogout', 'timeoutMs', 'backchannelMaxAgeSec', 'reauthenticate'] as const;

export function resolveLogout(value: unknown, problems: Problems): ResolvedOptions['logout'] {
  const input = isRecord(value) ? value : {};
  if (value !== undefined && !isRecord(value)) problems.push(`"logout" must be an object (got ${got(value)})`);
  checkUnknownKeys(input, LOGOUT_KEYS, 'logout.', problems);
  const methods = input['methods'] ?? DEFAULTS.logoutMethods;
  const validMethods = Array.isArray(methods) && methods.length > 0 && methods.every((m) => m === 'POST' || m === 'GET');
  if (!validMethods) problems.push(`"logout.methods" must be a non-empty array of "POST" and/or "GET" (got ${got(methods)})`);
  const revoke = input['revokeTokens'] ?? true;
  let revokeAccessToken = true;
  let revokeRefreshToken = true;
  if (typeof revoke === 'boolean') {
    revokeAccessToken = revoke;
    revokeRefreshToken = revoke;
  } else if (isRecord(revoke) && [revoke['accessToken'], revoke['refreshToken']].every((v) => v === undefined || typeof v === 'boolean')) {
    checkUnknownKeys(revoke, ['accessToken', 'refreshToken'], 'logout.revokeTokens.', problems);
    revokeAccessToken = revoke['accessToken'] !== false;
    revokeRefreshToken = revoke['refreshToken'] !== false;
  } else {
    problems.push(`"logout.revokeTokens" must be a boolean or { accessToken?: boolean, refreshToken?: boolean } (got ${got(revoke)})`);
  }
  const idpLogout = input['idpLogout'] ?? true;
  if (typeof idpLogout !== 'boolean') problems.push(`"logout.idpLogout" must be a boolean (got ${got(idpLogout)})`);
  const timeoutMs = checkMillis(input['timeoutMs'], 'logout.timeoutMs', DEFAULTS.logoutTimeoutMs, problems);
  const maxAge = input['backchannelMaxAgeSec'] ?? DEFAULTS.backchannelMaxAgeSec;
  // Under 30 s a provider's ordinary delivery delay and clock skew would refuse good tokens; over
  // an hour a captured token without exp stays replayable too long (its jti is remembered as long).
  const validMaxAge = typeof maxAge === 'number' && Number.isInteger(maxAge) && maxAge >= 30 && maxAge <= 3600;
  if (!validMaxAge) problems.push(`"logout.backchannelMaxAgeSec" must be a whole number of seconds between 30 and 3600 (got ${got(maxAge)})`);
  return {
    reauthenticate: resolveReauthenticate(input['reauthenticate'], problems),
    methods: new Set(validMethods ? (methods as string[]) : DEFAULTS.logoutMethods),
    revokeAccessToken,
    revokeRefreshToken,
    idpLogout: idpLogout === true,
    timeoutMs,
    backchannelMaxAgeSec: validMaxAge ? maxAge : DEFAULTS.backchannelMaxAgeSec,
  };
}

function resolveReauthenticate(value: unknown, problems: Problems): ResolvedOptions['logout']['reauthenticate'] {
  if (value === undefined || value === true) return { maxAgeZero: false };
  if (value === false) return false;
  if (isRecord(value) && (value['maxAgeZero'] === undefined || typeof value['maxAgeZero'] === 'boolean')) {
    checkUnknownKeys(value, ['maxAgeZero'], 'logout.reauthenticate.', problems);
    return { maxAgeZero: value['maxAgeZero'] === true };
  }
  problems.push(`"logout.reauthenticate" must be a boolean or { maxAgeZero?: boolean } (got ${got(value)})`);
  return { maxAgeZero: false };
}
