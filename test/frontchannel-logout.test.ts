import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import session, { type SessionData } from 'express-session';
import { oidcAuth, type PostLogoutContext, type SessionIndex } from '../lib/index.js';
import { capturingLogger, CLIENT_ID, CLIENT_SECRET, FLAVOURS, SESSION_SECRET, setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, assertLoggedInAs, assertLoggedOut, jsonOf } from './helpers/assertions.js';
import type { Browser, Page } from './helpers/browser.js';
import { SESSION_COOKIE } from './helpers/cookies.js';
import { loggedIn, storeHas, type LoggedIn } from './helpers/logout.js';
import { sidOf } from './helpers/logout-token.js';

const ROUTE = '/frontchannel-logout';
const FRONTCHANNEL_ON = { routes: { frontchannelLogout: ROUTE } } as const;

/** The URL a provider loads in its hidden iframe: the route with these query parameters, in this order (repeats allowed). */
function frontchannelUrl(appUrl: string, params: readonly (readonly [string, string])[]): string {
  const query = new URLSearchParams(params.map(([k, v]) => [k, v])).toString();
  return `${appUrl}${ROUTE}${query === '' ? '' : `?${query}`}`;
}

async function withSid(s: TestSetup, user: string): Promise<LoggedIn & { sid: string }> {
  const state = await loggedIn(s, user);
  const sid = sidOf(state.tokens.idToken);
  assert.ok(sid !== undefined, 'the provider put a sid in the ID token');
  return { ...state, sid };
}

async function userOf(browser: Browser, appUrl: string): Promise<unknown> {
  const profile = await browser.get(`${appUrl}/profile`, ACCEPT_JSON);
  assert.equal(profile.status, 200);
  return (jsonOf(profile) as { user: unknown }).user;
}

function assertFrontchannelPage(res: Response | Page, status: number): void {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html\b/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.deepEqual(res.headers.getSetCookie(), [], 'the route sets no cookie');
  // The provider loads the page in a hidden iframe: nothing may forbid framing it.
  assert.equal(res.headers.get('x-frame-options'), null);
  assert.doesNotMatch(res.headers.get('content-security-policy') ?? '', /frame-ancestors/);
}

describe('front-channel logout is off by default', () => {
  let s: TestSetup;
  before(async () => {
    s = await setup();
  });
  after(async () => {
    await s.close();
  });

  test('GET /frontchannel-logout is left to the app (404 here) and the session keeps working', async () => {
    const { browser, sid } = await withSid(s, 'alice');
    const res = await fetch(
      frontchannelUrl(s.appUrl, [
        ['iss', s.op.issuer],
        ['sid', sid],
      ]),
    );
    assert.equal(res.status, 404);
    await res.arrayBuffer();
    // Even sent with the user's cookie, the request is just another app request.
    assert.equal(
      (
        await browser.get(
          frontchannelUrl(s.appUrl, [
            ['iss', s.op.issuer],
            ['sid', sid],
          ]),
        )
      ).status,
      404,
    );
    await assertLoggedInAs(browser, s.appUrl, 'alice');
  });
});

