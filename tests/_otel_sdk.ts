// The real OpenTelemetry SDK for the otel tests: spans into an in-memory exporter, metrics
// read on demand by a MetricReader.

import type { MetricAttributes } from "@opentelemetry/api";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import {
  DataPointType,
  MeterProvider,
  type MetricData,
  MetricReader,
} from "@opentelemetry/sdk-metrics";

/** A reader whose `collect()` the test calls. */
class OnDemandReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A tracer provider and a meter provider of the SDK, and what they recorded. */
export class Sdk {
  readonly spans = new InMemorySpanExporter();
  readonly tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: this.spans })],
  });
  readonly #reader = new OnDemandReader();
  readonly meterProvider = new MeterProvider({ readers: [this.#reader] });

  /** The options of `openTelemetry` that report to this SDK. */
  get providers(): { tracerProvider: TracerProvider; meterProvider: MeterProvider } {
    return { tracerProvider: this.tracerProvider, meterProvider: this.meterProvider };
  }

  /** The finished spans named `name`. */
  named(name: string): ReadableSpan[] {
    return this.spans.getFinishedSpans().filter((span) => span.name === name);
  }

  /** The one finished span named `name`. */
  one(name: string): ReadableSpan {
    const spans = this.named(name);
    if (spans.length !== 1) {
      throw new Error(`Expected one span "${name}", found ${spans.length}: ${this.names()}`);
    }
    return spans[0]!;
  }

  /** The finished spans that `parent` is the parent of. */
  childrenOf(parent: ReadableSpan): ReadableSpan[] {
    const { spanId, traceId } = parent.spanContext();
    return this.spans.getFinishedSpans().filter((span) =>
      span.parentSpanContext?.spanId === spanId && span.spanContext().traceId === traceId
    );
  }

  names(): string {
    return this.spans.getFinishedSpans().map((span) => span.name).join(", ");
  }

  /** The metric named `name` as collected now; fails when it was not recorded. */
  async metric(name: string): Promise<MetricData> {
    const { resourceMetrics, errors } = await this.#reader.collect();
    if (errors.length > 0) throw errors[0];
    const found = resourceMetrics.scopeMetrics
      .filter((scope) => scope.scope.name === "eventsourced")
      .flatMap((scope) => scope.metrics)
      .find((metric) => metric.descriptor.name === name);
    if (found === undefined) throw new Error(`No metric "${name}" was recorded`);
    return found;
  }

  /**
   * The value of a sum (counter, up-down counter) or the count, sum and max of a histogram,
   * by the data point whose attributes equal `attributes`.
   */
  async value(
    name: string,
    attributes: MetricAttributes,
  ): Promise<number | { count: number; sum: number | undefined; max: number | undefined }> {
    const metric = await this.metric(name);
    const point = (metric.dataPoints as { attributes: MetricAttributes; value: unknown }[]).find(
      (p) => sameAttributes(p.attributes, attributes),
    );
    if (point === undefined) {
      throw new Error(
        `No data point of "${name}" with ${JSON.stringify(attributes)}; has ${
          JSON.stringify(metric.dataPoints.map((p) => p.attributes))
        }`,
      );
    }
    if (metric.dataPointType === DataPointType.HISTOGRAM) {
      const histogram = point.value as { count: number; sum?: number; max?: number };
      return { count: histogram.count, sum: histogram.sum, max: histogram.max };
    }
    return point.value as number;
  }

  async shutdown(): Promise<void> {
    await this.tracerProvider.shutdown();
    await this.meterProvider.shutdown();
  }
}

function sameAttributes(a: MetricAttributes, b: MetricAttributes): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** Milliseconds of an SDK time, for ordering. */
export function millis(time: readonly [number, number]): number {
  return time[0] * 1000 + time[1] / 1e6;
}
