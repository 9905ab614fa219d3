import * as client from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { unavailable } from './provider.js';

/**
 * Text that came from the provider or the browser, made safe to put in a message that an
 * app may render: printable ASCII only, no markup characters, bounded length.
 */
export function sanitizeForMessage(value: unknown, max = 200): string {
  if (typeof value !== 'string') return '';
   
  const clean = value.replace(/[^\x20-\x7e]|[<>&"'`]/g, '').trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

const JWT_LIKE = /eyJ[\w-]{4,}/;

function isNetworkFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return true;
  if (err instanceof TypeError && err.message === 'fetch failed') return true;
  if (err instanceof client.ResponseBodyError) return err.status >= 500;
  if (err instanceof client.ClientError && err.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
    const res: unknown = err.cause;
    return res instanceof Response && res.status >= 500;
  }
  return false;
}

/** Translates what openid-client throws during a login into a typed 4xx, or a 503 when the provider is unreachable. */
export function translateCallbackError(err: unknown): OidcAuthError {
  if (err instanceof OidcAuthError) return err;
  if (isNetworkFailure(err)) return unavailable('token request failed', err);
  if (err instanceof client.AuthorizationResponseError) return authorizationError(err.error, err.error_description, err);
  if (err instanceof client.ResponseBodyError) {
    return new OidcAuthError(OidcAuthErrorCode.CALLBACK_INVALID, 400, `The provider refused the authorization code (${sanitizeForMessage(err.error, 60)}). Start the login again.`, { cause: err });
  }
  const detail = err instanceof Error && !JWT_LIKE.test(err.message) ? `: ${sanitizeForMessage(err.message)}` : '';
  return new OidcAuthError(OidcAuthErrorCode.CALLBACK_INVALID, 400, `The login response failed validation${detail}. Start the login again.`, { cause: err });
}

/** The provider answered the authorization request with an error (RFC 6749 §4.1.2.1). */
export function authorizationError(error: unknown, description: unknown, cause?: unknown): OidcAuthError {
  const code = sanitizeForMessage(error, 60) || 'unknown_error';
  const text = sanitizeForMessage(description);
  const status = code === 'access_denied' ? 403 : 400;
  return new OidcAuthError(OidcAuthErrorCode.AUTHORIZATION_ERROR, status, `The identity provider did not log you in: ${code}${text === '' ? '' : ` (${text})`}.`, {
    cause,
    providerError: code,
  });
}
