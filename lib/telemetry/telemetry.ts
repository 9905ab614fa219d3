import {
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { LogoutTrigger, RevocationOutcome } from '../public-types.js';
import { fieldOf } from '../values.js';

/** Where the package's metrics and spans go. Default: the global providers of `@opentelemetry/api`, no-ops until the app registers an SDK. */
export interface TelemetryOptions {
  /** Default: `metrics.getMeterProvider()` when oidcAuth() is called (register the SDK first) */
  meterProvider?: MeterProvider;
  /** Default: `trace.getTracerProvider()` (a proxy: an SDK registered later is used from then on) */
  tracerProvider?: TracerProvider;
}

/** The instrumentation scope of every meter and tracer the package makes. */
export const SCOPE = 'express-oidc-auth';

/**
 * Attribute keys. `error.type`, `http.*`, `server.*` and `url.*` are OpenTelemetry's semantic
 * conventions; the rest are the package's own, under its namespace. Values are codes and
 * names from small fixed sets: never a token, code, cookie, session id, email or sub.
 */
export const ATTR = {
  errorType: 'error.type',
  trigger: 'express_oidc_auth.logout.trigger',
  tokenType: 'express_oidc_auth.token.type',
  revocationOutcome: 'express_oidc_auth.revocation.outcome',
  storeOperation: 'express_oidc_auth.session_store.operation',
  endpoint: 'express_oidc_auth.provider.endpoint',
  method: 'http.request.method',
  status: 'http.response.status_code',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  urlFull: 'url.full',
} as const;

/** The bucket boundaries OpenTelemetry's HTTP conventions advise for durations in seconds. */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export type StoreOperation = 'get' | 'set' | 'destroy' | 'touch';

/** Ends what began: records the duration, ends the span; `errorType` when it failed. */
export type Finish = (errorType?: string) => void;

export interface Telemetry {
  readonly tracer: Tracer;
  /** `run` inside an active INTERNAL span `name`: provider and store calls made meanwhile become its children (with the app's context manager) */
  inSpan<T>(name: string, run: (span: Span) => Promise<T>): Promise<T>;
  /** a callback handled: a login, or a failed one with its OIDC_* code */
  login(seconds: number, errorType: string | undefined): void;
  /** `count` sessions ended by `trigger` */
  sessionsEnded(trigger: LogoutTrigger, count: number): void;
  revocation(tokenType: 'access_token' | 'refresh_token', outcome: RevocationOutcome): void;
  /** a back-channel logout request answered: accepted, or refused with a reason */
  backchannel(errorType: string | undefined): void;
  refresh(seconds: number, errorType: string | undefined): void;
  /** time a request waited for another instance's refresh of the same session */
  refreshLockWait(seconds: number, errorType: string | undefined): void;
  /** a session store call begins */
  storeCall(operation: StoreOperation): Finish;
  /** a provider call: `attributes` hold method, server and endpoint */
  providerCall(attributes: Attributes, spanName: string): { span: Span; finish(status: number | undefined, errorType: string | undefined): void };
}

const now = (): number => performance.now();

/** Marks a span failed with a code: the status message never holds more than that code. */
export function failSpan(span: Span, errorType: string): void {
  span.setAttribute(ATTR.errorType, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
}

/** `error.type` of something thrown: the package's code, another library's code or the error's name. Never its message. */
export function errorTypeOf(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = codeOf(err) ?? codeOf(fieldOf(err, 'cause'));
    if (code !== undefined) return code;
    if (err instanceof Error && /^[A-Za-z0-9_]{1,64}$/.test(err.name)) return err.name;
  }
  return '_OTHER';
}

/** A short code (OIDC_*, ECONNREFUSED…): fetch's network errors keep theirs on their cause. */
function codeOf(value: unknown): string | undefined {
  const code = fieldOf(value, 'code');
  return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : undefined;
}

export function createTelemetry(options: TelemetryOptions = {}): Telemetry {
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const seconds = (name: string, description: string): Histogram =>
    meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: SECONDS_BUCKETS } });
  const count = (name: string, description: string, unit: string): Counter => meter.createCounter(name, { description, unit });

  const loginDuration = seconds(
    'express_oidc_auth.login.duration',
    "Callbacks handled, from the provider's redirect to the answer; error.type is the OIDC_* code of a failed login",
  );
  const logouts = count('express_oidc_auth.logout.sessions', 'Sessions ended, by what ended them', '{session}');
  const revocations = count('express_oidc_auth.token.revocations', 'RFC 7009 token revocations, by token type and outcome', '{token}');
  const backchannelRequests = count(
    'express_oidc_auth.backchannel_logout.requests',
    'Back-channel logout requests answered; error.type is why one was refused',
    '{request}',
  );
  const refreshDuration = seconds(
    'express_oidc_auth.refresh.duration',
    'Access token refreshes made by this instance (the refresh token grant and its checks)',
  );
  const lockWait = seconds('express_oidc_auth.refresh.lock_wait.duration', "Time a request waited for another instance's refresh of the same session");
  const storeDuration = seconds('express_oidc_auth.session_store.duration', 'Session store calls made by the package, by operation');
  const providerDuration = seconds('http.client.request.duration', 'Calls to the OpenID provider');

  // Attribute objects of the common, successful cases made once: the request path allocates none.
  const storeOk = new Map<StoreOperation, Attributes>((['get', 'set', 'destroy', 'touch'] as const).map((op) => [op, { [ATTR.storeOperation]: op }]));
  const storeSpanName = new Map<StoreOperation, string>((['get', 'set', 'destroy', 'touch'] as const).map((op) => [op, `session_store ${op}`]));
  const withError = (base: Attributes, errorType: string | undefined): Attributes =>
    errorType === undefined ? base : { ...base, [ATTR.errorType]: errorType };
  const none: Attributes = {};

  return {
    tracer,
    inSpan(name, run) {
      return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL }, async (span) => {
        try {
          return await run(span);
        } catch (err) {
          failSpan(span, errorTypeOf(err));
          throw err;
        } finally {
          span.end();
        }
      });
    },
    login(s, errorType) {
      loginDuration.record(s, withError(none, errorType));
    },
    sessionsEnded(trigger, n) {
      if (n > 0) logouts.add(n, { [ATTR.trigger]: trigger });
    },
    revocation(tokenType, outcome) {
      revocations.add(1, { [ATTR.tokenType]: tokenType, [ATTR.revocationOutcome]: outcome });
    },
    backchannel(errorType) {
      backchannelRequests.add(1, withError(none, errorType));
    },
    refresh(s, errorType) {
      refreshDuration.record(s, withError(none, errorType));
    },
    refreshLockWait(s, errorType) {
      lockWait.record(s, withError(none, errorType));
    },
    storeCall(operation) {
      const started = now();
      const attributes = storeOk.get(operation) ?? none;
      const span = tracer.startSpan(storeSpanName.get(operation) ?? 'session_store', { kind: SpanKind.CLIENT, attributes });
      return (errorType) => {
        storeDuration.record((now() - started) / 1000, withError(attributes, errorType));
        if (errorType !== undefined) failSpan(span, errorType);
        span.end();
      };
    },
    providerCall(attributes, spanName) {
      const started = now();
      const span = tracer.startSpan(spanName, { kind: SpanKind.CLIENT, attributes });
      // url.full names one URL: fine on a span, too many values for a metric's attributes.
      const { [ATTR.urlFull]: _url, ...measured } = attributes;
      return {
        span,
        finish(status, errorType) {
          if (status !== undefined) {
            measured[ATTR.status] = status;
            span.setAttribute(ATTR.status, status);
          }
          if (errorType !== undefined) {
            measured[ATTR.errorType] = errorType;
            failSpan(span, errorType);
          }
          providerDuration.record((now() - started) / 1000, measured);
          span.end();
        },
      };
    },
  };
}

/**
 * A handler traced by `traced`. `fail` marks its span failed for an answer the handler sends
 * itself (a refused back-channel request answers 400 without passing an error on), with the
 * same `error.type` its metric carries.
 */
export type TracedHandler<Req, Res> = (req: Req, res: Res, next: (err?: unknown) => void, fail: (errorType: string) => void) => Promise<void>;

/**
 * A route handler in an active span: what it calls (provider, store) nests under it, and an
 * error it passes to `next`, or a refusal it reports through `fail`, marks the span failed with its code.
 */
export function traced<Req, Res>(
  telemetry: Telemetry,
  name: string,
  handler: TracedHandler<Req, Res>,
): (req: Req, res: Res, next: (err?: unknown) => void) => Promise<void> {
  return (req, res, next) =>
    telemetry.inSpan(name, (span) =>
      handler(
        req,
        res,
        (err?: unknown) => {
          if (err !== undefined && err !== null) failSpan(span, errorTypeOf(err));
          next(err);
        },
        (errorType) => {
          failSpan(span, errorType);
        },
      ),
    );
}
