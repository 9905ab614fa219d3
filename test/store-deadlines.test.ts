import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import session, { type SessionData } from 'express-session';
import { wrapStore } from '../lib/store/bounded-store.js';
import { createTelemetry } from '../lib/telemetry/telemetry.js';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { CollectingReader } from './helpers/otel.js';
import { capturingLogger } from './helpers/app.js';
import { createEndedSessions } from '../lib/ended/ended-marks.js';
import { boundedSessionIndex } from '../lib/session-index/bounded.js';
import { memorySessionIndex } from '../lib/session-index/memory.js';
import type { SessionIndex } from '../lib/session-index/session-index.js';

/** The README: "Every call to the store and the index is bounded (3 s)". */
const BOUND_MS = 3000;
/** How late past the bound a call may fail: the README promises 3 s, not to the millisecond. */
const SLACK_MS = 500;

/** A store that answers only when told: a Redis that accepts commands and never replies. */
class HeldStore extends session.Store {
  readonly held: (() => void)[] = [];
  override get(_sid: string, callback: (err: unknown, data?: SessionData | null) => void): void {
    this.held.push(() => {
      callback(null, null);
    });
  }
  override set(_sid: string, _data: SessionData, callback?: (err?: unknown) => void): void {
    this.held.push(() => callback?.());
  }
  override destroy(_sid: string, callback?: (err?: unknown) => void): void {
    this.held.push(() => callback?.());
  }
}

/** Lets promise callbacks run (the store also asks the index whether the id ended); setImmediate is not mocked. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Outcome {
  settled: boolean;
  err: unknown;
}

function getFrom(store: session.Store, sid: string): Outcome {
  const outcome: Outcome = { settled: false, err: undefined };
  store.get(sid, (err) => {
    assert.equal(outcome.settled, false, 'a call answers once');
    outcome.settled = true;
    outcome.err = err;
  });
  return outcome;
}

describe('every store and index call answers within the bound the README gives', () => {
  beforeEach(() => {
    mock.timers.enable({ apis: ['Date', 'setInterval'], now: 1_000_000 });
  });
  afterEach(() => {
    mock.timers.reset();
  });

  const ended = createEndedSessions(memorySessionIndex(), capturingLogger().logger);

  test('a store call with no answer fails after 3 s, not before, and its late answer is ignored', async () => {
    const inner = new HeldStore();
    const reader = new CollectingReader();
    const store = wrapStore(inner, {
      bounded: true,
      touch: false,
      ended,
      telemetry: createTelemetry({ meterProvider: new MeterProvider({ readers: [reader] }) }),
    });
    const call = getFrom(store, 'a');
    mock.timers.tick(BOUND_MS - 1);
    await settle();
    assert.equal(call.settled, false, 'still waiting just before the bound');
    mock.timers.tick(SLACK_MS + 1);
    await settle();
    assert.equal(call.settled, true, 'failed once the bound passed');
    assert.match(String(call.err), /no answer within 3000 ms/);
    for (const answer of inner.held) answer();
    await settle();
    const points = (await reader.all()).find((m) => m.descriptor.name === 'express_oidc_auth.session_store.duration')?.dataPoints ?? [];
    assert.deepEqual(
      points.map((p) => p.attributes),
      [{ 'express_oidc_auth.session_store.operation': 'get', 'error.type': 'timeout' }],
      'the call is counted once, as timed out, and its late answer not again',
    );
  });

  test('calls that answer are forgotten: only the unanswered ones fail, each on its own deadline', async () => {
    const inner = new HeldStore();
    const store = wrapStore(inner, { bounded: true, touch: false, ended, telemetry: createTelemetry() });
    const first = getFrom(store, 'first');
    mock.timers.tick(1000);
    const answered = getFrom(store, 'answered');
    const second = getFrom(store, 'second');
    inner.held[1]?.();
    await settle();
    assert.equal(answered.settled, true);
    assert.equal(answered.err, undefined);
    mock.timers.tick(BOUND_MS - 1000 + SLACK_MS);
    await settle();
    assert.equal(first.settled, true, 'the first call is past its bound');
    assert.equal(second.settled, false, 'the second, made a second later, is not yet');
    mock.timers.tick(1000);
    await settle();
    assert.equal(second.settled, true);
    assert.equal(answered.err, undefined, 'the answered call never failed');
  });

  test('a store without a server to wait for (bounded: false) is never failed by the clock', async () => {
    const inner = new HeldStore();
    const store = wrapStore(inner, { bounded: false, touch: false, ended, telemetry: createTelemetry() });
    const call = getFrom(store, 'a');
    mock.timers.tick(10 * BOUND_MS);
    await settle();
    assert.equal(call.settled, false);
    inner.held[0]?.();
    await settle();
    assert.equal(call.settled, true);
    assert.equal(call.err, undefined);
  });

  test('an index call with no answer fails after 3 s with the error the index was given', async () => {
    const silent: SessionIndex = { ...memorySessionIndex(), isEnded: () => new Promise<boolean>(() => undefined) };
    const index = boundedSessionIndex(silent, BOUND_MS, (what) => new Error(`index ${what} failed`));
    let failure: unknown;
    const call = index.isEnded('a').catch((err: unknown) => {
      failure = err;
    });
    mock.timers.tick(BOUND_MS - 1);
    await Promise.resolve();
    assert.equal(failure, undefined, 'still waiting just before the bound');
    mock.timers.tick(SLACK_MS + 1);
    await call;
    assert.match(String(failure), /index isEnded failed/);
  });
});
