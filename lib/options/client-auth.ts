import { got, type Problems } from './checks.js';
import type { ClientAuthMethod } from './options.js';
import { kind } from './secrets.js';
import { isRecord } from '../values.js';

const AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];

function isAuthMethod(value: unknown): value is ClientAuthMethod {
  return AUTH_METHODS.some((m) => m === value);
}

/** How the client authenticates at the provider, checked against the secret and key it was given. */
export function checkClientAuth(input: Record<string, unknown>, problems: Problems): ClientAuthMethod {
  const secret = input['clientSecret'];
  const key = input['clientPrivateKey'];
  // kind(), never got(): the secret and the key must not appear in a message
  if (secret !== undefined && (typeof secret !== 'string' || secret === '')) problems.push(`"clientSecret" must be a non-empty string (got ${kind(secret)})`);
  if (key !== undefined && !(isRecord(key) && key['key'] instanceof CryptoKey && (key['kid'] === undefined || typeof key['kid'] === 'string'))) {
    problems.push(`"clientPrivateKey" must be { key: CryptoKey, kid?: string }, imported with crypto.subtle.importKey or jose importJWK (got ${kind(key)})`);
  }
  const fallback: ClientAuthMethod = secret !== undefined ? 'client_secret_basic' : key !== undefined ? 'private_key_jwt' : 'none';
  const given = input['clientAuthMethod'];
  // `clientSecret: process.env.CLIENT_SECRET` with the variable unset would silently make a
  // public client, and the login would fail only after the user signed in at the provider.
  if ('clientSecret' in input && secret === undefined && key === undefined && given === undefined) {
    problems.push(
      '"clientSecret" is present but undefined (an unset environment variable?): give the secret, or for a public client leave it out or set clientAuthMethod "none"',
    );
  }
  const method = given ?? fallback;
  if (!isAuthMethod(method)) {
    problems.push(`"clientAuthMethod" must be one of ${AUTH_METHODS.map((m) => `"${m}"`).join(', ')} (got ${got(method)})`);
    return fallback;
  }
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && secret === undefined) {
    problems.push(`"clientSecret" is required for clientAuthMethod "${method}"`);
  }
  if (method === 'private_key_jwt' && key === undefined) problems.push('"clientPrivateKey" is required for clientAuthMethod "private_key_jwt"');
  // a credential the chosen method never sends is a sign of a mix-up, not something to ignore silently
  if (secret !== undefined && (method === 'none' || method === 'private_key_jwt')) {
    problems.push(`"clientSecret" is set but clientAuthMethod is "${method}", which does not use it: remove one of them`);
  }
  if (key !== undefined && method !== 'private_key_jwt') {
    const defaulted = given === undefined ? ' (the default when clientSecret is set)' : '';
    problems.push(
      `"clientPrivateKey" is set but clientAuthMethod is "${method}"${defaulted}, which does not use it: remove one of them or use "private_key_jwt"`,
    );
  }
  return method;
}

/**
 * Reads the options once, collects every problem, and throws one OidcAuthError listing them
 * all. Builds nothing: what it returns is frozen data and the app's own values as given, from
 * which createInstance builds the services.
 */
