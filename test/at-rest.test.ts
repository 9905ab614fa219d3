import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RedisStore } from 'connect-redis';
import { decodeJwt } from 'jose';
import { redisSessionIndex, type OidcAuthOptions } from '../lib/index.js';
import { indexHashes } from '../lib/session-index/hashed.js';
import { createLoginVault } from '../lib/login/login-vault.js';
import { createSealer } from '../lib/crypto/sealing.js';
import type { StoredLogin } from '../lib/session/session.js';
import { ACCEPT_JSON, assertLoggedInAs, jsonOf } from './helpers/assertions.js';
import { baseOptions, buildApp, clientFor, openStored, SESSION_SECRET } from './helpers/app.js';
import { Browser, login, type Page } from './helpers/browser.js';
import { lateServer, type LateServer } from './helpers/late-server.js';
import { logoutClaims, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';
import { sessionIdFromCookie, WITH_REFRESH_TOKEN } from './helpers/logout.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';
import { REDIS_SUITE_SKIP, startRedisWithClient, type RedisClient, type RedisServer } from './helpers/redis.js';

/** Sealing secrets of the rotation tests; the express-session cookie secret stays SESSION_SECRET everywhere. */
const OLD = 'old-sealing-secret-for-at-rest-tests-0123456789';
const NEW = 'new-sealing-secret-for-at-rest-tests-9876543210';

const SESSION_PREFIX = 'sess:';
const INDEX_PREFIX = 'oidc:';

interface Tokens {
  accessToken: string;
  idToken: string;
  refreshToken: string | undefined;
}

interface User {
  name: string;
  browser: Browser;
  sessionId: string;
  tokens: Tokens;
}

/** Every string in a raw redis reply (nested arrays, maps, numbers as text). */
function stringsOf(reply: unknown): string[] {
  if (reply === null || reply === undefined) return [];
  if (typeof reply === 'string') return [reply];
  if (typeof reply === 'number' || typeof reply === 'bigint' || typeof reply === 'boolean') return [String(reply)];
  if (Buffer.isBuffer(reply)) return [reply.toString('utf8'), reply.toString('latin1')];
  if (Array.isArray(reply)) return reply.flatMap(stringsOf);
  if (reply instanceof Map) return [...reply.entries()].flatMap(([k, v]) => [...stringsOf(k), ...stringsOf(v)]);
  if (typeof reply === 'object') return Object.entries(reply).flatMap(([k, v]) => [k, ...stringsOf(v)]);
  throw new Error(`unexpected redis reply of type ${typeof reply}`);
}

/** Every key of the redis database and everything it holds, read according to its type. */
async function dumpRedis(client: RedisClient): Promise<Map<string, string[]>> {
  const run = (args: string[]): Promise<unknown> => client.sendCommand(args);
  const keys: string[] = [];
  let cursor = '0';
  do {
    const reply = await run(['SCAN', cursor, 'COUNT', '1000']);
    assert.ok(Array.isArray(reply) && reply.length === 2, 'SCAN answers [cursor, keys]');
    cursor = String(reply[0]);
    keys.push(...stringsOf(reply[1]));
  } while (cursor !== '0');
  const dump = new Map<string, string[]>();
  for (const key of new Set(keys)) {
    const type = String(await run(['TYPE', key]));
    let content: unknown;
    switch (type) {
      case 'string':
        content = await run(['GET', key]);
        break;
      case 'zset':
        content = await run(['ZRANGE', key, '0', '-1', 'WITHSCORES']);
        break;
      case 'set':
        content = await run(['SMEMBERS', key]);
        break;
      case 'hash':
        content = await run(['HGETALL', key]);
        break;
      case 'list':
        content = await run(['LRANGE', key, '0', '-1']);
        break;
      case 'stream':
        content = await run(['XRANGE', key, '-', '+']);
        break;
      case 'none':
        // expired between SCAN and TYPE
        continue;
      default:
        throw new Error(`key ${key} has a type this dump cannot read: ${type}`);
    }
    dump.set(key, stringsOf(content));
  }
  return dump;
}

/** The plain value and the trivial spellings it would have if stored unsealed. */
function spellings(value: string): string[] {
  return [
    ...new Set([
      value,
      JSON.stringify(value).slice(1, -1),
      encodeURIComponent(value),
      Buffer.from(value, 'utf8').toString('base64url'),
      Buffer.from(value, 'utf8').toString('base64'),
      Buffer.from(value, 'utf8').toString('hex'),
    ]),
  ];
}

function storedLoginOf(raw: string | null): StoredLogin {
  assert.ok(raw !== null, 'the session record is in Redis');
  const data = JSON.parse(raw) as { oidc?: { login?: StoredLogin } };
  const stored = data.oidc?.login;
  assert.ok(stored !== undefined, 'the session record holds a login');
  assert.equal(typeof stored.claims, 'string');
  assert.equal(typeof stored.tokens, 'string');
  return stored;
}

function assertUnauthenticatedJson(page: Page): void {
  assert.equal(page.status, 401, `expected 401 from ${page.url}, got ${String(page.status)}: ${page.body.slice(0, 300)}`);
  assert.match(page.headers.get('content-type') ?? '', /application\/json/);
  assert.equal((jsonOf(page) as { error?: unknown }).error, 'unauthorized');
}

describe('what the package keeps at rest in Redis', { skip: REDIS_SUITE_SKIP }, () => {
  let redis: RedisServer;
  let client: RedisClient;
  let op: TestProvider;
  /** default sealing key (session.secret) */
  let plain: LateServer;
  /** secret: OLD */
  let a: LateServer;
  /** secret: [NEW, OLD] */
  let b: LateServer;
  /** secret: [NEW] */
  let c: LateServer;

  before(async () => {
    ({ redis, client } = await startRedisWithClient());
    plain = await lateServer();
    a = await lateServer();
    b = await lateServer();
    c = await lateServer();
    const servers = [plain, a, b, c];
    const registration = clientFor(plain.url);
    op = await startTestProvider({
      clients: [{ ...registration, redirect_uris: servers.map((s) => `${s.url}/callback`), post_logout_redirect_uris: servers.map((s) => `${s.url}/`) }],
    });
    const optionsFor = (server: LateServer, secret: OidcAuthOptions['secret']): OidcAuthOptions => ({
      ...baseOptions(op.issuer, server.url),
      ...WITH_REFRESH_TOKEN,
      // The same cookie-signing secret on every instance: only the sealing keys differ.
      session: { secret: SESSION_SECRET, store: new RedisStore({ client, prefix: SESSION_PREFIX }) },
      sessionIndex: redisSessionIndex(client, { prefix: INDEX_PREFIX }),
      ...(secret === undefined ? {} : { secret }),
    });
    plain.setHandler(buildApp(optionsFor(plain, undefined), { jsonErrors: true }));
    a.setHandler(buildApp(optionsFor(a, OLD), { jsonErrors: true }));
    b.setHandler(buildApp(optionsFor(b, [NEW, OLD]), { jsonErrors: true }));
    c.setHandler(buildApp(optionsFor(c, [NEW]), { jsonErrors: true }));
  });

  after(async () => {
    for (const server of [plain, a, b, c]) await server.close();
    await op.close();
    await client.quit().catch(() => undefined);
    await redis.close();
  });

  async function logIn(server: LateServer, name: string): Promise<User> {
    const browser = new Browser();
    const callback = await login(browser, `${server.url}/login`, name);
    assert.equal(callback.status, 302, `login of ${name} at ${server.url}: ${callback.body.slice(0, 300)}`);
    const page = await browser.get(`${server.url}/test/tokens`, ACCEPT_JSON);
    assert.equal(page.status, 200);
    const tokens = jsonOf(page) as Tokens;
    assert.equal(typeof tokens.accessToken, 'string');
    assert.equal(typeof tokens.idToken, 'string');
    return { name, browser, sessionId: sessionIdFromCookie(await browser.cookie(server.url, 'oidc.sid')), tokens };
  }

  async function storedLogin(sessionId: string): Promise<StoredLogin> {
    return storedLoginOf(await client.get(`${SESSION_PREFIX}${sessionId}`));
  }

  test('a Redis dump after three logins holds no token, email, sub or sid', async () => {
    const users = [await logIn(plain, 'atrest-ann'), await logIn(plain, 'atrest-bob'), await logIn(plain, 'atrest-cyd')];
    const forbidden: { what: string; value: string }[] = [];
    for (const user of users) {
      const { accessToken, idToken, refreshToken } = user.tokens;
      const claims = decodeJwt(idToken);
      // The values really exist, so that finding none of them in Redis means something.
      assert.equal(claims.sub, user.name);
      assert.equal(claims['email'], `${user.name}@example.test`, 'the ID token carries the email');
      const sid = sidOf(idToken);
      assert.ok(sid !== undefined && sid.length >= 8, 'the ID token carries a sid');
      assert.ok(refreshToken !== undefined && refreshToken.length >= 16, 'a refresh token was issued');
      assert.ok(accessToken.length >= 16);
      const [, payload = '', signature = ''] = idToken.split('.');
      forbidden.push(
        { what: `${user.name} access token`, value: accessToken },
        { what: `${user.name} refresh token`, value: refreshToken },
        { what: `${user.name} ID token`, value: idToken },
        { what: `${user.name} ID token payload`, value: payload },
        { what: `${user.name} ID token signature`, value: signature },
        { what: `${user.name} email`, value: `${user.name}@example.test` },
        { what: `${user.name} sub`, value: user.name },
        { what: `${user.name} sid`, value: sid },
      );
    }

    const dump = await dumpRedis(client);
    // The records are there: a dump without them would prove nothing.
    for (const user of users) {
      const key = `${SESSION_PREFIX}${user.sessionId}`;
      const record = dump.get(key);
      assert.ok(record !== undefined && record.length === 1, `the session record ${key} is in the dump`);
      const opened = openStored(storedLoginOf(record[0] ?? null));
      assert.equal(opened?.user.sub, user.name, 'the record holds this login, sealed');
      assert.equal(opened.accessToken, user.tokens.accessToken);
      const sealer = createSealer(SESSION_SECRET);
      const [subHash] = indexHashes(sealer, op.issuer, 'sub', user.name);
      const [sidHash] = indexHashes(sealer, op.issuer, 'sid', sidOf(user.tokens.idToken) ?? '');
      for (const [kind, hash] of [
        ['sub', subHash],
        ['sid', sidHash],
      ] as const) {
        const members = dump.get(`${INDEX_PREFIX}${kind}:${op.issuer}:${hash ?? ''}`);
        assert.ok(members?.includes(user.sessionId), `the index holds the session under the keyed hash of its ${kind}`);
      }
    }

    const leaks: string[] = [];
    for (const [key, contents] of dump) {
      for (const { what, value } of forbidden) {
        for (const spelling of spellings(value)) {
          if (key.includes(spelling)) leaks.push(`${what} in the key name ${key}`);
          if (contents.some((content) => content.includes(spelling)))
            leaks.push(`${what} (as ${JSON.stringify(spelling.slice(0, 40))}) in the content of ${key}`);
        }
      }
    }
    assert.deepEqual(leaks, [], `the dump of ${String(dump.size)} keys names no user and holds no token`);

    for (const user of users) await assertLoggedInAs(user.browser, plain.url, user.name);
  });

  test('key rotation: a login sealed with the old key still works beside the new key, new logins use the new key, and dropping the old key ends only the old logins', async () => {
    const oldOnly = createLoginVault(createSealer(OLD));
    const newOnly = createLoginVault(createSealer(NEW));

    const first = await logIn(a, 'rotate-one');
    const firstStored = await storedLogin(first.sessionId);
    assert.equal(oldOnly.open(firstStored)?.user.sub, 'rotate-one', 'instance A sealed with OLD');
    assert.equal(newOnly.claims(firstStored), undefined);

    await assertLoggedInAs(first.browser, b.url, 'rotate-one');
    const tokensAtB = await first.browser.get(`${b.url}/test/tokens`, ACCEPT_JSON);
    assert.equal(tokensAtB.status, 200);
    assert.equal((jsonOf(tokensAtB) as Tokens).accessToken, first.tokens.accessToken, 'B opens the tokens sealed under OLD');

    const second = await logIn(b, 'rotate-two');
    const secondStored = await storedLogin(second.sessionId);
    assert.equal(newOnly.claims(secondStored)?.user.sub, 'rotate-two', 'B sealed the new login with NEW');
    assert.equal(newOnly.open(secondStored)?.accessToken, second.tokens.accessToken);
    assert.equal(oldOnly.claims(secondStored), undefined, 'OLD alone does not open it');
    assert.equal(oldOnly.tokens(secondStored), undefined);
    // The index entry of the new login is keyed with NEW too.
    const [newSubHash, oldSubHash] = indexHashes(createSealer([NEW, OLD]), op.issuer, 'sub', 'rotate-two');
    assert.equal((await client.zScore(`${INDEX_PREFIX}sub:${op.issuer}:${newSubHash ?? ''}`, second.sessionId)) !== null, true);
    assert.equal(await client.exists(`${INDEX_PREFIX}sub:${op.issuer}:${oldSubHash ?? ''}`), 0);

    // B served the old login without rewriting it: still sealed with OLD only.
    const firstAgain = await storedLogin(first.sessionId);
    assert.equal(newOnly.claims(firstAgain), undefined);

    assertUnauthenticatedJson(await first.browser.get(`${c.url}/profile`, ACCEPT_JSON));
    await assertLoggedInAs(second.browser, c.url, 'rotate-two');
    assertUnauthenticatedJson(await first.browser.get(`${c.url}/test/tokens`, ACCEPT_JSON));
    const home = await first.browser.get(`${c.url}/`, ACCEPT_JSON);
    assert.equal(home.status, 200);
    assert.equal((jsonOf(home) as { authenticated?: unknown }).authenticated, false);
  });

  test('after a rotation, a back-channel logout to the new instance finds a session indexed under the old key, by sid and by sub', async () => {
    const bySid = await logIn(a, 'rotate-bcl-sid');
    const bySub = await logIn(a, 'rotate-bcl-sub');
    const sid = sidOf(bySid.tokens.idToken);
    assert.ok(sid !== undefined);
    // Indexed by A under OLD's keyed hashes only.
    const oldSealer = createSealer(OLD);
    const newSealer = createSealer(NEW);
    const sidKey = (sealer: typeof oldSealer): string => `${INDEX_PREFIX}sid:${op.issuer}:${indexHashes(sealer, op.issuer, 'sid', sid)[0] ?? ''}`;
    const subKey = (sealer: typeof oldSealer, sub: string): string => `${INDEX_PREFIX}sub:${op.issuer}:${indexHashes(sealer, op.issuer, 'sub', sub)[0] ?? ''}`;
    assert.notEqual(await client.zScore(sidKey(oldSealer), bySid.sessionId), null);
    assert.equal(await client.exists(sidKey(newSealer)), 0);
    assert.notEqual(await client.zScore(subKey(oldSealer, 'rotate-bcl-sub'), bySub.sessionId), null);
    assert.equal(await client.exists(subKey(newSealer, 'rotate-bcl-sub')), 0);
    for (const user of [bySid, bySub]) {
      await assertLoggedInAs(user.browser, a.url, user.name);
      await assertLoggedInAs(user.browser, b.url, user.name);
    }

    const answer = await postLogoutToken(b.url, await signLogoutToken(op, logoutClaims(op, 'rotate-bcl-sid', sid)));
    assert.equal(answer.status, 200, await answer.text());
    assertUnauthenticatedJson(await bySid.browser.get(`${a.url}/profile`, ACCEPT_JSON));
    assertUnauthenticatedJson(await bySid.browser.get(`${b.url}/profile`, ACCEPT_JSON));
    assert.equal(await client.exists(`${SESSION_PREFIX}${bySid.sessionId}`), 0, 'the session record is gone');
    assert.equal(await client.zScore(sidKey(oldSealer), bySid.sessionId), null, 'its old-key index entry is gone');
    // The other user is untouched.
    await assertLoggedInAs(bySub.browser, a.url, 'rotate-bcl-sub');

    const bySubAnswer = await postLogoutToken(b.url, await signLogoutToken(op, logoutClaims(op, 'rotate-bcl-sub', undefined)));
    assert.equal(bySubAnswer.status, 200, await bySubAnswer.text());
    assertUnauthenticatedJson(await bySub.browser.get(`${a.url}/profile`, ACCEPT_JSON));
    assertUnauthenticatedJson(await bySub.browser.get(`${b.url}/profile`, ACCEPT_JSON));
    assert.equal(await client.exists(`${SESSION_PREFIX}${bySub.sessionId}`), 0);
    assert.equal(await client.zScore(subKey(oldSealer, 'rotate-bcl-sub'), bySub.sessionId), null);
  });
});
