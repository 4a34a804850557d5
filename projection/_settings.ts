// The options of a Projection, read once by the one options reader: unknown keys refused,
// defaults filled in, then every value checked, before anything runs.

import type { EventLog } from "../src/event_log.ts";
import type { Instrumentation } from "../src/instrumentation.ts";
import { EventReader } from "../src/event_reader.ts";
import {
  anyValue,
  functionOption,
  integerAtLeast,
  objectWith,
  oneOf,
  optionMessage,
  readOptions,
} from "../src/_options.ts";
import type { ProjectionError } from "./errors.ts";
import { assertInstrumentation } from "../src/_observed.ts";
import { type ResolvedStrategy, resolveStrategy } from "./error_strategy.ts";
import type { OffsetStore } from "./offset_store.ts";
import { assertProjectionName } from "./_name_locks.ts";
import type { BatchHandler, EventHandler, ProjectionOptions } from "./projection_options.ts";

/** How long starting may take by default: a store that has not answered by then is stuck. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

/** A projection's checked options, defaults filled in. */
export interface ProjectionSettings<Event, Tx> {
  readonly name: string;
  readonly typeName: string;
  readonly eventLog: EventLog;
  readonly reader: EventReader<Event>;
  readonly store: OffsetStore<Tx>;
  readonly handleEvent: EventHandler<Event, Tx> | undefined;
  readonly handleBatch: BatchHandler<Event, Tx> | undefined;
  readonly strategy: ResolvedStrategy;
  readonly batchSize: number;
  readonly batchMs: number;
  readonly waitForName: boolean;
  readonly onError: (error: ProjectionError) => void;
  readonly startTimeoutMs: number;
  readonly instrumentation: Instrumentation | undefined;
}

const WHERE = "Projection";

// What each required option must be, also for the message when it is missing.
const REQUIRED = {
  eventLog: ["an EventLog (eventsByType)", ["eventsByType"]],
  binarize: ["a Binarize (eventFromBytes)", ["eventFromBytes"]],
  offsetStore: ["an OffsetStore (load and acquire)", ["load", "acquire"]],
} as const;

function reportToConsole(error: ProjectionError): void {
  console.warn(error);
}

function required<Value>(key: keyof typeof REQUIRED) {
  const [expected, methods] = REQUIRED[key];
  return objectWith(undefined as Value, methods, expected);
}

/** Checks the name and the options of a projection; throws a TypeError or RangeError. */
export function readProjectionSettings<Event, Tx>(
  name: unknown,
  given: unknown,
): ProjectionSettings<Event, Tx> {
  assertProjectionName(name);
  const options = readOptions<ProjectionOptions<Event, Tx>>(WHERE, given, {
    typeName: anyValue(undefined as unknown as string),
    eventLog: required("eventLog"),
    binarize: required("binarize"),
    offsetStore: required("offsetStore"),
    handleEvent: functionOption(undefined),
    handleBatch: functionOption(undefined),
    errorStrategy: anyValue(undefined),
    batchSize: integerAtLeast(1, 1),
    batchMs: integerAtLeast(0, 0),
    onLocked: oneOf(["fail", "wait"] as const, "fail"),
    onError: functionOption(reportToConsole),
    startTimeoutMs: integerAtLeast(1, DEFAULT_START_TIMEOUT_MS),
    instrumentation: objectWith(undefined, [], "an Instrumentation (an object of hooks)"),
  });
  for (const key of Object.keys(REQUIRED) as (keyof typeof REQUIRED)[]) {
    if (options[key] === undefined) {
      throw new TypeError(optionMessage(WHERE, key, undefined, REQUIRED[key][0]));
    }
  }
  assertInstrumentation(WHERE, options.instrumentation);
  const { handleEvent, handleBatch } = options;
  if ((handleEvent === undefined) === (handleBatch === undefined)) {
    throw new TypeError(
      `Invalid ${WHERE} options: give exactly one of handleEvent and handleBatch`,
    );
  }
  const reader = new EventReader<Event>(options.typeName, {
    eventLog: options.eventLog,
    binarize: options.binarize,
  });
  return {
    name,
    typeName: reader.typeName,
    eventLog: options.eventLog,
    reader,
    store: options.offsetStore,
    handleEvent,
    handleBatch,
    strategy: resolveStrategy(options.errorStrategy),
    batchSize: options.batchSize!,
    batchMs: options.batchMs!,
    waitForName: options.onLocked === "wait",
    onError: options.onError!,
    startTimeoutMs: options.startTimeoutMs!,
    instrumentation: options.instrumentation,
  };
}
