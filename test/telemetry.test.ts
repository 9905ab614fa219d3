import './helpers/quiet-mock-timers.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, mock, test } from 'node:test';
import { metrics, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { DataPointType, MeterProvider, type MetricData } from '@opentelemetry/sdk-metrics';
import { CollectingReader } from './helpers/otel.js';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Browser } from './helpers/browser.js';
import type { OidcAuthOptions } from '../lib/index.js';
import { baseOptions, setup, type TestSetup } from './helpers/app.js';
import { configProblems } from './helpers/assertions.js';
import { afterTokenExpiry } from './helpers/token-expiry.js';
import { loggedIn, WITH_REFRESH_TOKEN, type LoggedIn } from './helpers/logout.js';
import { logoutClaims, postLogoutToken, signLogoutToken, unsignedToken } from './helpers/logout-token.js';

interface DocumentedMetric {
  instrument: string;
  unit: string;
  attributes: string[];
}

/** The metric table of the operations guide: what the package promises operators, and so what is checked here. */
function documentedMetrics(): Map<string, DocumentedMetric> {
  const readme = readFileSync(path.resolve(import.meta.dirname, '..', 'docs', 'operations.md'), 'utf8');
  const start = readme.indexOf('| metric | instrument | unit | attributes |');
  assert.ok(start > 0, 'docs/operations.md has its metric table');
  const rows = readme.slice(start).split('\n').slice(2);
  const found = new Map<string, DocumentedMetric>();
  for (const row of rows) {
    if (!row.startsWith('|')) break;
    const [name, instrument, unit, attributes] = row
      .split('|')
      .slice(1, 5)
      .map((cell) => cell.trim());
    found.set((name ?? '').replace(/`/g, ''), {
      instrument: instrument ?? '',
      unit: (unit ?? '').replace(/`/g, ''),
      attributes: [...(attributes ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ''),
    });
  }
  return found;
}

function pointsOf(all: MetricData[], name: string): { attributes: Attributes; value: number }[] {
  const metric = all.find((m) => m.descriptor.name === name);
  if (metric === undefined) return [];
  return metric.dataPoints.map((p) => ({
    attributes: p.attributes,
    value: metric.dataPointType === DataPointType.HISTOGRAM ? (p.value as { count: number }).count : (p.value as number),
  }));
}

/** The count (or sum) of the points whose attributes include `match`. */
function countOf(all: MetricData[], name: string, match: Attributes = {}, exact = false): number {
  return pointsOf(all, name)
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v) && (!exact || Object.keys(p.attributes).length === Object.keys(match).length))
    .reduce((sum, p) => sum + p.value, 0);
}

function spansNamed(spans: readonly ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}

afterEach(() => {
  mock.timers.reset();
});

