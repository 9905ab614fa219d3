import { MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';

/** An in-memory metric reader the test collects from when it wants: the SDK's own aggregation, no export interval. */
export class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  async all(): Promise<MetricData[]> {
    const { resourceMetrics } = await this.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  }
}
