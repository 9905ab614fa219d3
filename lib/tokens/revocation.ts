import { metadataOf } from '../provider/metadata.js';
import * as client from 'openid-client';
import { describeError, type Logger } from '../logging/logger.js';
import type { ResolvedOptions } from '../options/resolved.js';
import { TIMED_OUT, within } from '../timeout.js';
import type { OidcTokens, RevocationOutcome } from '../public-types.js';
import type { Telemetry } from '../telemetry/telemetry.js';

export interface RevocationOutcomes {
  accessToken: RevocationOutcome;
  refreshToken: RevocationOutcome;
}

type Hint = 'access_token' | 'refresh_token';

async function revokeOne(
  config: client.Configuration | undefined,
  token: string | undefined,
  hint: Hint,
  enabled: boolean,
  timeoutMs: number,
  log: Logger,
): Promise<RevocationOutcome> {
  if (!enabled || token === undefined) return 'skipped';
  if (config === undefined) return 'failed';
  if (metadataOf(config).revocation_endpoint === undefined) return 'unsupported';
  const started = Date.now();
  try {
    const result = await within(client.tokenRevocation(config, token, { token_type_hint: hint }), timeoutMs);
    const outcome = result === TIMED_OUT ? 'timeout' : 'revoked';
    log.info({ tokenType: hint, outcome, ms: Date.now() - started }, 'token revocation');
    return outcome;
  } catch (err) {
    log.warn({ tokenType: hint, outcome: 'failed', ms: Date.now() - started, ...describeError(err) }, 'token revocation failed');
    return 'failed';
  }
}

/**
 * RFC 7009 revocation of the refresh and the access token, in parallel, each bounded by
 * logout.timeoutMs. The refresh token matters most: it outlives the session. Never throws.
 */
export async function revokeTokens(
  opts: Pick<ResolvedOptions, 'logout' | 'logger'>,
  telemetry: Telemetry,
  config: client.Configuration | undefined,
  tokens: OidcTokens,
): Promise<RevocationOutcomes> {
  const { revokeAccessToken, revokeRefreshToken, timeoutMs } = opts.logout;
  const [refreshToken, accessToken] = await Promise.all([
    revokeOne(config, tokens.refreshToken, 'refresh_token', revokeRefreshToken, timeoutMs, opts.logger),
    revokeOne(config, tokens.accessToken, 'access_token', revokeAccessToken, timeoutMs, opts.logger),
  ]);
  // A token that was not there is no revocation: only outcomes for tokens the session held are counted.
  if (tokens.refreshToken !== undefined) telemetry.revocation('refresh_token', refreshToken);
  if (tokens.accessToken !== undefined) telemetry.revocation('access_token', accessToken);
  return { accessToken, refreshToken };
}