describe('OpenTelemetry: the documented metrics and spans, from a real provider', () => {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const documented = documentedMetrics();
  let s: TestSetup;
  /** every value the package must never put in an attribute */
  const secrets: string[] = [];
  let first: LoggedIn;

  before(async () => {
    s = await setup({ options: { ...WITH_REFRESH_TOKEN, telemetry: { meterProvider, tracerProvider } } });
    first = await loggedIn(s, 'alice');
  });
  after(async () => {
    await s.close();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
  });

  test('a login: the login histogram without error.type, its callback span, the provider calls and the store write', async () => {
    const all = await reader.all();
    assert.equal(countOf(all, 'express_oidc_auth.login.duration', {}, true), 1);
    const callback = spansNamed(spans.getFinishedSpans(), 'express_oidc_auth.callback');
    assert.equal(callback.length, 1);
    assert.equal(callback[0]?.status.code, SpanStatusCode.UNSET, 'a successful callback leaves the span status unset');
    const token = spansNamed(spans.getFinishedSpans(), 'POST token')[0];
    assert.ok(token !== undefined, 'the token request has a client span');
    const port = Number(new URL(s.op.issuer).port);
    assert.deepEqual(
      { ...token.attributes },
      {
        'http.request.method': 'POST',
        'server.address': '127.0.0.1',
        'server.port': port,
        'express_oidc_auth.provider.endpoint': 'token',
        'url.full': `${s.op.issuer}/token`,
        'http.response.status_code': 200,
      },
    );
    assert.equal(countOf(all, 'http.client.request.duration', { 'express_oidc_auth.provider.endpoint': 'token', 'http.response.status_code': 200 }), 1);
    assert.equal(countOf(all, 'http.client.request.duration', { 'express_oidc_auth.provider.endpoint': 'discovery' }), 1);
    assert.equal(countOf(all, 'http.client.request.duration', { 'express_oidc_auth.provider.endpoint': 'jwks' }), 1);
    assert.ok(
      countOf(all, 'express_oidc_auth.session_store.duration', { 'express_oidc_auth.session_store.operation': 'set' }) >= 1,
      'the new session was written',
    );
    assert.ok(spansNamed(spans.getFinishedSpans(), 'session_store set').length >= 1);
    secrets.push(first.tokens.accessToken, first.tokens.idToken, first.sessionId, 'alice@example.test');
    if (first.tokens.refreshToken !== undefined) secrets.push(first.tokens.refreshToken);
    secrets.push((await first.browser.cookie(s.appUrl, 'oidc.sid')) ?? 'no cookie');
  });

  test('a failed callback: the login histogram with the error code, and a failed callback span', async () => {
    const before = countOf(await reader.all(), 'express_oidc_auth.login.duration', { 'error.type': 'OIDC_STATE_MISMATCH' });
    const answer = await new Browser().get(`${s.appUrl}/callback?state=forged-state&code=forged-code-value`);
    assert.equal(answer.status, 400);
    assert.equal(countOf(await reader.all(), 'express_oidc_auth.login.duration', { 'error.type': 'OIDC_STATE_MISMATCH' }) - before, 1);
    const failed = spansNamed(spans.getFinishedSpans(), 'express_oidc_auth.callback').filter((span) => span.status.code === SpanStatusCode.ERROR);
    assert.equal(failed.length, 1);
    const [span] = failed;
    assert.ok(span !== undefined);
    assert.equal(span.attributes['error.type'], 'OIDC_STATE_MISMATCH');
    assert.equal(span.status.message, 'OIDC_STATE_MISMATCH', 'the status says the code, nothing the browser sent');
    secrets.push('forged-state', 'forged-code-value');
  });

  test('a refresh: the refresh histogram and span, and the refresh grant at the token endpoint', async () => {
    const tokenCallsBefore = countOf(await reader.all(), 'http.client.request.duration', { 'express_oidc_auth.provider.endpoint': 'token' });
    afterTokenExpiry();
    const answer = await first.browser.get(`${s.appUrl}/api/token`, { accept: 'application/json' });
    assert.equal(answer.status, 200);
    const refreshed = (JSON.parse(answer.body) as { token: string }).token;
    assert.notEqual(refreshed, first.tokens.accessToken, 'a new access token');
    secrets.push(refreshed);
    const all = await reader.all();
    assert.equal(countOf(all, 'express_oidc_auth.refresh.duration', {}, true), 1);
    assert.equal(countOf(all, 'http.client.request.duration', { 'express_oidc_auth.provider.endpoint': 'token' }) - tokenCallsBefore, 1);
    assert.equal(spansNamed(spans.getFinishedSpans(), 'express_oidc_auth.refresh').length, 1);
  });

  test('a logout: one session ended by "logout", both tokens revoked, each revocation a client span', async () => {
    const answer = await first.browser.request(`${s.appUrl}/logout`, { method: 'POST' });
    assert.equal(answer.status, 303);
    const all = await reader.all();
    assert.equal(countOf(all, 'express_oidc_auth.logout.sessions', { 'express_oidc_auth.logout.trigger': 'logout' }), 1);
    assert.equal(
      countOf(all, 'express_oidc_auth.token.revocations', {
        'express_oidc_auth.token.type': 'access_token',
        'express_oidc_auth.revocation.outcome': 'revoked',
      }),
      1,
    );
    assert.equal(
      countOf(all, 'express_oidc_auth.token.revocations', {
        'express_oidc_auth.token.type': 'refresh_token',
        'express_oidc_auth.revocation.outcome': 'revoked',
      }),
      1,
    );
    assert.equal(spansNamed(spans.getFinishedSpans(), 'POST revocation').length, 2);
    assert.equal(spansNamed(spans.getFinishedSpans(), 'express_oidc_auth.logout').length, 1);
    assert.ok(countOf(all, 'express_oidc_auth.session_store.duration', { 'express_oidc_auth.session_store.operation': 'destroy' }) >= 1);
  });

  test('back-channel logout: accepted, refused as unsigned, refused as a replay, each counted by reason', async () => {
    const other = await loggedIn(s, 'bob');
    secrets.push(other.tokens.accessToken, other.sessionId, 'bob@example.test');
    const token = await signLogoutToken(s.op, logoutClaims(s.op, 'bob', undefined));
    assert.equal((await postLogoutToken(s.appUrl, token)).status, 200);
    assert.equal((await postLogoutToken(s.appUrl, token)).status, 400);
    assert.equal((await postLogoutToken(s.appUrl, unsignedToken(logoutClaims(s.op, 'bob', undefined)))).status, 400);
    const all = await reader.all();
    assert.equal(countOf(all, 'express_oidc_auth.backchannel_logout.requests', {}, true), 1, 'one accepted');
    assert.equal(countOf(all, 'express_oidc_auth.backchannel_logout.requests', { 'error.type': 'replay' }), 1);
    assert.equal(countOf(all, 'express_oidc_auth.backchannel_logout.requests', { 'error.type': 'signature' }), 1);
    assert.equal(countOf(all, 'express_oidc_auth.logout.sessions', { 'express_oidc_auth.logout.trigger': 'backchannel' }), 1);
    const backchannel = spansNamed(spans.getFinishedSpans(), 'express_oidc_auth.backchannel_logout');
    assert.equal(backchannel.length, 3);
    // The README's span table: error.type and status ERROR when the route failed; a refusal is answered (400), not thrown.
    assert.deepEqual(
      backchannel.map((span) => ({ status: span.status.code, message: span.status.message, errorType: span.attributes['error.type'] })),
      [
        { status: SpanStatusCode.UNSET, message: undefined, errorType: undefined },
        { status: SpanStatusCode.ERROR, message: 'replay', errorType: 'replay' },
        { status: SpanStatusCode.ERROR, message: 'signature', errorType: 'signature' },
      ],
    );
    secrets.push(token);
  });

  test('every recorded metric is in the README with its instrument, unit and attributes; the flows above recorded all but the lock wait', async () => {
    const all = await reader.all();
    for (const metric of all) {
      const doc = documented.get(metric.descriptor.name);
      assert.ok(doc !== undefined, `${metric.descriptor.name} is recorded but not documented`);
      assert.equal(doc.unit, metric.descriptor.unit, `${metric.descriptor.name}: unit`);
      assert.equal(doc.instrument, metric.dataPointType === DataPointType.HISTOGRAM ? 'histogram' : 'counter', `${metric.descriptor.name}: instrument`);
      for (const point of metric.dataPoints) {
        for (const key of Object.keys(point.attributes))
          assert.ok(doc.attributes.includes(key), `${metric.descriptor.name} has attribute ${key}, which the README does not list`);
      }
    }
    const recorded = new Set(all.map((m) => m.descriptor.name));
    // Waiting for another instance's refresh needs two instances: the multi-instance suites make one.
    const expected = [...documented.keys()].filter((name) => name !== 'express_oidc_auth.refresh.lock_wait.duration');
    assert.deepEqual(
      expected.filter((name) => !recorded.has(name)),
      [],
    );
  });

  test('no attribute, status or span name holds a token, code, cookie, session id, email or query string', async () => {
    const values: string[] = [];
    for (const span of spans.getFinishedSpans()) {
      values.push(span.name, span.status.message ?? '');
      for (const value of Object.values(span.attributes)) values.push(String(value));
    }
    for (const metric of await reader.all()) {
      for (const point of metric.dataPoints) for (const value of Object.values(point.attributes)) values.push(String(value));
    }
    assert.ok(secrets.length >= 10, 'the earlier tests collected what to look for');
    for (const secret of secrets) {
      const leaked = values.filter((v) => v.includes(secret) || (secret.length > 12 && v.length > 12 && secret.includes(v)));
      assert.deepEqual(leaked, [], 'a secret is in an attribute');
    }
    assert.deepEqual(
      values.filter((v) => v.includes('?') || v.includes('@')),
      [],
      'no query string, no email',
    );
    assert.deepEqual(
      values.filter((v) => v === 'alice' || v === 'bob'),
      [],
      'no sub',
    );
  });
});