describe('front-channel logout', () => {
  let s: TestSetup;
  const ended: PostLogoutContext[] = [];
  const store = new session.MemoryStore();
  before(async () => {
    s = await setup({
      options: {
        ...FRONTCHANNEL_ON,
        session: { secret: SESSION_SECRET, store },
        hooks: {
          postLogout: (ctx) => {
            ended.push(ctx);
          },
        },
      },
    });
  });
  after(async () => {
    await s.close();
  });

  test('a request with the exact iss and the session sid ends that session: 200 html, no-store, no cookie, frameable; postLogout runs once with trigger "frontchannel"', async () => {
    const { browser, sid, sessionId } = await withSid(s, 'alice');
    const user = await userOf(browser, s.appUrl);
    ended.length = 0;
    // Sent from the user's browser, with its session cookie, as a same-site iframe would be.
    const res = await browser.get(
      frontchannelUrl(s.appUrl, [
        ['iss', s.op.issuer],
        ['sid', sid],
      ]),
    );
    assertFrontchannelPage(res, 200);
    await assertLoggedOut(browser, s.appUrl);
    assert.equal(ended.length, 1, 'postLogout ran once');
    const [ctx] = ended;
    assert.ok(ctx !== undefined);
    assert.equal(ctx.trigger, 'frontchannel');
    assert.deepEqual(ctx.user, user);
    assert.equal(ctx.user?.sub, 'alice');
    assert.equal(new URL(ctx.clientRequest.originalUrl, s.appUrl).pathname, ROUTE);
    assert.equal(ctx.endSessionUrl, undefined);
    assert.equal(typeof ctx.tokens.idToken, 'string');
    assert.equal(ctx.revocation.accessToken, 'revoked');
    // The session is gone from the store itself, not only unreadable.
    assert.equal(await storeHas(store, sessionId), false);
  });

  test('a request without the user cookie (a cross-site iframe under SameSite=Lax) ends the session too', async () => {
    const { browser, sid } = await withSid(s, 'alice');
    ended.length = 0;
    const res = await fetch(
      frontchannelUrl(s.appUrl, [
        ['iss', s.op.issuer],
        ['sid', sid],
      ]),
    );
    assertFrontchannelPage(res, 200);
    await res.arrayBuffer();
    await assertLoggedOut(browser, s.appUrl);
    assert.deepEqual(
      ended.map((c) => [c.trigger, c.user?.sub]),
      [['frontchannel', 'alice']],
    );
  });

  test('other sessions keep working: another user, and the same user under another sid', async () => {
    const target = await withSid(s, 'alice');
    const sameUserOtherSid = await withSid(s, 'alice');
    const otherUser = await withSid(s, 'bob');
    assert.notEqual(target.sid, sameUserOtherSid.sid, 'each browser has its own provider session');
    ended.length = 0;
    const res = await fetch(
      frontchannelUrl(s.appUrl, [
        ['iss', s.op.issuer],
        ['sid', target.sid],
      ]),
    );
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    await assertLoggedOut(target.browser, s.appUrl);
    await assertLoggedInAs(sameUserOtherSid.browser, s.appUrl, 'alice');
    await assertLoggedInAs(otherUser.browser, s.appUrl, 'bob');
    assert.equal(ended.length, 1);
  });

  test('a repeated request for an already ended sid answers 200 and runs postLogout no more', async () => {
    const { sid } = await withSid(s, 'alice');
    const url = frontchannelUrl(s.appUrl, [
      ['iss', s.op.issuer],
      ['sid', sid],
    ]);
    ended.length = 0;
    assert.equal((await fetch(url)).status, 200);
    const again = await fetch(url);
    assertFrontchannelPage(again, 200);
    await again.arrayBuffer();
    assert.equal(ended.length, 1);
  });

  test('an unknown sid answers 200 and ends nothing', async () => {
    const { browser } = await withSid(s, 'alice');
    ended.length = 0;
    const res = await fetch(
      frontchannelUrl(s.appUrl, [
        ['iss', s.op.issuer],
        ['sid', 'no-such-sid'],
      ]),
    );
    assertFrontchannelPage(res, 200);
    await res.arrayBuffer();
    await assertLoggedInAs(browser, s.appUrl, 'alice');
    assert.equal(ended.length, 0);
  });

  const refused: [string, (issuer: string, sid: string) => (readonly [string, string])[]][] = [
    [
      'a wrong iss',
      (_iss, sid) => [
        ['iss', 'https://evil.example'],
        ['sid', sid],
      ],
    ],
    [
      'an iss with a trailing slash added',
      (iss, sid) => [
        ['iss', `${iss}/`],
        ['sid', sid],
      ],
    ],
    [
      'an iss that differs only in case',
      (iss, sid) => [
        ['iss', iss.toUpperCase()],
        ['sid', sid],
      ],
    ],
    ['a missing sid', (iss) => [['iss', iss]]],
    [
      'an empty sid',
      (iss) => [
        ['iss', iss],
        ['sid', ''],
      ],
    ],
    ['a missing iss', (_iss, sid) => [['sid', sid]]],
    [
      'an empty iss',
      (_iss, sid) => [
        ['iss', ''],
        ['sid', sid],
      ],
    ],
    [
      'a repeated sid parameter (the same value twice)',
      (iss, sid) => [
        ['iss', iss],
        ['sid', sid],
        ['sid', sid],
      ],
    ],
    [
      'a repeated sid parameter (two values)',
      (iss, sid) => [
        ['iss', iss],
        ['sid', 'no-such-sid'],
        ['sid', sid],
      ],
    ],
    [
      'a repeated iss parameter',
      (iss, sid) => [
        ['iss', iss],
        ['iss', iss],
        ['sid', sid],
      ],
    ],
    ['no parameters at all', () => []],
  ];
  for (const [name, params] of refused) {
    test(`a request with ${name} answers 400 and leaves the session working`, async () => {
      const { browser, sid } = await withSid(s, 'alice');
      ended.length = 0;
      const res = await fetch(frontchannelUrl(s.appUrl, params(s.op.issuer, sid)));
      assertFrontchannelPage(res, 400);
      await res.arrayBuffer();
      await assertLoggedInAs(browser, s.appUrl, 'alice');
      assert.equal(ended.length, 0);
    });
  }

  test('a POST to the route answers 405 with Allow: GET and ends nothing', async () => {
    const { browser, sid } = await withSid(s, 'alice');
    ended.length = 0;
    const res = await fetch(
      frontchannelUrl(s.appUrl, [
        ['iss', s.op.issuer],
        ['sid', sid],
      ]),
      { method: 'POST' },
    );
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
    await res.arrayBuffer();
    await assertLoggedInAs(browser, s.appUrl, 'alice');
    assert.equal(ended.length, 0);
  });

  test('a new login after a front-channel logout works', async () => {
    const { sid } = await withSid(s, 'dave');
    const res = await fetch(
      frontchannelUrl(s.appUrl, [
        ['iss', s.op.issuer],
        ['sid', sid],
      ]),
    );
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const again = await withSid(s, 'dave');
    await assertLoggedInAs(again.browser, s.appUrl, 'dave');
  });
});

