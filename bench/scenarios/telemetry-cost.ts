import { createTelemetry } from '../../lib/telemetry/telemetry.js';
import { median } from '../harness/stats.js';

export interface TelemetryCost {
  /** median µs for one session-store call's instrumentation (start and finish), no SDK registered */
  storeCallMicros: number;
  /** each repeat's µs per call */
  samples: number[];
}

/**
 * What the package's instrumentation costs when the app has registered no OpenTelemetry SDK
 * (the global no-op API): one session store call's span and histogram record, the only
 * instrumentation an authenticated request reaches. Measured alone in this process, since
 * a fraction of a microsecond is far below what a throughput run can resolve.
 */
export function measureTelemetryCost(repeats: number, calls: number): TelemetryCost {
  const telemetry = createTelemetry();
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) telemetry.storeCall('get')(undefined);
    samples.push(((performance.now() - started) * 1000) / calls);
  }
  return { storeCallMicros: median(samples), samples };
}