describe('OpenTelemetry: the global providers by default', () => {
  test('an SDK registered globally before oidcAuth() gets the login metrics; without one, nothing is recorded anywhere', async () => {
    const reader = new CollectingReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const unregistered = await setup({ options: WITH_REFRESH_TOKEN });
    try {
      assert.ok(metrics.setGlobalMeterProvider(meterProvider), 'the global meter provider is set');
      const s = await setup({ options: WITH_REFRESH_TOKEN });
      try {
        await loggedIn(unregistered, 'carol');
        await loggedIn(s, 'dave');
        const all = await reader.all();
        assert.equal(countOf(all, 'express_oidc_auth.login.duration'), 1, 'only the login of the app built after the SDK was registered');
      } finally {
        await s.close();
      }
    } finally {
      metrics.disable();
      await unregistered.close();
      await meterProvider.shutdown();
    }
  });
});

describe('OpenTelemetry: the telemetry option is checked at oidcAuth()', () => {
  const base = baseOptions('https://idp.example.com', 'https://app.example.com');

  test('providers without their one method, a misspelt key and a non-object are refused, each by name', () => {
    const notAProvider = { getMeters: () => undefined } as unknown as MeterProvider;
    assert.deepEqual(configProblems({ ...base, telemetry: { meterProvider: notAProvider } }), [
      '"telemetry.meterProvider" must be an OpenTelemetry MeterProvider (an object with getMeter())',
    ]);
    const notATracer = {} as unknown as BasicTracerProvider;
    assert.deepEqual(configProblems({ ...base, telemetry: { tracerProvider: notATracer } }), [
      '"telemetry.tracerProvider" must be an OpenTelemetry TracerProvider (an object with getTracer())',
    ]);
    assert.deepEqual(configProblems({ ...base, telemetry: { meterProviders: new MeterProvider() } as unknown as NonNullable<OidcAuthOptions['telemetry']> }), [
      '"telemetry.meterProviders" is not an option: did you mean "telemetry.meterProvider"?',
    ]);
    assert.deepEqual(configProblems({ ...base, telemetry: true as unknown as NonNullable<OidcAuthOptions['telemetry']> }), [
      '"telemetry" must be an object (got true)',
    ]);
    assert.deepEqual(configProblems({ ...base, telemetry: { meterProvider: new MeterProvider(), tracerProvider: new BasicTracerProvider() } }), []);
  });
});

describe('OpenTelemetry: a refused front-channel logout', () => {
  test('answers 400 and its span has status ERROR with error.type "request", as the README\'s span table says of a failed route', async () => {
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const s = await setup({ options: { routes: { frontchannelLogout: '/frontchannel-logout' }, telemetry: { tracerProvider } } });
    try {
      assert.equal((await new Browser().get(`${s.appUrl}/frontchannel-logout?iss=${encodeURIComponent(s.op.issuer)}`)).status, 400);
      const [span] = spansNamed(spans.getFinishedSpans(), 'express_oidc_auth.frontchannel_logout');
      assert.equal(span?.status.code, SpanStatusCode.ERROR);
      assert.equal(span.attributes['error.type'], 'request');
    } finally {
      await s.close();
      await tracerProvider.shutdown();
    }
  });
});
