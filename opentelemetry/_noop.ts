// Whether a provider is the API's no-op, the one in place while no SDK is registered: then
// openTelemetry() leaves out what it would feed, so an application without an SDK pays nothing.
// Told by class, without making a span or an instrument: a probe span would be exported.

import {
  createNoopMeter,
  type Meter,
  ProxyTracerProvider,
  type TracerProvider,
} from "@opentelemetry/api";

// The API's no-op tracer provider: what a ProxyTracerProvider without a delegate hands out.
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const NOOP_METER = createNoopMeter();

/** Whether `provider` (or the delegate of the global proxy) is the API's no-op. */
export function isNoopTracerProvider(provider: TracerProvider): boolean {
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate.constructor === NOOP_TRACER_PROVIDER.constructor;
}

/** Whether `meter` is the API's no-op meter. */
export function isNoopMeter(meter: Meter): boolean {
  return meter.constructor === NOOP_METER.constructor;
}
