import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, mock, test } from 'node:test';
import session from 'express-session';
import { capturingLogger, SESSION_SECRET, setup, setupProviderLater, type Captured, type SetupOptions, type TestSetup } from './helpers/app.js';

/*
 * Every line at warn or error that a request without a session can make the package log goes
 * through the rate-limited log (README: each at debug, "at most one warning a minute", the
 * rest of the minute summed up when it closes). The window's length is pinned with mock
 * timers against the README's minute, not against the constant in lib/.
 */

/** README: "at most one warning a minute". */
const MINUTE_MS = 60_000;
/** The default logger prints warnings and errors only: what an operator sees. */
const shown = (lines: readonly Captured[]): Captured[] => lines.filter((l) => l.level === 'warn' || l.level === 'error');

/** Sends `count` requests, 50 at a time; every status seen. */
async function flood(count: number, send: (i: number) => Promise<Response>): Promise<Set<number>> {
  const statuses = new Set<number>();
  for (let sent = 0; sent < count; sent += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - sent) }, (_, i) =>
        send(sent + i).catch((err: unknown) => {
          // fetch says only "fetch failed"; its cause says why (a reset, a refused connection)
          const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
          throw new Error(`request ${String(sent + i)} failed${cause}`, { cause: err });
        }),
      ),
    );
    for (const r of batch) {
      statuses.add(r.status);
      await r.arrayBuffer();
    }
  }
  return statuses;
}

/** How many lines each message printed (warn and error), by message. */
function printedByMessage(lines: readonly Captured[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of shown(lines)) counts[line.message] = (counts[line.message] ?? 0) + 1;
  return counts;
}

afterEach(() => {
  mock.timers.reset();
});

describe('a stray oidc.logout cookie on the post-logout page', () => {
  const { lines, logger } = capturingLogger();
  let s: TestSetup;
  before(async () => {
    s = await setup({ options: { logger } });
  });
  after(async () => {
    await s.close();
  });

  test('1,000 GET / with the cookie and a missing or wrong state: each at debug, one warning, the rest summed up when the minute closes', async () => {
    lines.length = 0;
    // Only the refusal log's window timer: the servers and fetch keep their own clocks.
    mock.timers.enable({ apis: ['setTimeout'] });
    const statuses = await flood(1000, (i) =>
      fetch(`${s.appUrl}/${i % 2 === 0 ? '' : '?state=not-the-state'}`, { headers: { cookie: 'oidc.logout=a-stray-state-value' } }),
    );
    assert.deepEqual([...statuses], [200]);
    assert.equal(lines.filter((l) => l.level === 'debug' && /unverified state/.test(l.message)).length, 1000, 'each at debug');
    assert.equal(shown(lines).length, 1, 'one warning for 1,000 requests');
    assert.doesNotMatch(JSON.stringify(lines), /a-stray-state-value|not-the-state/, 'nothing the client sent is logged');

    mock.timers.tick(MINUTE_MS - 1);
    assert.equal(shown(lines).length, 1, 'nothing more within the minute');
    mock.timers.tick(1);
    const summary = shown(lines)[1];
    assert.ok(summary !== undefined, 'the summary when the minute closes');
    assert.equal(summary.fields['refused'], 999);
    // The requests arrive concurrently: whichever came first was the warning, the other 999 are counted by reason.
    const reasons = summary.fields['reasons'] as Record<string, number>;
    assert.deepEqual(Object.keys(reasons).sort(), ['missing state', 'wrong state']);
    assert.ok(
      Object.values(reasons).every((n) => n === 499 || n === 500),
      JSON.stringify(reasons),
    );
  });
});

describe('with the provider down, anonymous requests', () => {
  test('200 of /login, cookieless /logout and back-channel POSTs: 503 each, at most one line per message', async () => {
    const { lines, logger } = capturingLogger();
    const s = await setupProviderLater({ options: { logger } });
    try {
      const statuses = await flood(200, (i) => {
        if (i % 3 === 0) return fetch(`${s.appUrl}/login`);
        if (i % 3 === 1) return fetch(`${s.appUrl}/logout`, { method: 'POST', headers: { accept: 'application/json' } });
        return fetch(`${s.appUrl}/backchannel-logout`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'logout_token=anything',
        });
      });
      // /logout completes locally without the provider (README); the others answer 503.
      assert.deepEqual([...statuses].sort(), [200, 503]);
      const printed = printedByMessage(lines);
      assert.ok(Object.keys(printed).length > 0, 'the outage is reported');
      for (const [message, count] of Object.entries(printed)) assert.equal(count, 1, `"${message}" printed ${String(count)} times`);
    } finally {
      await s.close();
    }
  });
});

describe('an app hook that fails on logouts without a user', () => {
  const cases: [string, SetupOptions['options']][] = [
    ['postLogout throws', { hooks: { postLogout: () => Promise.reject(new Error('the hook expected a user')) } }],
    [
      'the context factory throws',
      {
        context: () => {
          throw new Error('no tenant');
        },
        hooks: { postLogout: () => undefined },
      },
    ],
    ['postLogout returns an unusable redirectTo', { logout: { idpLogout: false }, hooks: { postLogout: () => ({ redirectTo: 'javascript:alert(1)' }) } }],
  ];
  for (const [name, options] of cases) {
    test(`${name}: 200 cookieless POST /logout give one line`, async () => {
      const { lines, logger } = capturingLogger();
      const s = await setup({ options: { ...options, logger } });
      try {
        const statuses = await flood(200, () => fetch(`${s.appUrl}/logout`, { method: 'POST', headers: { accept: 'application/json' } }));
        assert.deepEqual([...statuses], [200]);
        assert.equal(
          shown(lines).length,
          1,
          shown(lines)
            .map((l) => l.message)
            .join('\n'),
        );
      } finally {
        await s.close();
      }
    });
  }
});

/** A store that has lost its backend: every destroy fails. */
class StoreThatCannotDestroy extends session.MemoryStore {
  override destroy(_sid: string, callback?: (err?: unknown) => void): void {
    callback?.(Object.assign(new Error('connection lost'), { code: 'ECONNRESET' }));
  }
}

describe('a session store that cannot destroy, and cookieless logouts', () => {
  test('200 POST /logout without a cookie: at most one line', async () => {
    const { lines, logger } = capturingLogger();
    const s = await setup({ options: { logger, session: { secret: SESSION_SECRET, store: new StoreThatCannotDestroy() } } });
    try {
      await flood(200, () => fetch(`${s.appUrl}/logout`, { method: 'POST', headers: { accept: 'application/json' } }));
      assert.ok(
        shown(lines).length <= 1,
        shown(lines)
          .map((l) => l.message)
          .join('\n'),
      );
    } finally {
      await s.close();
    }
  });
});
