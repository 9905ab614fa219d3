import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, afterEach, before, describe, mock, test } from 'node:test';
import type { ErrorRequestHandler, Express } from 'express';
import session from 'express-session';
import { decodeJwt, SignJWT } from 'jose';
import type { PostLogoutContext } from '../lib/index.js';
import { CLIENT_ID, CLIENT_SECRET, openStored, SESSION_SECRET, setup, type TestSetup } from './helpers/app.js';
import { afterTokenExpiry } from './helpers/token-expiry.js';
import { Gate } from './helpers/gates.js';
import { loggedIn, storeHas, WITH_REFRESH_TOKEN } from './helpers/logout.js';
import { SIGNING_KID, type TestProvider } from './helpers/provider.js';

const JSON_ACCEPT = { accept: 'application/json' };

/** Errors of /api/token (a test route) as `{ code }` with their status. */
function addApiRoute(app: Express): void {
  const errors: ErrorRequestHandler = (err: { status?: number; code?: string }, _req, res, _next) => {
    res.status(err.status ?? 500).json({ code: err.code });
  };
  app.use(errors);
}

/** Refresh grants the provider issued, counted from its own events. */
function refreshGrants(op: TestProvider): number {
  return op.events.filter((e) => e === 'grant.success').length;
}

afterEach(() => {
  mock.timers.reset();
});

describe('access token refresh', () => {
  let s: TestSetup;
  const store = new session.MemoryStore();
  const ended: PostLogoutContext[] = [];
  let slowGate: Gate | undefined;
  before(async () => {
    s = await setup({ options: { ...WITH_REFRESH_TOKEN, session: { secret: SESSION_SECRET, store }, hooks: { postLogout: (ctx) => void ended.push(ctx) } } });
    // Held on the gate the test made, with its session loaded, until the test opens it.
    s.app.get('/test/slow', async (_req, res) => {
      await slowGate?.hold();
      res.json({ ok: true });
    });
    addApiRoute(s.app);
  });
  after(async () => {
    await s.close();
  });

  test('20 concurrent requests with an expiring access token cause exactly one refresh grant at the provider', async () => {
    const { browser, tokens } = await loggedIn(s);
    const before = refreshGrants(s.op);
    afterTokenExpiry();
    const answers = await Promise.all(Array.from({ length: 20 }, () => browser.get(`${s.appUrl}/api/token`, JSON_ACCEPT)));
    assert.deepEqual(
      answers.map((a) => a.status),
      Array<number>(20).fill(200),
    );
    assert.equal(refreshGrants(s.op) - before, 1);
    const handed = new Set(answers.map((a) => (JSON.parse(a.body) as { token: string }).token));
    assert.equal(handed.size, 1, 'every request got the same, new token');
    const [token] = handed;
    assert.notEqual(token, tokens.accessToken);
    assert.equal((await s.op.introspect(token ?? '')).active, true);
  });

  test('a slower request that loaded the session before a refresh does not write the old tokens back', async () => {
    const { browser, sessionId, tokens } = await loggedIn(s);
    afterTokenExpiry();
    // Loads the session now, notes activity (so it saves at its end), answers after the refresh is done.
    const gate = new Gate('slow');
    slowGate = gate;
    const slow = browser.get(`${s.appUrl}/test/slow`, JSON_ACCEPT);
    await gate.arrived;
    const refreshed = await browser.get(`${s.appUrl}/api/token`, JSON_ACCEPT);
    assert.equal(refreshed.status, 200);
    const { token } = JSON.parse(refreshed.body) as { token: string };
    assert.notEqual(token, tokens.accessToken);
    gate.open();
    assert.equal((await slow).status, 200);
    const stored = await new Promise<string | undefined>((resolve) => {
      store.get(sessionId, (_err, data) => {
        resolve(openStored(data?.oidc?.login)?.accessToken);
      });
    });
    assert.equal(stored, token, 'the store holds the refreshed token, not the one the slow request loaded');
  });

  test('a refresh token revoked at the provider: the next request is unauthenticated and the session is gone from the store', async () => {
    const { browser, sessionId, tokens } = await loggedIn(s);
    ended.length = 0;
    await revokeAtProvider(s.op, tokens.refreshToken ?? '');
    afterTokenExpiry();
    const answer = await browser.get(`${s.appUrl}/api/token`, JSON_ACCEPT);
    assert.equal(answer.status, 401);
    assert.equal((JSON.parse(answer.body) as { code: string }).code, 'OIDC_REFRESH_FAILED');
    assert.equal(await storeHas(store, sessionId), false);
    assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    assert.deepEqual(
      ended.map((c) => [c.trigger, c.user?.sub]),
      [['refresh-failed', 'alice']],
    );
  });

  test('a fresh access token is handed out as it is, with no provider call', async () => {
    const { browser, tokens } = await loggedIn(s);
    const before = refreshGrants(s.op);
    const answer = await browser.get(`${s.appUrl}/api/token`, JSON_ACCEPT);
    assert.equal((JSON.parse(answer.body) as { token: string }).token, tokens.accessToken);
    assert.equal(refreshGrants(s.op), before);
  });

  test('without a refresh token an expired access token is not refreshed: 401, and the session stays', async () => {
    const plain = await setup();
    addApiRoute(plain.app);
    try {
      const { browser } = await loggedIn(plain);
      afterTokenExpiry();
      const answer = await browser.get(`${plain.appUrl}/api/token`, JSON_ACCEPT);
      assert.equal(answer.status, 401);
      assert.equal((JSON.parse(answer.body) as { code: string }).code, 'OIDC_NOT_AUTHENTICATED');
      assert.equal((await browser.get(`${plain.appUrl}/profile`, JSON_ACCEPT)).status, 200);
    } finally {
      await plain.close();
    }
  });
});

