// One spawn as a span with children for the snapshot load and the replay, and its metrics;
// like a command, it records timestamps and makes the spans when it ends.

import { type Context, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { SpawnObserver } from "../src/instrumentation.ts";
import { now } from "./_clock.ts";
import type { CoreMetrics } from "./_metrics.ts";
import { ENTITY_ID, ENTITY_TYPE, REPLAY_EVENTS } from "./_attributes.ts";
import { parentContext } from "./_parent_context.ts";

/** Follows one spawn; made by the `spawn` hook of `openTelemetry()`. */
export class SpawnSpans implements SpawnObserver {
  readonly #tracer: Tracer | undefined;
  readonly #metrics: CoreMetrics;
  readonly #typeName: string;
  readonly #id: string;
  readonly #parent: Context | undefined;
  readonly #began: number;
  #loaded = 0;
  #snapshotSeqNo: number | null = null;

  constructor(tracer: Tracer | undefined, metrics: CoreMetrics, typeName: string, id: string) {
    this.#tracer = tracer;
    this.#metrics = metrics;
    this.#typeName = typeName;
    this.#id = id;
    this.#parent = tracer === undefined ? undefined : parentContext(undefined);
    this.#began = now();
  }

  snapshotLoaded(seqNo: number | null): void {
    this.#loaded = now();
    this.#snapshotSeqNo = seqNo;
  }

  ended(events: number, error?: unknown): void {
    const ended = now();
    const metrics = this.#metrics;
    const typeName = this.#typeName;
    metrics.spawnDuration.record(
      (ended - this.#began) / 1000,
      metrics.ofSpawn(typeName, error === undefined ? "ok" : "error"),
    );
    if (events > 0) metrics.replayEvents.add(events, metrics.ofType(typeName));
    const tracer = this.#tracer;
    if (tracer === undefined) return;
    const span = tracer.startSpan(`${typeName} spawn`, {
      startTime: this.#began,
      attributes: { [ENTITY_TYPE]: typeName, [ENTITY_ID]: this.#id, [REPLAY_EVENTS]: events },
    }, this.#parent);
    if (!span.isRecording()) {
      span.end(ended);
      return;
    }
    if (this.#snapshotSeqNo !== null) {
      span.setAttribute("eventsourced.snapshot.seq_no", this.#snapshotSeqNo);
    }
    if (error !== undefined) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      if (error instanceof Error) span.recordException(error, ended);
    }
    const parent = trace.setSpan(this.#parent!, span);
    let replayFrom = this.#began;
    if (this.#loaded !== 0) {
      tracer.startSpan("snapshot load", { startTime: this.#began }, parent).end(this.#loaded);
      replayFrom = this.#loaded;
    }
    tracer.startSpan("replay", {
      startTime: replayFrom,
      attributes: { [REPLAY_EVENTS]: events },
    }, parent).end(ended);
    span.end(ended);
  }
}
