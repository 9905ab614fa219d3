import { randomUUID } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
import { CLIENT_ID } from './app.js';
import { SIGNING_KID, type TestProvider } from './provider.js';

export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** The claims oidc-provider would put in a logout token for this session. */
export function logoutClaims(op: TestProvider, sub: string, sid: string | undefined): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: op.issuer,
    aud: CLIENT_ID,
    iat: now,
    exp: now + 120,
    jti: randomUUID(),
    sub,
    ...(sid === undefined ? {} : { sid }),
    events: { [BACKCHANNEL_EVENT]: {} },
  };
}

export interface ForgeOptions {
  header?: Record<string, unknown>;
  key?: CryptoKey | Uint8Array;
  alg?: string;
}

/** Signs claims as the provider would (its own key and kid), unless told otherwise. */
export async function signLogoutToken(op: TestProvider, claims: JWTPayload, options: ForgeOptions = {}): Promise<string> {
  const alg = options.alg ?? 'RS256';
  return new SignJWT(claims).setProtectedHeader({ alg, kid: SIGNING_KID, typ: 'logout+jwt', ...options.header }).sign(options.key ?? op.signingKey);
}

/** An unsigned JWT (alg none), built by hand: jose refuses to make one. */
export function unsignedToken(claims: JWTPayload): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'logout+jwt' })}.${part(claims)}.`;
}

export async function otherRsaKey(): Promise<CryptoKey> {
  return (await generateKeyPair('RS256')).privateKey;
}

export function sidOf(idToken: string): string | undefined {
  const sid = decodeJwt(idToken)['sid'];
  return typeof sid === 'string' ? sid : undefined;
}

export async function postLogoutToken(appUrl: string, token: string, contentType = 'application/x-www-form-urlencoded'): Promise<Response> {
  return fetch(`${appUrl}/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: new URLSearchParams({ logout_token: token }).toString(),
  });
}

/** The same key material, usable with another algorithm (to sign with a valid key but the wrong alg). */
export async function asAlg(key: CryptoKey, alg: string): Promise<CryptoKey> {
  return (await importJWK(await exportJWK(key), alg)) as CryptoKey;
}
