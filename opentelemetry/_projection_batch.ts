// A projection's batches as spans and metrics: a span per batch from before the handler to the
// offset commit, linked to the command spans that wrote its events (their `traceparent`
// metadata header), and by projection name the events handled, the batch duration, and the lag
// once a batch is committed: seconds since its last event was written, that event's position,
// and the events still to read after it, where the log counts them (`countAfter`). A batch of a
// projection over several types may mix them, and positions only compare within a type: such a
// batch names its types instead of a position range, and records a position per type.

import {
  type Attributes,
  type Counter,
  type Gauge,
  type Histogram,
  type Meter,
  SpanKind,
  type Tracer,
} from "@opentelemetry/api";
import type { PersistedEvent } from "../src/event_log.ts";
import type { Instrumentation } from "../src/instrumentation.ts";
import { ENTITY_TYPE } from "./_attributes.ts";
import { BatchSpan } from "./_batch_span.ts";
import { attributeSets } from "./_attribute_sets.ts";
import { SECONDS_BUCKETS } from "./_metrics.ts";

/** The attribute naming the projection. */
export const PROJECTION_NAME = "eventsourced.projection.name";

/** The instruments of projections. */
class ProjectionMetrics {
  readonly events: Counter;
  readonly duration: Histogram;
  readonly lag: Gauge;
  readonly position: Gauge;
  readonly behind: Gauge;
  readonly ofName: (name: string) => Attributes = attributeSets(PROJECTION_NAME);
  readonly ofNameAndType: (name: string, typeName: string) => Attributes = attributeSets(
    PROJECTION_NAME,
    ENTITY_TYPE,
  );

  constructor(meter: Meter) {
    this.events = meter.createCounter("eventsourced.projection.events", {
      description: "Events handled and committed by projections",
      unit: "{event}",
    });
    this.duration = meter.createHistogram("eventsourced.projection.batch.duration", {
      description: "How long projection batches took, from the handler to the offset commit",
      unit: "s",
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    });
    this.lag = meter.createGauge("eventsourced.projection.lag", {
      description:
        "Seconds between the writing of a projection's last committed event and its commit",
      unit: "s",
    });
    this.position = meter.createGauge("eventsourced.projection.position", {
      description: "The position of a projection's last committed event",
      unit: "{position}",
    });
    this.behind = meter.createGauge("eventsourced.projection.lag.events", {
      description: "Events of the type after a projection's last committed batch",
      unit: "{event}",
    });
  }
}

/** The `projectionBatch` hook of `openTelemetry()`. */
export function projectionBatchHook(
  tracer: Tracer | undefined,
  meter: Meter,
): NonNullable<Instrumentation["projectionBatch"]> {
  const metrics = new ProjectionMetrics(meter);
  return (name: string, events: readonly PersistedEvent[]) => {
    const first = events[0]!;
    const last = events[events.length - 1]!;
    const lastByType = lastOfEachType(events);
    const span = new BatchSpan(
      tracer,
      `${name} projection batch`,
      SpanKind.CONSUMER,
      lastByType === undefined
        ? {
          [PROJECTION_NAME]: name,
          [ENTITY_TYPE]: first.typeName,
          "eventsourced.projection.events": events.length,
          "eventsourced.projection.from_position": first.position,
          "eventsourced.projection.to_position": last.position,
        }
        : {
          [PROJECTION_NAME]: name,
          "eventsourced.projection.types": [...lastByType.keys()],
          "eventsourced.projection.events": events.length,
        },
      events.map((event) => event.metadata),
    );
    const newest = lastByType === undefined ? last : newestOf(lastByType.values());
    return {
      ended(error?: unknown) {
        const attributes = metrics.ofName(name);
        if (error !== undefined) {
          metrics.duration.record(span.end(error), attributes);
          return;
        }
        const lag = Math.max(0, (Date.now() - newest.writtenAt) / 1000);
        metrics.duration.record(
          span.end(undefined, { "eventsourced.projection.lag": lag }),
          attributes,
        );
        metrics.events.add(events.length, attributes);
        metrics.lag.record(lag, attributes);
        if (lastByType === undefined) {
          metrics.position.record(last.position, attributes);
        } else {
          for (const [typeName, event] of lastByType) {
            metrics.position.record(event.position, metrics.ofNameAndType(name, typeName));
          }
        }
      },
      behind(count: number) {
        metrics.behind.record(count, metrics.ofName(name));
      },
    };
  };
}

/** The last event of each type of a batch holding several types; `undefined` for one type. */
function lastOfEachType(
  events: readonly PersistedEvent[],
): Map<string, PersistedEvent> | undefined {
  const typeName = events[0]!.typeName;
  if (events.every((event) => event.typeName === typeName)) return undefined;
  const last = new Map<string, PersistedEvent>();
  for (const event of events) last.set(event.typeName, event);
  return last;
}

/** The event written last among `events`. */
function newestOf(events: Iterable<PersistedEvent>): PersistedEvent {
  let newest: PersistedEvent | undefined;
  for (const event of events) {
    if (newest === undefined || event.writtenAt > newest.writtenAt) newest = event;
  }
  return newest!;
}
