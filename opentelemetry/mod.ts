/**
 * OpenTelemetry tracing and metrics for eventsourced: {@linkcode openTelemetry} returns the
 * hooks that `spawn`, `EntityRegistry` and the backends take as their `instrumentation`
 * option. Depends on `@opentelemetry/api` only; install an OpenTelemetry SDK to export what it
 * records.
 *
 * @example Spawn an instrumented entity
 * ```ts
 * import { emit, jsonBinarize, MemoryEventLog, spawn } from "@eventsourced/eventsourced";
 * import { openTelemetry } from "@eventsourced/eventsourced/opentelemetry";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * const ref = await spawn(counter, "a", {
 *   eventLog: new MemoryEventLog(),
 *   binarize: jsonBinarize(),
 *   instrumentation: openTelemetry(),
 * });
 * await ref.handleCommand({ handleCommand: () => emit(1) });
 * await ref.stop();
 * ```
 *
 * @module
 */

export type { OpenTelemetryOptions } from "./open_telemetry.ts";
export { INSTRUMENTATION_SCOPE, openTelemetry } from "./open_telemetry.ts";
