import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import { createRefusalLog } from '../lib/logging/refusal-log.js';
import { capturingLogger, setup, type Captured, type TestSetup } from './helpers/app.js';
import { logoutClaims, otherRsaKey, postLogoutToken, signLogoutToken, unsignedToken } from './helpers/logout-token.js';

/** The default logger prints warnings and errors only: what an operator sees. */
const shown = (lines: readonly Captured[]): Captured[] => lines.filter((l) => l.level === 'warn' || l.level === 'error');
const MINUTE_MS = 60_000;

describe('refused back-channel logout requests do not flood the log', () => {
  let s: TestSetup;
  const { lines, logger } = capturingLogger();
  before(async () => {
    s = await setup({ options: { logger } });
  });
  after(async () => {
    await s.close();
  });

  test('1,000 junk POSTs are each refused with 400 and logged at debug, with one warning line at most', async () => {
    const forgedKey = await otherRsaKey();
    const forged = await signLogoutToken(s.op, logoutClaims(s.op, 'alice', 'some-sid'), { key: forgedKey });
    const unsigned = unsignedToken(logoutClaims(s.op, 'alice', 'some-sid'));
    const junk: (() => Promise<Response>)[] = [
      () => postLogoutToken(s.appUrl, 'not-a-jwt'),
      () => postLogoutToken(s.appUrl, unsigned),
      () => postLogoutToken(s.appUrl, forged),
      () => fetch(`${s.appUrl}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'nothing=here' }),
      () => fetch(`${s.appUrl}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'logout_token=x' }),
    ];
    const junkAt = (n: number): (() => Promise<Response>) => {
      const send = junk[n % junk.length];
      assert.ok(send !== undefined);
      return send;
    };
    lines.length = 0;
    const statuses: number[] = [];
    for (let sent = 0; sent < 1000; sent += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, (_, i) => junkAt(sent + i)()));
      statuses.push(...batch.map((r) => r.status));
    }
    assert.deepEqual(new Set(statuses), new Set([400]));
    assert.equal(statuses.length, 1000);
    const refusals = lines.filter((l) => l.level === 'debug' && l.message === 'back-channel logout refused');
    assert.equal(refusals.length, 1000, 'every refusal is at debug, for whoever turns it on');
    const warnings = shown(lines);
    assert.ok(warnings.length <= 2, `at most 2 warning lines, got ${String(warnings.length)}`);
    assert.equal(warnings.length, 1, 'the first refusal is a warning at once');
    // Nothing of the junk itself reaches the warning: only the fixed reason.
    assert.doesNotMatch(JSON.stringify(warnings), /not-a-jwt|eyJ/);
  });
});

describe('the refusal summary', () => {
  test('the first refusal warns at once, the rest of the minute is summed up in one warning when it closes, and a quiet minute says nothing', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { lines, logger } = capturingLogger();
      const log = createRefusalLog(logger, 'back-channel logout refused');
      for (let i = 0; i < 1000; i++) log.refused(i % 2 === 0 ? 'the logout token is not a JWT' : 'unsigned logout tokens are refused');
      assert.equal(shown(lines).length, 1);
      mock.timers.tick(MINUTE_MS - 1);
      assert.equal(shown(lines).length, 1, 'no summary before the minute is over');
      mock.timers.tick(1);
      const summary = shown(lines)[1];
      assert.ok(summary !== undefined, 'a summary when the minute closes');
      assert.equal(summary.fields['refused'], 999);
      assert.deepEqual(summary.fields['reasons'], { 'the logout token is not a JWT': 499, 'unsigned logout tokens are refused': 500 });
      // The summary opened a new minute: a refusal within it is only counted.
      log.refused('the logout token is not a JWT');
      assert.equal(shown(lines).length, 2);
      mock.timers.tick(MINUTE_MS);
      assert.equal(shown(lines).length, 3, 'that refusal is summed up a minute later');
      mock.timers.tick(MINUTE_MS * 5);
      assert.equal(shown(lines).length, 3, 'quiet minutes log nothing');
      log.refused('the logout token is not a JWT');
      assert.equal(shown(lines).length, 4, 'after a quiet minute, the next refusal warns at once');
      assert.equal(lines.filter((l) => l.level === 'debug').length, 1002);
    } finally {
      mock.timers.reset();
    }
  });

  test('a flood of distinct reasons keeps at most 20 of them, the rest counted as other', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { lines, logger } = capturingLogger();
      const log = createRefusalLog(logger, 'refused');
      for (let i = 0; i < 101; i++) log.refused(`reason ${String(i)}`);
      mock.timers.tick(MINUTE_MS);
      const reasons = shown(lines)[1]?.fields['reasons'] as Record<string, number> | undefined;
      assert.ok(reasons !== undefined);
      assert.equal(Object.keys(reasons).length, 21);
      assert.equal(reasons['other'], 80);
    } finally {
      mock.timers.reset();
    }
  });
});
