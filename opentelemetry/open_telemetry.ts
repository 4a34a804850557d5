/**
 * The instrumentation that reports to OpenTelemetry.
 *
 * @module
 */

import { type MeterProvider, metrics, trace, type TracerProvider } from "@opentelemetry/api";
import type { Instrumentation } from "../src/instrumentation.ts";
import { assertKnownKeys } from "../src/_options.ts";
import { quote } from "../src/_validate.ts";
import { CoreMetrics } from "./_metrics.ts";
import { CommandSpans } from "./_command_spans.ts";
import { SpawnSpans } from "./_spawn_spans.ts";
import { isNoopMeter, isNoopTracerProvider } from "./_noop.ts";
import { edgeHooks } from "./_edges.ts";

/**
 * The name of the tracer and of the meter that {@linkcode openTelemetry} reports through.
 *
 * @example Find the library's metrics in an export
 * ```ts
 * import { INSTRUMENTATION_SCOPE } from "@eventsourced/eventsourced/opentelemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(INSTRUMENTATION_SCOPE, "eventsourced");
 * ```
 */
export const INSTRUMENTATION_SCOPE = "eventsourced";

/**
 * Options of {@linkcode openTelemetry}.
 *
 * @example A tracer provider of its own
 * ```ts
 * import { openTelemetry, type OpenTelemetryOptions } from "@eventsourced/eventsourced/opentelemetry";
 * import { trace } from "@opentelemetry/api";
 *
 * const options: OpenTelemetryOptions = { tracerProvider: trace.getTracerProvider() };
 * const instrumentation = openTelemetry(options);
 * ```
 */
export interface OpenTelemetryOptions {
  /**
   * Where spans go; default: the global one (`trace.getTracerProvider()`), taken when
   * `openTelemetry()` is called, so register the SDK first.
   */
  tracerProvider?: TracerProvider | undefined;
  /**
   * Where metrics go; default: the global one (`metrics.getMeterProvider()`), taken when
   * `openTelemetry()` is called, so register the SDK first.
   */
  meterProvider?: MeterProvider | undefined;
}

/**
 * An {@linkcode Instrumentation} that makes OpenTelemetry spans and metrics of what the
 * entities do, to pass as the `instrumentation` option of `spawn` or `EntityRegistry`. Built on
 * `@opentelemetry/api` only. Register the SDK first: providers that are the API's no-op (no SDK
 * registered when `openTelemetry()` is called) are left out, and with neither a tracer nor a
 * meter provider of an SDK it returns no hooks at all, so it costs nothing.
 *
 * Spans: `<type> command` (children `mailbox wait`, `decide`, `persist`, `apply and reply`)
 * and `<type> spawn` (children `snapshot load`, `replay`), under the caller's active span or
 * else the W3C trace context in the command's `traceparent` metadata header. The events of a
 * command carry its span's `traceparent` in their metadata headers (when there is room and the
 * command did not set one itself).
 *
 * Metrics (meter `eventsourced`): `eventsourced.command.duration` (s, by entity type and
 * outcome), `eventsourced.mailbox.depth`, `eventsourced.command.overloads`,
 * `eventsourced.replay.events`, `eventsourced.spawn.duration` (s),
 * `eventsourced.entity.live`, `eventsourced.entity.passivations`.
 *
 * @example Instrument a registry
 * ```ts
 * import { emit, EntityRegistry, jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { openTelemetry } from "@eventsourced/eventsourced/opentelemetry";
 * import assert from "node:assert/strict";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * await using counters = new EntityRegistry(counter, {
 *   eventLog: new MemoryEventLog(),
 *   binarize: jsonBinarize(),
 *   instrumentation: openTelemetry(),
 * });
 * const result = await counters.handleCommand("a", { handleCommand: () => emit(1) });
 * assert.deepEqual(result, { ok: true, value: undefined });
 * ```
 */
export function openTelemetry(options?: OpenTelemetryOptions): Instrumentation {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(`Invalid openTelemetry options ${quote(options)}: expected an object`);
  }
  assertKnownKeys("openTelemetry", options ?? {}, ["tracerProvider", "meterProvider"]);
  const tracerProvider = options?.tracerProvider ?? trace.getTracerProvider();
  const meterProvider = options?.meterProvider ?? metrics.getMeterProvider();
  if (typeof tracerProvider?.getTracer !== "function") {
    throw new TypeError(
      `Invalid openTelemetry option tracerProvider ${
        quote(tracerProvider)
      }: expected a TracerProvider`,
    );
  }
  if (typeof meterProvider?.getMeter !== "function") {
    throw new TypeError(
      `Invalid openTelemetry option meterProvider ${
        quote(meterProvider)
      }: expected a MeterProvider`,
    );
  }
  const tracer = isNoopTracerProvider(tracerProvider)
    ? undefined
    : tracerProvider.getTracer(INSTRUMENTATION_SCOPE);
  const meter = meterProvider.getMeter(INSTRUMENTATION_SCOPE);
  // Without an SDK there is nothing to record: no hooks, so the core skips them at no cost.
  if (tracer === undefined && isNoopMeter(meter)) return {};
  const core = new CoreMetrics(meter);
  return {
    command: (typeName, id, metadata, waiting) =>
      new CommandSpans(tracer, core, typeName, id, metadata, waiting),
    spawn: (typeName, id) => new SpawnSpans(tracer, core, typeName, id),
    liveEntities: (typeName, change, passivated) => {
      const attributes = core.ofType(typeName);
      core.liveEntities.add(change, attributes);
      if (passivated) core.passivations.add(1, attributes);
    },
    ...edgeHooks(tracer, meter),
  };
}
