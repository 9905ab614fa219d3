import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { lateServer, type LateServer } from './late-server.js';

/**
 * A hand-written OpenID provider for the test suite only (never shipped): just enough of
 * discovery, JWKS, authorization, token and userinfo to log a user in with real RS256 JWTs,
 * and a `behaviour` each test sets to make it lie in one precise way. oidc-provider is
 * certified and will not forge a bad token; this one does whatever the test asks.
 */

/** The provider's current signing key. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** One authorization request as the provider saw it. */
export interface AuthorizationRecord {
  readonly params: URLSearchParams;
  readonly code: string;
}

/** What one token response handed out: the secrets an error page must never echo. */
export interface Issued {
  readonly code: string;
  readonly idToken: string;
  readonly accessToken: string;
}

export interface HostileBehaviour {
  /** the discovery document, changed (an issuer that is not the provider's own…) */
  discovery?: (doc: Record<string, unknown>) => Record<string, unknown>;
  /** the redirect back to the app, changed in place (another `iss`, an `error`…) */
  authorizationResponse?: (params: URLSearchParams) => void;
  /** the ID token's claims, changed (return a new object; delete to omit a claim) */
  idTokenClaims?: (claims: JWTPayload) => JWTPayload;
  /** signs the ID token another way (other key, alg none, HS256…); default RS256 with the current key */
  signIdToken?: (claims: JWTPayload, provider: HostileProvider) => Promise<string>;
  /** the JWKS endpoint fails with this HTTP status */
  jwksStatus?: number;
  /** the keys the JWKS endpoint publishes, changed (return a new array: extra keys, kids removed…); default the current key only */
  jwks?: (keys: JWK[]) => JWK[];
  /** the userinfo answer, changed */
  userinfo?: (info: Record<string, unknown>) => Record<string, unknown>;
}

export interface HostileProviderOptions {
  clientId: string;
  clientSecret: string;
  /** how the token endpoint reads HTTP Basic credentials: form-urldecoded (the default, RFC 6749), or as they come ('none', as many deployed providers do) */
  basicDecoding?: 'form' | 'none';
  /** how the token endpoint refuses wrong client credentials; default 401 { error: 'invalid_client' } */
  clientRefusal?: { status: number; error: string; challenge?: string };
  redirectUri: string;
  /** the user the provider logs in; default `alice` */
  sub?: string;
}

export interface HostileProvider {
  readonly issuer: string;
  readonly server: LateServer;
  /** the key tokens are signed with by default, and the only one the JWKS publishes unless `behaviour.jwks` says otherwise */
  readonly key: SigningKey;
  /** how to misbehave from now on (replaces what was set before) */
  misbehave(behaviour: HostileBehaviour): void;
  /** abrupt key rotation: a new key with a new kid signs from now on, and the JWKS lists only it */
  rotateKey(): Promise<SigningKey>;
  /** how many times each endpoint was called */
  readonly served: { discovery: number; jwks: number; authorization: number; token: number; userinfo: number };
  readonly authorizations: readonly AuthorizationRecord[];
  /** every token response, in order */
  readonly issued: readonly Issued[];
  close(): Promise<void>;
}

