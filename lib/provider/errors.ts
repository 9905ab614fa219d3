import * as client from 'openid-client';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';
import { isRecord } from '../values.js';

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

export function unavailable(what: string, cause: unknown): OidcAuthError {
  return new OidcAuthError(OidcAuthErrorCode.PROVIDER_UNAVAILABLE, 503, `The identity provider could not be reached (${what}); try again shortly.`, { cause });
}

/**
 * The discovery document names another issuer than the configured one: openid-client refuses
 * it (a provider must not speak for another, OpenID Connect Discovery 4.3). Said plainly, since
 * "could not be reached" would send the operator looking at the network instead of the option.
 */
export function translateDiscoveryError(err: unknown, expected: URL): OidcAuthError {
  // openid-client puts { expected, body, attribute } in `cause` (oauth4webapi one level deeper).
  const inner: unknown = err instanceof client.ClientError ? err.cause : undefined;
  const details: unknown = inner instanceof Error ? inner.cause : inner;
  if (err instanceof client.ClientError && err.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' && isRecord(details) && details['attribute'] === 'issuer') {
    const body = details['body'];
    const got = sanitizeForMessage(isRecord(body) ? body['issuer'] : undefined, 120);
    return new OidcAuthError(
      OidcAuthErrorCode.PROVIDER_UNAVAILABLE,
      503,
      `The identity provider's discovery document names issuer ${got === '' ? '(unreadable)' : got}, but the "issuer" option is ${expected.href}: the issuer mismatched, so its metadata is refused. Set "issuer" to exactly the provider's issuer (trailing slash included).`,
      { cause: err },
    );
  }
  const url = discoveryUrl(expected);
  const status = httpStatusOf(err);
  if (status !== undefined && status < 500) {
    // A 404 is nearly always a wrong issuer (a realm or tenant typo), not an outage: say which URL, and what to fix.
    return new OidcAuthError(
      OidcAuthErrorCode.PROVIDER_UNAVAILABLE,
      503,
      `The identity provider's discovery document at ${url} answered HTTP ${String(status)}${status === 404 ? ': check the "issuer" option (a typo in the realm or tenant name?)' : ''}.`,
      { cause: err },
    );
  }
  if (status !== undefined) return unavailable(`discovery at ${url} answered HTTP ${String(status)}`, err);
  return unavailable(`no answer from ${url}`, err);
}

/** Where openid-client looks for the metadata of this issuer (OpenID Connect Discovery 4). */
function discoveryUrl(issuer: URL): string {
  return `${issuer.href.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/** The HTTP status of a provider answer that openid-client refused, when there was an answer at all. */
function httpStatusOf(err: unknown): number | undefined {
  if (err instanceof client.ResponseBodyError) return err.status;
  const cause: unknown = err instanceof client.ClientError ? err.cause : undefined;
  if (cause instanceof Response) return cause.status;
  // oauth4webapi's OperationProcessingError, one level deeper, carries the Response too
  const inner: unknown = cause instanceof Error ? cause.cause : undefined;
  return inner instanceof Response ? inner.status : undefined;
}

/**
 * openid-client wraps oauth4webapi's precise reason ('unexpected ID Token "nonce" claim value')
 * in a generic one ('unexpected JWT claim value encountered'); the precise one is a fixed text
 * that names the claim, never its value, so it is the one worth showing.
 */
function reasonOf(err: Error): string {
  const inner: unknown = err instanceof client.ClientError ? err.cause : undefined;
  return inner instanceof Error && inner.name === 'OperationProcessingError' ? inner.message : err.message;
}

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

/** Token endpoint answers that mean the app's own credentials were refused, not the user's code. */
const CLIENT_AUTH_ERRORS = new Set(['invalid_client', 'unauthorized_client']);

/**
 * The provider refused the app itself (invalid_client, unauthorized_client, or a 401 with a
 * WWW-Authenticate challenge): no retry and no new login helps, the operator must fix the
 * client's credentials. Say so, and what the provider accepts.
 */
function clientAuthenticationFailed(
  err: unknown,
  method: string | undefined,
  supported: readonly string[] | undefined,
  endpoint = 'token endpoint',
): OidcAuthError | undefined {
  let reason: string | undefined;
  if (err instanceof client.WWWAuthenticateChallengeError) reason = 'a 401 challenge';
  else if (err instanceof client.ResponseBodyError && CLIENT_AUTH_ERRORS.has(err.error)) reason = err.error;
  if (reason === undefined) return undefined;
  const accepted =
    supported === undefined || supported.length === 0
      ? 'it does not say which methods it supports'
      : `it supports: ${supported.map((m) => sanitizeForMessage(m, 40)).join(', ')}`;
  return new OidcAuthError(
    OidcAuthErrorCode.CONFIG_INVALID,
    500,
    `The identity provider refused the app's client authentication (${reason}) at its ${endpoint}: check "clientId", "clientSecret" and "clientAuthMethod"${method === undefined ? '' : ` (now ${method})`}; ${accepted}.`,
    { cause: err },
  );
}

