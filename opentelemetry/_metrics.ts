// The core's metrics: commands, mailboxes, spawns and live entities, on the meter
// "eventsourced", with OpenTelemetry names and UCUM units. Attribute sets are cached per
// entity type and outcome so recording a command allocates nothing.

import type { Attributes, Counter, Histogram, Meter, UpDownCounter } from "@opentelemetry/api";
import { COMMAND_OUTCOME, ENTITY_TYPE, SPAWN_OUTCOME } from "./_attributes.ts";

// Seconds, from 100 µs (an in-memory command) to 10 s (a write that timed out).
export const SECONDS_BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];
const DEPTH_BUCKETS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** The instruments of the core, made once per `openTelemetry()` call. */
export class CoreMetrics {
  readonly commandDuration: Histogram;
  readonly mailboxDepth: Histogram;
  readonly overloads: Counter;
  readonly replayEvents: Counter;
  readonly spawnDuration: Histogram;
  readonly liveEntities: UpDownCounter;
  readonly passivations: Counter;
  readonly #byType = new Map<string, Attributes>();
  readonly #commandOutcomes = new Map<string, Map<string, Attributes>>();
  readonly #spawnOutcomes = new Map<string, Map<string, Attributes>>();

  constructor(meter: Meter) {
    this.commandDuration = meter.createHistogram("eventsourced.command.duration", {
      description: "How long commands took, from arrival at the entity to the reply",
      unit: "s",
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    });
    this.mailboxDepth = meter.createHistogram("eventsourced.mailbox.depth", {
      description: "How many commands waited in the mailbox ahead of an arriving command",
      unit: "{command}",
      advice: { explicitBucketBoundaries: DEPTH_BUCKETS },
    });
    this.overloads = meter.createCounter("eventsourced.command.overloads", {
      description: "Commands refused because the mailbox was full (outcome mailbox-full)",
      unit: "{command}",
    });
    this.replayEvents = meter.createCounter("eventsourced.replay.events", {
      description: "Events replayed by spawns",
      unit: "{event}",
    });
    this.spawnDuration = meter.createHistogram("eventsourced.spawn.duration", {
      description: "How long spawns took: snapshot load and replay",
      unit: "s",
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    });
    this.liveEntities = meter.createUpDownCounter("eventsourced.entity.live", {
      description: "Entities live in registries",
      unit: "{entity}",
    });
    this.passivations = meter.createCounter("eventsourced.entity.passivations", {
      description: "Idle entities stopped by their registry",
      unit: "{entity}",
    });
  }

  /** `{ eventsourced.entity.type }`, shared. */
  ofType(typeName: string): Attributes {
    let attributes = this.#byType.get(typeName);
    if (attributes === undefined) {
      attributes = Object.freeze({ [ENTITY_TYPE]: typeName });
      this.#byType.set(typeName, attributes);
    }
    return attributes;
  }

  /** `{ eventsourced.entity.type, eventsourced.command.outcome }`, shared. */
  ofCommand(typeName: string, outcome: string): Attributes {
    return cached(this.#commandOutcomes, COMMAND_OUTCOME, typeName, outcome);
  }

  /** `{ eventsourced.entity.type, eventsourced.spawn.outcome }`, shared. */
  ofSpawn(typeName: string, outcome: "ok" | "error"): Attributes {
    return cached(this.#spawnOutcomes, SPAWN_OUTCOME, typeName, outcome);
  }
}

function cached(
  byOutcome: Map<string, Map<string, Attributes>>,
  key: string,
  typeName: string,
  outcome: string,
): Attributes {
  let byType = byOutcome.get(outcome);
  if (byType === undefined) byOutcome.set(outcome, byType = new Map());
  let attributes = byType.get(typeName);
  if (attributes === undefined) {
    attributes = Object.freeze({ [ENTITY_TYPE]: typeName, [key]: outcome });
    byType.set(typeName, attributes);
  }
  return attributes;
}
