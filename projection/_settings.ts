// The options of a Projection, read once by the one options reader: unknown keys refused,
// defaults filled in, then every value checked, before anything runs.

import type { EventLog, PersistedEvent } from "../src/event_log.ts";
import type { EventEnvelope } from "../src/event_reader.ts";
import type { Instrumentation } from "../src/instrumentation.ts";
import { EventReader } from "../src/event_reader.ts";
import {
  anyValue,
  functionOption,
  integerAtLeast,
  objectWith,
  oneOf,
  optionMessage,
  type OptionRules,
  readOptions,
} from "../src/_options.ts";
import type { ProjectionError } from "./errors.ts";
import { assertInstrumentation } from "../src/_observed.ts";
import { type ResolvedStrategy, resolveStrategy } from "./error_strategy.ts";
import type { OffsetStore } from "./offset_store.ts";
import { assertProjectionName } from "./_name_locks.ts";
import type { ProjectionContext, ProjectionOptions } from "./projection_options.ts";

/** How long starting may take by default: a store that has not answered by then is stuck. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

/** What the run loop needs of a projection's settings; `Envelope` is what its handler gets. */
export interface LoopSettings<Envelope, Tx> {
  readonly name: string;
  readonly eventLog: EventLog;
  readonly store: OffsetStore<Tx>;
  readonly decode: (event: PersistedEvent) => Envelope;
  readonly handleEvent:
    | ((envelope: Envelope, context: ProjectionContext<Tx>) => void | Promise<void>)
    | undefined;
  readonly handleBatch:
    | ((envelopes: readonly Envelope[], context: ProjectionContext<Tx>) => void | Promise<void>)
    | undefined;
  readonly strategy: ResolvedStrategy;
  readonly batchSize: number;
  readonly batchMs: number;
  readonly waitForName: boolean;
  readonly onError: (error: ProjectionError) => void;
  readonly startTimeoutMs: number;
  readonly instrumentation: Instrumentation | undefined;
}

/** A projection's checked options, defaults filled in. */
export interface ProjectionSettings<Event, Tx> extends LoopSettings<EventEnvelope<Event>, Tx> {
  readonly typeName: string;
  readonly reader: EventReader<Event>;
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

/** The options every projection has, single-type or not, with their rules. */
export const COMMON_RULES = {
  eventLog: required("eventLog"),
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
} as const;

/** The options every projection has, as read by {@linkcode COMMON_RULES}. */
export interface CommonOptions {
  eventLog?: EventLog | undefined;
  offsetStore?: OffsetStore<unknown> | undefined;
  handleEvent?: unknown;
  handleBatch?: unknown;
  errorStrategy?: unknown;
  batchSize?: number | undefined;
  batchMs?: number | undefined;
  onLocked?: "fail" | "wait" | undefined;
  onError?: ((error: ProjectionError) => void) | undefined;
  startTimeoutMs?: number | undefined;
  instrumentation?: Instrumentation | undefined;
  binarize?: unknown;
}

/**
 * Checks what {@linkcode COMMON_RULES} read (required options given, one handler, the hooks);
 * throws a TypeError or RangeError naming `where`. Returns the settings but `decode`.
 */
export function checkCommon<Envelope, Tx>(
  where: string,
  name: string,
  options: CommonOptions,
  required: readonly (keyof typeof REQUIRED)[],
): Omit<LoopSettings<Envelope, Tx>, "decode"> {
  for (const key of required) {
    if (options[key] === undefined) {
      throw new TypeError(optionMessage(where, key, undefined, REQUIRED[key][0]));
    }
  }
  assertInstrumentation(where, options.instrumentation);
  const { handleEvent, handleBatch } = options;
  if ((handleEvent === undefined) === (handleBatch === undefined)) {
    throw new TypeError(
      `Invalid ${where} options: give exactly one of handleEvent and handleBatch`,
    );
  }
  return {
    name,
    eventLog: options.eventLog!,
    store: options.offsetStore as OffsetStore<Tx>,
    handleEvent: handleEvent as LoopSettings<Envelope, Tx>["handleEvent"],
    handleBatch: handleBatch as LoopSettings<Envelope, Tx>["handleBatch"],
    strategy: resolveStrategy(options.errorStrategy),
    batchSize: options.batchSize!,
    batchMs: options.batchMs!,
    waitForName: options.onLocked === "wait",
    onError: options.onError!,
    startTimeoutMs: options.startTimeoutMs!,
    instrumentation: options.instrumentation,
  };
}

/** Checks the name and the options of a projection; throws a TypeError or RangeError. */
export function readProjectionSettings<Event, Tx>(
  name: unknown,
  given: unknown,
): ProjectionSettings<Event, Tx> {
  assertProjectionName(name);
  const { eventLog, ...rest } = COMMON_RULES;
  const rules = {
    typeName: anyValue(undefined as unknown as string),
    eventLog,
    binarize: required("binarize"),
    ...rest,
  };
  const options = readOptions<ProjectionOptions<Event, Tx>>(
    WHERE,
    given,
    rules as unknown as OptionRules<ProjectionOptions<Event, Tx>>,
  );
  const common = checkCommon<EventEnvelope<Event>, Tx>(
    WHERE,
    name,
    options as CommonOptions,
    ["eventLog", "binarize", "offsetStore"],
  );
  const reader = new EventReader<Event>(options.typeName, {
    eventLog: options.eventLog,
    binarize: options.binarize,
  });
  return { ...common, typeName: reader.typeName, reader, decode: (event) => reader.decode(event) };
}