describe('front-channel logout that matches no session', () => {
  let s: TestSetup;
  const { lines, logger } = capturingLogger();
  before(async () => {
    s = await setup({ options: { ...FRONTCHANNEL_ON, logger } });
  });
  after(async () => {
    await s.close();
  });

  test('answers 200 and warns, once a minute at most, that no session has this sid', async () => {
    lines.length = 0;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(
        frontchannelUrl(s.appUrl, [
          ['iss', s.op.issuer],
          ['sid', `unknown-sid-${String(i)}`],
        ]),
      );
      assertFrontchannelPage(res, 200);
      await res.arrayBuffer();
    }
    const warnings = lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]?.message ?? '', /matched no session/);
    assert.equal(lines.filter((l) => l.level === 'debug' && /matched no session/.test(l.message)).length, 5);
  });
});

describe('front-channel logout with rolling sessions', () => {
  let s: TestSetup;
  const store = new session.MemoryStore();
  before(async () => {
    s = await setup({ options: { ...FRONTCHANNEL_ON, session: { secret: SESSION_SECRET, rolling: true, store } } });
  });
  after(async () => {
    await s.close();
  });

  test('the request carrying the user cookie neither refreshes the cookie nor writes the ended session back', async () => {
    const { browser, sid, sessionId } = await withSid(s, 'alice');
    // Rolling sessions do set the cookie on an ordinary request...
    const profile = await browser.get(`${s.appUrl}/profile`, ACCEPT_JSON);
    assert.equal(profile.headers.getSetCookie().filter((c) => c.startsWith(`${SESSION_COOKIE}=`)).length, 1);
    // ...but the front-channel route runs without the session middleware.
    const res = await browser.get(
      frontchannelUrl(s.appUrl, [
        ['iss', s.op.issuer],
        ['sid', sid],
      ]),
    );
    assertFrontchannelPage(res, 200);
    assert.equal(await storeHas(store, sessionId), false);
    await assertLoggedOut(browser, s.appUrl);
  });
});

