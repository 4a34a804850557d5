// The SQL group commit's batches as spans and metrics: a span per batch, linked to the command
// spans whose trace context the writes' metadata carry, and histograms of its duration and
// size by backend.

import {
  type Attributes,
  type Histogram,
  type Meter,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from "@opentelemetry/api";
import type { Instrumentation, PersistBatch } from "../src/instrumentation.ts";
import { errorText } from "../src/_error_text.ts";
import { now } from "./_clock.ts";
import { traceLinks } from "./_trace_links.ts";

/** The attribute naming the backend of a persist batch. */
export const BACKEND = "eventsourced.backend";

/** The instruments of persist batches. */
class PersistBatchMetrics {
  readonly duration: Histogram;
  readonly writes: Histogram;
  readonly events: Histogram;
  readonly #byBackend = new Map<string, Attributes>();

  constructor(meter: Meter) {
    this.duration = meter.createHistogram("eventsourced.persist.batch.duration", {
      description: "How long persist batches took, from sending to the acknowledgement",
      unit: "s",
    });
    this.writes = meter.createHistogram("eventsourced.persist.batch.writes", {
      description: "Persist calls per batch",
      unit: "{write}",
    });
    this.events = meter.createHistogram("eventsourced.persist.batch.events", {
      description: "Events per batch",
      unit: "{event}",
    });
  }

  ofBackend(backend: string): Attributes {
    let attributes = this.#byBackend.get(backend);
    if (attributes === undefined) {
      attributes = Object.freeze({ [BACKEND]: backend });
      this.#byBackend.set(backend, attributes);
    }
    return attributes;
  }
}

/** The `persistBatch` hook of `openTelemetry()`. */
export function persistBatchHook(
  tracer: Tracer,
  meter: Meter,
): NonNullable<Instrumentation["persistBatch"]> {
  const metrics = new PersistBatchMetrics(meter);
  return (batch: PersistBatch) => {
    const started = now();
    const span = tracer.startSpan(`${batch.backend} persist batch`, {
      kind: SpanKind.CLIENT,
      startTime: started,
      attributes: {
        [BACKEND]: batch.backend,
        "eventsourced.batch.writes": batch.writes.length,
        "eventsourced.batch.events": batch.events,
        "eventsourced.batch.bytes": batch.bytes,
      },
      links: traceLinks(batch.writes.map((write) => write.metadata)),
    });
    return {
      ended(error?: unknown) {
        const ended = now();
        if (error !== undefined) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorText(error) });
        }
        span.end(ended);
        const attributes = metrics.ofBackend(batch.backend);
        metrics.duration.record((ended - started) / 1000, attributes);
        metrics.writes.record(batch.writes.length, attributes);
        metrics.events.record(batch.events, attributes);
      },
    };
  };
}
