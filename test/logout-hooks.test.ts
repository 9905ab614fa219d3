import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import express from 'express';
import { oidcAuth, type PostLogoutContext } from '../lib/index.js';
import { addTestRoutes, baseOptions, capturingLogger, clientFor, setup } from './helpers/app.js';
import { lateServer } from './helpers/late-server.js';
import { loggedIn, WITH_REFRESH_TOKEN } from './helpers/logout.js';
import { startTestProvider } from './helpers/provider.js';

interface Services {
  audit: string[];
  tenant: string;
}

describe('postLogout hook', () => {
  test("the hook's context, field by field", async () => {
    const appServer = await lateServer();
    const op = await startTestProvider({ clients: [clientFor(appServer.url)] });
    const seen: PostLogoutContext<Services>[] = [];
    const services: Services = { audit: [], tenant: 'acme' };
    const { logger } = capturingLogger();
    const app = express();
    app.use(
      oidcAuth({
        ...baseOptions(op.issuer, appServer.url),
        ...WITH_REFRESH_TOKEN,
        logger,
        context: () => services,
        hooks: {
          postLogout: (ctx) => {
            seen.push(ctx);
            ctx.context.audit.push(`logout:${ctx.user?.sub ?? '-'}`);
          },
        },
      }),
    );
    addTestRoutes(app);
    appServer.setHandler(app);
    try {
      const { browser, tokens } = await loggedIn({ app, appServer, appUrl: appServer.url, op, close: () => Promise.resolve() });
      const answer = await browser.request(`${appServer.url}/logout`, { method: 'POST', headers: { 'x-request-id': 'req-42' } });
      assert.equal(answer.status, 303);
      assert.equal(seen.length, 1, 'postLogout runs once per logged-out session');
      const [ctx] = seen;
      assert.ok(ctx !== undefined);
      assert.equal(ctx.trigger, 'logout');
      assert.equal(ctx.user?.sub, 'alice');
      assert.equal(ctx.user.email, 'alice@example.test');
      assert.equal(ctx.clientRequest.headers['x-request-id'], 'req-42');
      assert.equal(ctx.log, logger);
      assert.equal(ctx.context, services);
      assert.deepEqual(services.audit, ['logout:alice']);
      assert.deepEqual(ctx.tokens, tokens);
      assert.deepEqual(ctx.revocation, { accessToken: 'revoked', refreshToken: 'revoked' });
      assert.equal(ctx.endSessionUrl?.href, answer.location);
      assert.equal((await op.introspect(tokens.accessToken)).active, false, 'tokens are already revoked when the hook runs');
    } finally {
      await appServer.close();
      await op.close();
    }
  });

  test('a throwing hook is logged with its name and the logout still completes', async () => {
    const { lines, logger } = capturingLogger();
    const s = await setup({
      options: {
        logger,
        hooks: {
          postLogout: function notifyCrm() {
            throw new Error('CRM is down');
          },
        },
      },
    });
    try {
      const { browser } = await loggedIn(s);
      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      assert.equal(answer.status, 303);
      assert.equal((await browser.get(`${s.appUrl}/profile`, { accept: 'application/json' })).status, 401);
      const line = lines.find((l) => l.level === 'error' && l.fields['hook'] === 'postLogout');
      assert.equal(line?.fields['function'], 'notifyCrm');
      assert.equal(line.fields['message'], 'CRM is down');
    } finally {
      await s.close();
    }
  });
});

