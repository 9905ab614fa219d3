import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import { lateServer, type LateServer } from './late-server.js';
import type { TestProvider } from './provider.js';

/** What the resource server saw of one request. */
export interface ResourceCall {
  ok: boolean;
  /** why it was refused */
  reason?: string;
  jkt?: string;
}

export interface DpopResource {
  readonly url: string;
  readonly calls: ResourceCall[];
  close(): Promise<void>;
}

/**
 * A resource server that accepts only DPoP-bound access tokens (RFC 9449 section 7): the
 * Authorization scheme DPoP, a proof signed with the key in its header for this method and
 * URL, with `ath` the token's hash, and the provider's own view (introspection) that the
 * token is active and bound (`cnf.jkt`) to that key.
 */
export async function startDpopResource(op: TestProvider): Promise<DpopResource> {
  const server: LateServer = await lateServer();
  const calls: ResourceCall[] = [];
  const check = async (req: IncomingMessage): Promise<ResourceCall> => {
    const token = /^DPoP (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined) return { ok: false, reason: 'not a DPoP authorization' };
    const proof = req.headers['dpop'];
    if (typeof proof !== 'string') return { ok: false, reason: 'no proof' };
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'PS256', 'RS256', 'EdDSA'] });
    const htu = `${server.url}${(req.url ?? '/').split('?')[0] ?? '/'}`;
    if (payload['htm'] !== req.method || payload['htu'] !== htu) return { ok: false, reason: 'proof for another request' };
    if (payload['ath'] !== createHash('sha256').update(token).digest('base64url')) return { ok: false, reason: 'proof for another token' };
    if (typeof payload.iat !== 'number' || Math.abs(Date.now() / 1000 - payload.iat) > 60) return { ok: false, reason: 'stale proof' };
    if (protectedHeader.jwk === undefined) return { ok: false, reason: 'no key in the proof' };
    const jkt = await calculateJwkThumbprint(protectedHeader.jwk);
    const introspection = await op.introspect(token);
    const cnf = introspection['cnf'] as { jkt?: unknown } | undefined;
    if (!introspection.active) return { ok: false, reason: 'inactive token' };
    if (cnf?.jkt !== jkt) return { ok: false, reason: 'token bound to another key' };
    return { ok: true, jkt };
  };
  server.setHandler((req: IncomingMessage, res: ServerResponse) => {
    check(req).then(
      (call) => {
        calls.push(call);
        res.writeHead(call.ok ? 200 : 401, { 'content-type': 'application/json', ...(call.ok ? {} : { 'www-authenticate': 'DPoP error="invalid_token"' }) });
        res.end(JSON.stringify(call));
      },
      (err: unknown) => {
        calls.push({ ok: false, reason: String(err) });
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, reason: 'bad proof' }));
      },
    );
  });
  return { url: server.url, calls, close: () => server.close() };
}
