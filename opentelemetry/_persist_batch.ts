// The SQL group commit's batches as spans and metrics: a span per batch, linked to the command
// spans whose trace context the writes' metadata carry, and histograms of its duration and
// size by backend.

import {
  type Attributes,
  type Histogram,
  type Meter,
  SpanKind,
  type Tracer,
} from "@opentelemetry/api";
import type { Instrumentation, PersistBatch } from "../src/instrumentation.ts";
import { BatchSpan } from "./_batch_span.ts";
import { attributeSets } from "./_attribute_sets.ts";
import { SECONDS_BUCKETS } from "./_metrics.ts";

/** The attribute naming the backend of a persist batch. */
export const BACKEND = "eventsourced.backend";

/** The instruments of persist batches. */
class PersistBatchMetrics {
  readonly duration: Histogram;
  readonly writes: Histogram;
  readonly events: Histogram;
  readonly ofBackend: (backend: string) => Attributes = attributeSets(BACKEND);

  constructor(meter: Meter) {
    this.duration = meter.createHistogram("eventsourced.persist.batch.duration", {
      description: "How long persist batches took, from sending to the acknowledgement",
      unit: "s",
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
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
}

/** The `persistBatch` hook of `openTelemetry()`. */
export function persistBatchHook(
  tracer: Tracer | undefined,
  meter: Meter,
): NonNullable<Instrumentation["persistBatch"]> {
  const metrics = new PersistBatchMetrics(meter);
  return (batch: PersistBatch) => {
    const span = new BatchSpan(
      tracer,
      `${batch.backend} persist batch`,
      SpanKind.CLIENT,
      {
        [BACKEND]: batch.backend,
        "eventsourced.batch.writes": batch.writes.length,
        "eventsourced.batch.events": batch.events,
        "eventsourced.batch.bytes": batch.bytes,
      },
      batch.writes.map((write) => write.metadata),
    );
    return {
      ended(error?: unknown) {
        const seconds = span.end(error);
        const attributes = metrics.ofBackend(batch.backend);
        metrics.duration.record(seconds, attributes);
        metrics.writes.record(batch.writes.length, attributes);
        metrics.events.record(batch.events, attributes);
      },
    };
  };
}
