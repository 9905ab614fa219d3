import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import express from 'express';
import session from 'express-session';
import { oidcAuth } from '../lib/index.js';
import { capturingLogger, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET } from './helpers/app.js';

/** The start-up warnings of an app built with these session options under this NODE_ENV (discovery is lazy: no provider needed). */
function warningsAt(nodeEnv: string | undefined, sessionOptions: { store?: session.Store }): string[] {
  if (nodeEnv === undefined) Reflect.deleteProperty(process.env, 'NODE_ENV');
  else process.env['NODE_ENV'] = nodeEnv;
  const { lines, logger } = capturingLogger();
  express().use(
    oidcAuth({
      issuer: 'https://idp.example.com',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      baseUrl: 'https://app.example.com',
      session: { secret: SESSION_SECRET, ...sessionOptions },
      logger,
    }),
  );
  return lines.filter((l) => l.level === 'warn' && /NODE_ENV/.test(l.message)).map((l) => l.message);
}

describe('start-up warning: production without a session store', () => {
  const before = process.env['NODE_ENV'];
  afterEach(() => {
    if (before === undefined) Reflect.deleteProperty(process.env, 'NODE_ENV');
    else process.env['NODE_ENV'] = before;
  });

  test('NODE_ENV=production and no store: one warning naming connect-redis and redisSessionIndex', () => {
    const warnings = warningsAt('production', {});
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /connect-redis/);
    assert.match(warnings[0] ?? '', /redisSessionIndex/);
    assert.match(warnings[0] ?? '', /connect-pg-simple/);
    assert.match(warnings[0] ?? '', /postgresSessionIndex/);
  });

  test('NODE_ENV=production with a store given: no such warning', () => {
    assert.deepEqual(warningsAt('production', { store: new session.MemoryStore() }), []);
  });

  test('outside production, no store: no such warning', () => {
    assert.deepEqual(warningsAt('development', {}), []);
    assert.deepEqual(warningsAt(undefined, {}), []);
  });
});
