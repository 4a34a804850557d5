// The hooks at the edges of the core, as `openTelemetry()` plugs them in: the SQL group
// commit's persist batches, projection batches, and the entity cluster client's sends.

import type { Meter, Tracer } from "@opentelemetry/api";
import type { Instrumentation } from "../src/instrumentation.ts";
import { clusterSendHook } from "./_cluster_send.ts";
import { persistBatchHook } from "./_persist_batch.ts";
import { projectionBatchHook } from "./_projection_batch.ts";

/** The edge hooks reporting to `tracer` and `meter`. */
export function edgeHooks(
  tracer: Tracer | undefined,
  meter: Meter,
): Pick<Instrumentation, "persistBatch" | "projectionBatch" | "clusterSend"> {
  return {
    persistBatch: persistBatchHook(tracer, meter),
    projectionBatch: projectionBatchHook(tracer, meter),
    clusterSend: clusterSendHook(tracer, meter),
  };
}
