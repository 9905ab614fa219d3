const MIN_SECRET_LENGTH = 32;

type Problems = string[];

/** The kind of a value that may hold a secret (a client secret, a session secret): never its content. */
export function kind(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'an empty string' : `a string of ${String(value.length)} characters`;
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function checkSecret(value: unknown, name: string, problems: Problems): readonly string[] {
  const secrets: unknown[] = Array.isArray(value) ? value : [value];
  const bad = secrets.findIndex((s) => typeof s !== 'string' || s.length < MIN_SECRET_LENGTH);
  if (secrets.length === 0 || bad !== -1) {
    // the secret itself is never echoed, only its kind and length
    const gotSecret = Array.isArray(value) && value.length > 0 ? `an array whose entry ${String(bad)} is ${kind(secrets[bad])}` : kind(value);
    problems.push(
      `"${name}" must be a random string of at least ${String(MIN_SECRET_LENGTH)} characters, or an array of them (newest first) (got ${gotSecret})`,
    );
    return [];
  }
  return secrets as string[];
}

/**
 * The keys of the package's own cookies and of what it keeps in the store: `secret`, else
 * `session.secret`. Newest first: the first seals, all open, so a rotation logs nobody out.
 * With `session: false` the session secret is the app's own, so `secret` is required.
 */
export function resolveSecrets(secret: unknown, session: unknown, problems: Problems): readonly string[] {
  const sessionSecret = typeof session === 'object' && session !== null && !Array.isArray(session) ? (session as Record<string, unknown>)['secret'] : undefined;
  if (secret !== undefined) {
    const own = checkSecret(secret, 'secret', problems);
    if (sessionSecret !== undefined) checkSecret(sessionSecret, 'session.secret', problems);
    return own;
  }
  if (session === false) {
    problems.push(
      '"secret" is required with "session: false": a random string of at least 32 characters (or an array, newest first) that keys the login cookies and the encryption of tokens at rest',
    );
    return [];
  }
  if (typeof session !== 'object' || session === null) return [];
  return checkSecret(sessionSecret, 'session.secret', problems);
}
