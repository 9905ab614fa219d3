import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import type { LoginRequirements } from './login/login-transactions.js';
import { got } from './options/checks.js';
import { isRecord } from './values.js';

/** What requiresAuth() asks of the user's authentication beyond being logged in (step-up). */
export interface RequiresAuthOptions {
  /**
   * the `acr` (authentication context class) the login must have shown, or any one of
   * several, e.g. `'mfa'` or `['mfa', 'hwk']`; a user logged in otherwise is sent to the
   * provider with `acr_values`. Default: any
   */
  acr?: string | readonly string[];
  /**
   * seconds since the user last authenticated at the provider (`auth_time`); an older one
   * is sent to the provider with `max_age`. Default: any age
   */
  maxAge?: number;
}

/** An acr value goes into a space-separated parameter and a quoted header value: no spaces, quotes or controls. */
const ACR_SHAPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/;

/** The requirements, or undefined for a plain guard; throws OIDC_CONFIG_INVALID at the call for bad ones. */
export function checkRequiresAuthOptions(options: unknown): LoginRequirements | undefined {
  if (options === undefined) return undefined;
  const problems: string[] = [];
  if (!isRecord(options)) problems.push(`the options must be an object (got ${got(options)})`);
  const input = isRecord(options) ? options : {};
  for (const key of Object.keys(input)) if (key !== 'acr' && key !== 'maxAge') problems.push(`unknown option "${key}"`);
  const { acr, maxAge } = input;
  const list = typeof acr === 'string' ? [acr] : acr;
  const validAcr = list === undefined || (Array.isArray(list) && list.length > 0 && list.every((a) => typeof a === 'string' && ACR_SHAPE.test(a)));
  if (!validAcr) problems.push(`"acr" must be an acr value or a non-empty array of them, each without spaces or quotes (got ${got(acr)})`);
  const validMaxAge = maxAge === undefined || (typeof maxAge === 'number' && Number.isInteger(maxAge) && maxAge >= 0);
  if (!validMaxAge) problems.push(`"maxAge" must be a whole number of seconds, 0 or more (got ${got(maxAge)})`);
  if (problems.length > 0) throw new OidcAuthError(OidcAuthErrorCode.CONFIG_INVALID, 500, `requiresAuth(): ${problems.join('; ')}.`, { problems });
  const required: LoginRequirements = {};
  if (list !== undefined) required.acr = [...(list as readonly string[])];
  if (maxAge !== undefined) required.maxAge = maxAge as number;
  return list === undefined && maxAge === undefined ? undefined : required;
}