describe('providers without end_session or revocation', () => {
  test('without end_session_endpoint the hook chooses the destination (an absolute URL, Auth0 style)', async () => {
    const s = await setup({
      provider: { features: { rpInitiatedLogout: { enabled: false } } },
      options: {
        hooks: { postLogout: () => ({ redirectTo: 'https://tenant.example/v2/logout?client_id=test-app&returnTo=https%3A%2F%2Fapp.example%2F' }) },
      },
    });
    try {
      const { browser } = await loggedIn(s);
      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      assert.equal(answer.status, 303);
      assert.equal(answer.location, 'https://tenant.example/v2/logout?client_id=test-app&returnTo=https%3A%2F%2Fapp.example%2F');
      assert.equal((await browser.get(`${s.appUrl}/profile`, { accept: 'application/json' })).status, 401);
    } finally {
      await s.close();
    }
  });

  test('a hook path that a browser would read as another host is ignored: the browser goes to postLogoutRedirect', async () => {
    const s = await setup({
      provider: { features: { rpInitiatedLogout: { enabled: false } } },
      options: { hooks: { postLogout: () => ({ redirectTo: '/\t/evil.example' }) } },
    });
    try {
      const { browser } = await loggedIn(s);
      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      assert.equal(answer.status, 303);
      assert.equal(answer.location, `${s.appUrl}/`);
    } finally {
      await s.close();
    }
  });

  test('without end_session_endpoint and no hook the browser goes to postLogoutRedirect', async () => {
    const s = await setup({ provider: { features: { rpInitiatedLogout: { enabled: false } } } });
    try {
      const { browser } = await loggedIn(s);
      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      assert.equal(answer.location, `${s.appUrl}/`);
    } finally {
      await s.close();
    }
  });

  test('without revocation_endpoint logout works and the hook sees "unsupported"', async () => {
    const outcomes: PostLogoutContext['revocation'][] = [];
    const s = await setup({
      provider: { features: { revocation: { enabled: false } } },
      options: { ...WITH_REFRESH_TOKEN, hooks: { postLogout: (ctx) => void outcomes.push(ctx.revocation) } },
    });
    try {
      const { browser } = await loggedIn(s);
      const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      assert.equal(answer.status, 303);
      assert.deepEqual(outcomes, [{ accessToken: 'unsupported', refreshToken: 'unsupported' }]);
      assert.equal((await browser.get(`${s.appUrl}/profile`, { accept: 'application/json' })).status, 401);
    } finally {
      await s.close();
    }
  });

  test('logout.revokeTokens false skips revocation: the tokens stay active and the hook sees "skipped"', async () => {
    const outcomes: PostLogoutContext['revocation'][] = [];
    const s = await setup({
      options: { ...WITH_REFRESH_TOKEN, logout: { revokeTokens: false }, hooks: { postLogout: (ctx) => void outcomes.push(ctx.revocation) } },
    });
    try {
      const { browser, tokens } = await loggedIn(s);
      await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
      assert.deepEqual(outcomes, [{ accessToken: 'skipped', refreshToken: 'skipped' }]);
      assert.equal((await s.op.introspect(tokens.accessToken)).active, true);
    } finally {
      await s.close();
    }
  });
});

describe('a revocation endpoint that hangs or fails', () => {
  for (const mode of ['hangs', 'fails'] as const) {
    test(`when it ${mode}, logout completes within timeoutMs plus a margin and the hook sees the outcomes`, async () => {
      const outcomes: PostLogoutContext['revocation'][] = [];
      const timeoutMs = 300;
      const s = await setup({ options: { ...WITH_REFRESH_TOKEN, logout: { timeoutMs }, hooks: { postLogout: (ctx) => void outcomes.push(ctx.revocation) } } });
      const held: ServerResponse[] = [];
      s.op.server.setHandler((req: IncomingMessage, res: ServerResponse) => {
        if (req.url?.startsWith('/token/revocation') !== true) {
          s.op.handler(req, res);
        } else if (mode === 'hangs') {
          held.push(res);
        } else {
          res.statusCode = 500;
          res.end('boom');
        }
      });
      try {
        const { browser } = await loggedIn(s);
        const started = Date.now();
        const answer = await browser.request(`${s.appUrl}/logout`, { method: 'POST' });
        const elapsed = Date.now() - started;
        assert.equal(answer.status, 303);
        assert.ok(elapsed < timeoutMs + 1000, `logout took ${String(elapsed)} ms`);
        const expected = mode === 'hangs' ? 'timeout' : 'failed';
        assert.deepEqual(outcomes, [{ accessToken: expected, refreshToken: expected }]);
        assert.equal((await browser.get(`${s.appUrl}/profile`, { accept: 'application/json' })).status, 401);
      } finally {
        for (const res of held) res.destroy();
        await s.close();
      }
    });
  }
});
