import { randomBytes } from 'node:crypto';
import type { Redis } from '../harness/redis.js';

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
  document: { cookie: Record<string, unknown>; oidc: { login: Record<string, unknown> } & Record<string, unknown> };
}

/**
 * Writes sessions `from`..`to`-1 in the library's format, pipelined: connect-redis
 * `sess:<id>` (JSON of the real session with its own sub, sid, access token and expiry) and
 * redisSessionIndex's sorted sets `oidc:sub:<issuer>:<sub>` and `oidc:sid:<issuer>:<sid>`
 * (member: the session id, score: its expiry in ms; the set expires with its member).
 */
export async function fillSessions(redis: Redis, template: SessionTemplate, issuer: string, from: number, to: number, out: SeededSession[]): Promise<void> {
  const { document } = template;
  const login = document.oidc.login;
  const user = login['user'] as Record<string, unknown>;
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
        oidc: { ...document.oidc, login: { ...login, user: { ...user, sub: session.sub }, sid: session.sid, accessToken: randomBytes(32).toString('base64url'), loggedInAt: Math.floor(now / 1000) } },
      });
      const subKey = `oidc:sub:${issuer}:${session.sub}`;
      const sidKey = `oidc:sid:${issuer}:${session.sid}`;
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