describe('a refreshed ID token about another user', () => {
  test('is refused and ends the session', async () => {
    const s = await setup({ options: WITH_REFRESH_TOKEN });
    addApiRoute(s.app);
    try {
      const { browser } = await loggedIn(s);
      swapSubjectOnRefresh(s.op, 'mallory');
      afterTokenExpiry();
      const answer = await browser.get(`${s.appUrl}/api/token`, JSON_ACCEPT);
      assert.equal(answer.status, 401);
      assert.equal((JSON.parse(answer.body) as { code: string }).code, 'OIDC_REFRESH_FAILED');
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    } finally {
      await s.close();
    }
  });
});

async function revokeAtProvider(op: TestProvider, token: string): Promise<void> {
  const res = await fetch(`${op.issuer}/token/revocation`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` },
    body: new URLSearchParams({ token, token_type_hint: 'refresh_token' }),
  });
  assert.equal(res.status, 200);
}

/**
 * Puts a man in the middle of the provider's token endpoint: refresh responses get an ID
 * token re-signed with the provider's own key but naming another subject.
 */
function swapSubjectOnRefresh(op: TestProvider, sub: string): void {
  op.server.setHandler((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/token') {
      op.handler(req, res);
      return;
    }
    const end = res.end.bind(res);
    const chunks: Buffer[] = [];
    res.write = ((chunk: Buffer | string) => {
      chunks.push(Buffer.from(chunk));
      return true;
    }) as typeof res.write;
    res.end = ((chunk?: Buffer | string) => {
      if (chunk !== undefined && typeof chunk !== 'function') chunks.push(Buffer.from(chunk));
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const idToken = body['id_token'];
      if (typeof idToken !== 'string') return end(JSON.stringify(body));
      void new SignJWT({ ...decodeJwt(idToken), sub })
        .setProtectedHeader({ alg: 'RS256', kid: SIGNING_KID })
        .sign(op.signingKey)
        .then((forged) => {
          const text = JSON.stringify({ ...body, id_token: forged });
          res.setHeader('content-length', Buffer.byteLength(text));
          end(text);
        });
      return res;
    }) as typeof res.end;
    op.handler(req, res);
  });
}