async function signingKeyOf({ privateKey, publicKey }: CryptoKeyPair, kid: string): Promise<SigningKey> {
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** A new RSA key (a forger's, an unpublished one, the next one of a rotation): never one a provider already holds. */
export async function newSigningKey(kid: string = `key-${randomUUID()}`): Promise<SigningKey> {
  return signingKeyOf(await generateKeyPair('RS256', { extractable: true }), kid);
}

let firstKeyPair: Promise<CryptoKeyPair> | undefined;

/**
 * A provider's first key: one RSA key pair per process (generating one costs 100-300 ms of
 * CPU, and most tests start their own provider), under a new kid for each provider. Each
 * test's app trusts only its own provider; a test that needs a key the provider does not
 * hold gets one from newSigningKey() or rotateKey().
 */
async function firstSigningKey(): Promise<SigningKey> {
  firstKeyPair ??= generateKeyPair('RS256', { extractable: true });
  return signingKeyOf(await firstKeyPair, `key-${randomUUID()}`);
}

/** Signs as the provider would, with the given key (and header extras such as another kid). */
export function signRs256(claims: JWTPayload, key: SigningKey, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

/** Signs RS256 with the given key and no `kid` in the header, leaving the app to pick the key from the JWKS. */
export function signRs256WithoutKid(claims: JWTPayload, key: SigningKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(key.privateKey);
}

/** A public JWK as published without its `kid`. */
export function withoutKid(jwk: JWK): JWK {
  return Object.fromEntries(Object.entries(jwk).filter(([name]) => name !== 'kid'));
}

/** An unsigned JWT (alg none), built by hand: jose refuses to make one. */
export function unsignedJwt(claims: JWTPayload): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** An HS256 JWT keyed by a shared secret: what an attacker who knows the client secret can make. */
export function signHs256(claims: JWTPayload, secret: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * client_secret_basic: both parts form-urlencoded before base64 (RFC 6749 section 2.3.1).
 * `decode: false` reads them as they come, as many deployed providers do.
 */
function basicCredentials(header: string | undefined, decode: boolean): { id: string; secret: string } | undefined {
  const encoded = /^Basic (.+)$/i.exec(header ?? '')?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const unform = (text: string): string => (decode ? decodeURIComponent(text.replace(/\+/g, ' ')) : text);
  return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export async function startHostileProvider(options: HostileProviderOptions): Promise<HostileProvider> {
  const server = await lateServer();
  const issuer = server.url;
  const sub = options.sub ?? 'alice';
  let key = await firstSigningKey();
  let behaviour: HostileBehaviour = {};
  const served = { discovery: 0, jwks: 0, authorization: 0, token: 0, userinfo: 0 };
  const authorizations: AuthorizationRecord[] = [];
  const pendingCodes = new Map<string, URLSearchParams>();
  const accessTokens = new Set<string>();
  const issued: Issued[] = [];

  const discoveryDocument = (): Record<string, unknown> => ({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/userinfo`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
  });

  function authorize(url: URL, res: ServerResponse): void {
    served.authorization++;
    const params = url.searchParams;
    if (params.get('client_id') !== options.clientId || params.get('redirect_uri') !== options.redirectUri) {
      json(res, 400, { error: 'invalid_request', error_description: 'unknown client or redirect_uri' });
      return;
    }
    const code = randomBytes(24).toString('base64url');
    pendingCodes.set(code, params);
    authorizations.push({ params, code });
    const answer = new URLSearchParams({ code, iss: issuer });
    const state = params.get('state');
    if (state !== null) answer.set('state', state);
    behaviour.authorizationResponse?.(answer);
    res.writeHead(302, { location: `${options.redirectUri}?${answer.toString()}` });
    res.end();
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    served.token++;
    const credentials = basicCredentials(req.headers.authorization, options.basicDecoding !== 'none');
    if (credentials === undefined || !sameText(credentials.id, options.clientId) || !sameText(credentials.secret, options.clientSecret)) {
      const refusal = options.clientRefusal ?? { status: 401, error: 'invalid_client' };
      if (refusal.challenge !== undefined) res.setHeader('www-authenticate', refusal.challenge);
      json(res, refusal.status, { error: refusal.error });
      return;
    }
    const form = new URLSearchParams(await readBody(req));
    const code = form.get('code') ?? '';
    const authorization = pendingCodes.get(code);
    // One-time codes, bound to the redirect_uri and the PKCE challenge, as a real provider does.
    pendingCodes.delete(code);
    const verifier = form.get('code_verifier');
    if (
      authorization === undefined ||
      form.get('grant_type') !== 'authorization_code' ||
      form.get('redirect_uri') !== options.redirectUri ||
      verifier === null ||
      s256(verifier) !== authorization.get('code_challenge')
    ) {
      json(res, 400, { error: 'invalid_grant' });
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const nonce = authorization.get('nonce');
    const standard: JWTPayload = {
      iss: issuer,
      aud: options.clientId,
      sub,
      iat: now,
      exp: now + 300,
      name: 'Alice Example',
      ...(nonce === null ? {} : { nonce }),
    };
    const claims = behaviour.idTokenClaims?.(standard) ?? standard;
    const idToken = await (behaviour.signIdToken?.(claims, provider) ?? signRs256(claims, key));
    const accessToken = randomBytes(24).toString('base64url');
    accessTokens.add(accessToken);
    issued.push({ code, idToken, accessToken });
    json(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 300, id_token: idToken, scope: authorization.get('scope') ?? 'openid' });
  }

  function userinfo(req: IncomingMessage, res: ServerResponse): void {
    served.userinfo++;
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === undefined || !accessTokens.has(bearer)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
      res.end();
      return;
    }
    const info = { sub, name: 'Alice Example', email: `${sub}@example.test` };
    json(res, 200, behaviour.userinfo?.(info) ?? info);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', issuer);
    switch (`${req.method ?? 'GET'} ${url.pathname}`) {
      case 'GET /.well-known/openid-configuration': {
        served.discovery++;
        const doc = discoveryDocument();
        json(res, 200, behaviour.discovery?.(doc) ?? doc);
        return;
      }
      case 'GET /jwks':
        served.jwks++;
        if (behaviour.jwksStatus !== undefined) json(res, behaviour.jwksStatus, { error: 'server_error' });
        else json(res, 200, { keys: behaviour.jwks?.([key.publicJwk]) ?? [key.publicJwk] });
        return;
      case 'GET /authorize':
        authorize(url, res);
        return;
      case 'POST /token':
        await token(req, res);
        return;
      case 'GET /userinfo':
        userinfo(req, res);
        return;
      default:
        json(res, 404, { error: 'not_found' });
    }
  }

  server.setHandler((req, res) => {
    handle(req, res).catch((err: unknown) => {
      json(res, 500, { error: 'server_error', error_description: err instanceof Error ? err.message : String(err) });
    });
  });

  const provider: HostileProvider = {
    issuer,
    server,
    get key() {
      return key;
    },
    misbehave(next) {
      behaviour = next;
    },
    async rotateKey() {
      key = await newSigningKey();
      return key;
    },
    served,
    authorizations,
    issued,
    close: () => server.close(),
  };
  return provider;
}
