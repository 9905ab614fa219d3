import { randomBytes } from 'node:crypto';
import { indexHashes } from '../../lib/session-index/hashed.js';
import { createLoginVault } from '../../lib/login/login-vault.js';
import { createSealer } from '../../lib/crypto/sealing.js';
import type { Login } from '../../lib/session/session.js';
import type pg from 'pg';
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

/** A seeded session's document: the real session's JSON with its own sub, sid, access token and expiry, sealed. */
function seededDocument(template: SessionTemplate, session: SeededSession, now: number): string {
  const { document, login } = template;
  return JSON.stringify({
    ...document,
    cookie: { ...document.cookie, expires: new Date(now + TTL_SEC * 1000).toISOString() },
    oidc: {
      ...document.oidc,
      login: vault.seal({
        ...login,
        user: { ...login.user, sub: session.sub },
        sid: session.sid,
        accessToken: randomBytes(32).toString('base64url'),
        loggedInAt: Math.floor(now / 1000),
      }),
    },
  });
}

function newSession(i: number): SeededSession {
  return { id: randomBytes(24).toString('base64url'), sub: `bc-user-${String(i)}`, sid: randomBytes(16).toString('base64url') };
}

/**
 * Writes sessions `from`..`to`-1 in the library's format on PostgreSQL, a bulk INSERT per
 * batch into each table: connect-pg-simple's `session` (sid, sess, expire) and
 * postgresSessionIndex's `oidc_index` (key, session_id, expires_at), with the keys
 * `sub:<issuer>:<hash of sub>` and `sid:<issuer>:<hash of sid>`.
 */
export async function fillPostgresSessions(
  pool: pg.Pool,
  template: SessionTemplate,
  issuer: string,
  from: number,
  to: number,
  out: SeededSession[],
): Promise<void> {
  for (let start = from; start < to; start += BATCH) {
    const now = Date.now();
    const expiresMs = now + TTL_SEC * 1000;
    const ids: string[] = [];
    const documents: string[] = [];
    const keys: string[] = [];
    const keyIds: string[] = [];
    for (let i = start; i < Math.min(to, start + BATCH); i++) {
      const session = newSession(i);
      ids.push(session.id);
      documents.push(seededDocument(template, session, now));
      keys.push(`sub:${issuer}:${indexHash(issuer, 'sub', session.sub)}`, `sid:${issuer}:${indexHash(issuer, 'sid', session.sid)}`);
      keyIds.push(session.id, session.id);
      out.push(session);
    }
    await Promise.all([
      pool.query(
        'INSERT INTO session (sid, sess, expire) SELECT id, doc, to_timestamp($3::double precision) FROM unnest($1::text[], $2::json[]) AS u(id, doc)',
        [ids, documents, expiresMs / 1000],
      ),
      pool.query(
        'INSERT INTO oidc_index (key, session_id, expires_at) SELECT k, id, to_timestamp($3::double precision) FROM unnest($1::text[], $2::text[]) AS u(k, id)',
        [keys, keyIds, expiresMs / 1000],
      ),
    ]);
  }
}

/**
 * Writes sessions `from`..`to`-1 in the library's format, pipelined: connect-redis
 * `sess:<id>` (JSON of the real session with its own sub, sid, access token and expiry, sealed) and
 * redisSessionIndex's sorted sets `oidc:sub:<issuer>:<hash of sub>` and `oidc:sid:<issuer>:<hash of sid>`
 * (member: the session id, score: its expiry in ms; the set expires with its member).
 */
export async function fillSessions(redis: Redis, template: SessionTemplate, issuer: string, from: number, to: number, out: SeededSession[]): Promise<void> {
  for (let start = from; start < to; start += BATCH) {
    const now = Date.now();
    const score = String(now + TTL_SEC * 1000);
    const ttlMs = String(TTL_SEC * 1000);
    const writes: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(to, start + BATCH); i++) {
      const session = newSession(i);
      const value = seededDocument(template, session, now);
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
