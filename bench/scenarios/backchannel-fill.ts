import { randomBytes } from 'node:crypto';
import { indexHashes } from '../../lib/session-index/hashed.js';
import { createLoginVault } from '../../lib/session/login-vault.js';
import { createSealer } from '../../lib/session/sealing.js';
import type { Login } from '../../lib/session/session.js';
import type { Redis } from '../harness/redis.js';
import { SESSION_SECRET } from '../harness/topology.js';

/** One seeded session: what a back-channel logout token names. */
export interface SeededSession {
  id: string;
  sub: string;
  sid: string;
}

const TTL_SEC = 24 * 60 * 60;
const BATCH = 1000;

export interface SessionTemplate {
  /** the session document of a real login, as connect-redis stored it */
  document: { cookie: Record<string, unknown>; oidc: Record<string, unknown> };
  /** its login, opened */
  login: Login;
}

// The library seals the login and hashes the index keys with the session secret: so does the fill.
const sealer = createSealer(SESSION_SECRET);
const vault = createLoginVault(sealer);
const indexHash = (issuer: string, kind: 'sub' | 'sid', value: string): string => indexHashes(sealer, issuer, kind, value)[0] ?? '';

/**
 * Writes sessions `from`..`to`-1 in the library's format, pipelined: connect-redis
 * `sess:<id>` (JSON of the real session with its own sub, sid, access token and expiry, sealed) and
 * redisSessionIndex's sorted sets `oidc:sub:<issuer>:<hash of sub>` and `oidc:sid:<issuer>:<hash of sid>`
 * (member: the session id, score: its expiry in ms; the set expires with its member).
 */
export async function fillSessions(redis: Redis, template: SessionTemplate, issuer: string, from: number, to: number, out: SeededSession[]): Promise<void> {
  const { document, login } = template;
  for (let start = from; start < to; start += BATCH) {
    const now = Date.now();
    const expires = new Date(now + TTL_SEC * 1000).toISOString();
    const score = String(now + TTL_SEC * 1000);
    const ttlMs = String(TTL_SEC * 1000);
    const writes: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(to, start + BATCH); i++) {
      const session: SeededSession = { id: randomBytes(24).toString('base64url'), sub: `bc-user-${String(i)}`, sid: randomBytes(16).toString('base64url') };
      const value = JSON.stringify({
        ...document,
        cookie: { ...document.cookie, expires },
        oidc: { ...document.oidc, login: vault.seal({ ...login, user: { ...login.user, sub: session.sub }, sid: session.sid, accessToken: randomBytes(32).toString('base64url'), loggedInAt: Math.floor(now / 1000) }) },
      });
      const subKey = `oidc:sub:${issuer}:${indexHash(issuer, 'sub', session.sub)}`;
      const sidKey = `oidc:sid:${issuer}:${indexHash(issuer, 'sid', session.sid)}`;
      writes.push(
        redis.sendCommand(['SET', `sess:${session.id}`, value, 'EX', String(TTL_SEC)]),
        redis.sendCommand(['ZADD', subKey, score, session.id]),
        redis.sendCommand(['PEXPIRE', subKey, ttlMs]),
        redis.sendCommand(['ZADD', sidKey, score, session.id]),
        redis.sendCommand(['PEXPIRE', sidKey, ttlMs]),
      );
      out.push(session);
    }
    // node-redis writes the commands of one tick together: one pipeline per batch.
    await Promise.all(writes);
  }
}
