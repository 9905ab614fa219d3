import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter } from '@opentelemetry/sdk-trace-base';
import { oidcAuth } from 'express-oidc-auth';
import { required } from './env.js';

// Console exporters to try it; an OTLP or Prometheus exporter in production.
const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter() })] });
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new ConsoleSpanExporter())] });

export const auth = oidcAuth({
  issuer: 'https://idp.example.com',
  clientId: 'my-app',
  clientSecret: required('CLIENT_SECRET'),
  baseUrl: 'https://app.example.com',
  session: { secret: required('SESSION_SECRET') },
  telemetry: { meterProvider, tracerProvider },
});