for (const flavour of FLAVOURS) {
  describe(`front-channel logout with session: false and the app's own express-session (${flavour})`, () => {
    let s: TestSetup;
    const store = new session.MemoryStore();
    before(async () => {
      s = await setup({
        flavour,
        options: { ...FRONTCHANNEL_ON, session: false, secret: SESSION_SECRET },
        // resave writes the loaded session back at the end of every request; unset: 'destroy' destroys it when req.session is dropped.
        beforeOidc: (app) =>
          app.use(session({ secret: SESSION_SECRET, name: SESSION_COOKIE, resave: true, saveUninitialized: false, unset: 'destroy', store })),
      });
    });
    after(async () => {
      await s.close();
    });

    test('a request carrying the user cookie ends the session for good: resave does not write it back', async () => {
      const { browser, sid, sessionId } = await withSid(s, 'alice');
      const res = await browser.get(
        frontchannelUrl(s.appUrl, [
          ['iss', s.op.issuer],
          ['sid', sid],
        ]),
      );
      assert.equal(res.status, 200);
      assert.equal(await storeHas(store, sessionId), false);
      await assertLoggedOut(browser, s.appUrl);
    });

    test('a request carrying the user cookie for an unknown sid leaves that session in place', async () => {
      const { browser, sessionId } = await withSid(s, 'alice');
      const res = await browser.get(
        frontchannelUrl(s.appUrl, [
          ['iss', s.op.issuer],
          ['sid', 'no-such-sid'],
        ]),
      );
      assert.equal(res.status, 200);
      assert.equal(await storeHas(store, sessionId), true);
      await assertLoggedInAs(browser, s.appUrl, 'alice');
    });

    test('a request without the cookie ends the session', async () => {
      const { browser, sid } = await withSid(s, 'alice');
      const res = await fetch(
        frontchannelUrl(s.appUrl, [
          ['iss', s.op.issuer],
          ['sid', sid],
        ]),
      );
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      await assertLoggedOut(browser, s.appUrl);
    });
  });
}

/** A store that is not MemoryStore: sessions in a Map, as a Redis or SQL store would keep them elsewhere. */
class MapStore extends session.Store {
  readonly sessions = new Map<string, string>();
  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    const raw = this.sessions.get(sid);
    callback(null, raw === undefined ? null : (JSON.parse(raw) as SessionData));
  }
  override set(sid: string, data: SessionData, callback?: (err?: unknown) => void): void {
    this.sessions.set(sid, JSON.stringify(data));
    callback?.();
  }
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.sessions.delete(sid);
    callback?.();
  }
}

const sharedIndex: SessionIndex = {
  shared: true,
  add: () => Promise.resolve(),
  remove: () => Promise.resolve(),
  lookup: () => Promise.resolve([]),
  claimOnce: () => Promise.resolve(true),
  release: () => Promise.resolve(),
  markEnded: () => Promise.resolve(),
  isEnded: () => Promise.resolve(false),
};

describe('start-up warning about the session index', () => {
  /** Builds an app with oidcAuth() (discovery is lazy: no provider needed) and returns its warnings about the index. */
  function indexWarnings(extra: { store?: session.Store; sessionIndex?: SessionIndex }): string[] {
    const { lines, logger } = capturingLogger();
    const app = express();
    app.use(
      oidcAuth({
        issuer: 'https://idp.example.com',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        baseUrl: 'https://app.example.com',
        session: extra.store === undefined ? { secret: SESSION_SECRET } : { secret: SESSION_SECRET, store: extra.store },
        logger,
        ...(extra.sessionIndex === undefined ? {} : { sessionIndex: extra.sessionIndex }),
      }),
    );
    return lines.filter((l) => l.level === 'warn' && /session index/i.test(l.message)).map((l) => l.message);
  }

  test('a non-memory session store with the default in-memory session index logs a warning at start', () => {
    const warnings = indexWarnings({ store: new MapStore() });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /redisSessionIndex/);
    assert.match(warnings[0] ?? '', /postgresSessionIndex/);
  });

  test('a non-memory session store with a shared session index logs no such warning', () => {
    assert.deepEqual(indexWarnings({ store: new MapStore(), sessionIndex: sharedIndex }), []);
  });

  test('the default MemoryStore with the default session index logs no such warning', () => {
    assert.deepEqual(indexWarnings({}), []);
  });

  test('an explicit MemoryStore with the default session index logs no such warning', () => {
    assert.deepEqual(indexWarnings({ store: new session.MemoryStore() }), []);
  });
});