/** What the callback knows of the client's authentication, for a refusal that names the fix. */
export interface ClientAuthContext {
  method?: string | undefined;
  /** the provider's token_endpoint_auth_methods_supported */
  supported?: readonly string[] | undefined;
  /** whether the app sent a DPoP proof (the `dpop` option) */
  dpop?: boolean;
  /** whether the provider's metadata says it supports DPoP (dpop_signing_alg_values_supported) */
  dpopSupported?: boolean;
}

/** Translates what openid-client throws during a login into a typed 4xx, or a 503 when the provider is unreachable. */
export function translateCallbackError(err: unknown, auth: ClientAuthContext = {}): OidcAuthError {
  if (err instanceof OidcAuthError) return err;
  if (isNetworkFailure(err)) return unavailable('token request failed', err);
  if (err instanceof client.AuthorizationResponseError) return authorizationError(err.error, err.error_description, err);
  const refusedClient = clientAuthenticationFailed(err, auth.method, auth.supported);
  if (refusedClient !== undefined) return refusedClient;
  // A provider that binds this client's tokens (RFC 9449 dpop_bound_access_tokens) refuses a token request without a proof.
  if (err instanceof client.ResponseBodyError && auth.dpop === false && (err.error === 'invalid_dpop_proof' || /\bdpop\b/i.test(err.error_description ?? ''))) {
    return new OidcAuthError(
      OidcAuthErrorCode.CONFIG_INVALID,
      500,
      `The provider requires DPoP-bound tokens for this client (${sanitizeForMessage(err.error, 60)}): set "dpop: true".`,
      { cause: err },
    );
  }
  if (err instanceof client.ResponseBodyError) {
    // Some providers (oidc-provider) answer a missing proof with a bare invalid_grant: say what it may mean.
    const hint =
      auth.dpop === false && auth.dpopSupported === true && err.error === 'invalid_grant'
        ? ' If the provider binds this client\'s tokens with DPoP, set "dpop: true".'
        : '';
    return new OidcAuthError(
      OidcAuthErrorCode.CALLBACK_INVALID,
      400,
      `The provider refused the authorization code (${sanitizeForMessage(err.error, 60)}). Start the login again.${hint}`,
      { cause: err },
    );
  }
  const reason = err instanceof Error ? reasonOf(err) : '';
  const detail = reason !== '' && !JWT_LIKE.test(reason) ? `: ${sanitizeForMessage(reason)}` : '';
  return new OidcAuthError(OidcAuthErrorCode.CALLBACK_INVALID, 400, `The login response failed validation${detail}. Start the login again.`, { cause: err });
}

/**
 * Translates what openid-client throws at the pushed authorization request endpoint (RFC 9126):
 * unreachable is 503, a refused client names the options to check, any other refusal is the
 * provider's answer to the authorization request, as if it had come back to the callback.
 */
export function translatePushError(err: unknown, auth: ClientAuthContext = {}): OidcAuthError {
  if (err instanceof OidcAuthError) return err;
  if (isNetworkFailure(err)) return unavailable('pushed authorization request failed', err);
  const refusedClient = clientAuthenticationFailed(err, auth.method, auth.supported, 'pushed authorization request endpoint');
  if (refusedClient !== undefined) return refusedClient;
  if (err instanceof client.ResponseBodyError) return authorizationError(err.error, err.error_description, err);
  return unavailable('pushed authorization request failed', err);
}

/** Translates what openid-client throws from the userinfo endpoint: a bad answer is the provider's fault (502). */
export function translateUserInfoError(err: unknown): OidcAuthError {
  if (err instanceof OidcAuthError) return err;
  if (isNetworkFailure(err)) return unavailable('userinfo request failed', err);
  const reason = err instanceof Error ? reasonOf(err) : '';
  const detail = reason !== '' && !JWT_LIKE.test(reason) ? `: ${sanitizeForMessage(reason)}` : '';
  return new OidcAuthError(OidcAuthErrorCode.USERINFO_INVALID, 502, `The provider's userinfo answer was refused${detail}.`, { cause: err });
}

/** The provider answered the authorization request with an error (RFC 6749 §4.1.2.1). */
export function authorizationError(error: unknown, description: unknown, cause?: unknown): OidcAuthError {
  const code = sanitizeForMessage(error, 60) || 'unknown_error';
  const text = sanitizeForMessage(description);
  const status = code === 'access_denied' ? 403 : 400;
  return new OidcAuthError(
    OidcAuthErrorCode.AUTHORIZATION_ERROR,
    status,
    `The identity provider did not log you in: ${code}${text === '' ? '' : ` (${text})`}.`,
    {
      cause,
      providerError: code,
    },
  );
}
