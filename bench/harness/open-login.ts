import { createLoginVault } from '../../lib/login/login-vault.js';
import { createSealer } from '../../lib/crypto/sealing.js';
import type { Login, StoredLogin } from '../../lib/session/session.js';

/**
 * Opens the sealed login of an express-oidc-auth session read from Redis, with the session
 * secret the benchmark gave the server: the bench needs the tokens (to revoke them alone) and
 * the plain login (to seed express-session alone with what an app would store unsealed).
 */
export function openStoredLogin(document: string, secret: string): Login {
  const parsed = JSON.parse(document) as { oidc?: { login?: StoredLogin } };
  const stored = parsed.oidc?.login;
  if (stored === undefined) throw new Error('the session holds no login');
  const login = createLoginVault(createSealer(secret)).open(stored);
  if (login === undefined) throw new Error('the stored login does not open with the bench session secret');
  return login;
}
