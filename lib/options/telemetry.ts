import { isRecord } from '../values.js';
import type { TelemetryOptions } from '../telemetry/telemetry.js';
import { checkUnknownKeys, got, type Problems } from './checks.js';

export const TELEMETRY_KEYS = ['meterProvider', 'tracerProvider'] as const;

function hasMethod(value: unknown, method: string): boolean {
  return isRecord(value) && typeof value[method] === 'function';
}

/** `telemetry`: providers to use instead of the global ones; each must have the one method the package calls. */
export function resolveTelemetry(value: unknown, given: TelemetryOptions | undefined, problems: Problems): TelemetryOptions {
  if (value === undefined) return {};
  if (!isRecord(value)) {
    problems.push(`"telemetry" must be an object (got ${got(value)})`);
    return {};
  }
  checkUnknownKeys(value, TELEMETRY_KEYS, 'telemetry.', problems);
  const resolved: TelemetryOptions = {};
  if (value['meterProvider'] !== undefined) {
    if (hasMethod(value['meterProvider'], 'getMeter') && given?.meterProvider !== undefined) resolved.meterProvider = given.meterProvider;
    else problems.push('"telemetry.meterProvider" must be an OpenTelemetry MeterProvider (an object with getMeter())');
  }
  if (value['tracerProvider'] !== undefined) {
    if (hasMethod(value['tracerProvider'], 'getTracer') && given?.tracerProvider !== undefined) resolved.tracerProvider = given.tracerProvider;
    else problems.push('"telemetry.tracerProvider" must be an OpenTelemetry TracerProvider (an object with getTracer())');
  }
  return resolved;
}
