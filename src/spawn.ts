/**
 * Spawning an entity: validate, recover from snapshot and log, return its handle.
 *
 * @module
 */

import type { Binarize } from "./binarize.ts";
import type { EntityRef } from "./entity_ref.ts";
import type { EventLog } from "./event_log.ts";
import type { EventSourced } from "./event_sourced.ts";
import type { SnapshotStore } from "./snapshot_store.ts";
import { SpawnError } from "./errors.ts";
import { Entity, type EntityConfig } from "./_entity.ts";
import { replay } from "./_replay.ts";
import { decodeState } from "./_decode.ts";
import { CommandIds } from "./_command_ids.ts";
import { assertVersion } from "./event_metadata.ts";
import { assertId, assertTypeName, quote } from "./_validate.ts";
import {
  functionOption,
  integerAtLeast,
  objectWith,
  type OptionRules,
  readOptions,
  signalOption,
} from "./_options.ts";
import { errorText } from "./_error_text.ts";
import type { Instrumentation } from "./instrumentation.ts";
import { assertInstrumentation, hasHooks, ObservedSpawn } from "./_observed.ts";

/**
 * Options of {@linkcode spawn}.
 *
 * @example Snapshots every 100 events
 * ```ts
 * import { jsonBinarize, MemoryEventLog, MemorySnapshotStore, spawn, type SpawnOptions } from "@eventsourced/eventsourced";
 *
 * const entity = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * const options: SpawnOptions<number, number> = {
 *   eventLog: new MemoryEventLog(),
 *   binarize: jsonBinarize(),
 *   snapshotStore: new MemorySnapshotStore(),
 *   snapshotAfter: 100,
 *   commandBufferSize: 32,
 *   onError: (error) => console.error(error),
 * };
 * const ref = await spawn(entity, "a", options);
 * await ref.stop();
 * ```
 */
export interface SpawnOptions<State, Event> {
  /** Where the entity's events are stored. */
  eventLog: EventLog;
  /** Encodes events and snapshots. */
  binarize: Binarize<Event, State>;
  /** Where snapshots are loaded from and saved to; none: no snapshots. */
  snapshotStore?: SnapshotStore | undefined;
  /**
   * Save a snapshot each time the seqNo crosses a multiple of this number (so the cadence
   * survives restarts). Needs `snapshotStore`; without it no snapshots are saved.
   */
  snapshotAfter?: number | undefined;
  /**
   * How many commands may wait behind the one running; default 64. A command sent while that
   * many wait fails at once with a `HandleCommandError` of reason `"mailbox-full"` (nothing is
   * done, the entity goes on), so an overloaded entity holds a bounded number of commands.
   */
  commandBufferSize?: number | undefined;
  /**
   * How many of the entity's latest events it remembers the `commandId`s of, default 256;
   * 0: none. A command whose `commandId` one of them carries is answered as a `Duplicate`
   * and not applied again, also after a respawn (the ids are read back from the log: after a
   * spawn from a snapshot, once the first command with a `commandId` comes).
   */
  deduplicationWindow?: number | undefined;
  /** Aborts recovery; aborting after the spawn stops the entity as `stop()` does. */
  signal?: AbortSignal | undefined;
  /**
   * Receives failures that do not fail a command, such as a snapshot that could not be
   * saved. Default: `console.warn`.
   */
  onError?: ((error: Error) => void) | undefined;
  /**
   * Hooks that hear of the spawn and of every command (the `./opentelemetry` subpath makes
   * spans and metrics of them); none: nothing is reported, at no cost.
   */
  instrumentation?: Instrumentation | undefined;
}

const DEFAULT_COMMAND_BUFFER_SIZE = 64;
const DEFAULT_DEDUPLICATION_WINDOW = 256;

function reportToConsole(error: Error): void {
  console.warn(error);
}

/** The rules of the options every entity of a config shares (spawn's, less the signal). */
export const entityOptionRules: OptionRules<Omit<SpawnOptions<unknown, unknown>, "signal">> = {
  eventLog: objectWith(
    undefined as unknown as EventLog,
    ["persist", "lastSeqNo", "eventsById", "eventsByType"],
    "an EventLog (persist, lastSeqNo, eventsById, eventsByType)",
  ),
  binarize: objectWith(
    undefined as unknown as Binarize<unknown, unknown>,
    ["eventToBytes", "eventFromBytes", "stateToBytes", "stateFromBytes"],
    "a Binarize (eventToBytes, eventFromBytes, stateToBytes, stateFromBytes)",
  ),
  snapshotStore: objectWith(undefined, ["save", "load"], "a SnapshotStore (save, load)"),
  snapshotAfter: integerAtLeast(1, undefined),
  commandBufferSize: integerAtLeast(1, DEFAULT_COMMAND_BUFFER_SIZE),
  deduplicationWindow: integerAtLeast(0, DEFAULT_DEDUPLICATION_WINDOW),
  onError: functionOption(reportToConsole),
  instrumentation: objectWith(
    undefined,
    [],
    "an Instrumentation (an object of optional hooks)",
  ),
};

const spawnOptionRules: OptionRules<SpawnOptions<unknown, unknown>> = {
  ...entityOptionRules,
  signal: signalOption(),
};

/** Reads spawn's options: unknown keys and bad values are refused, defaults filled in. */
export function readSpawnOptions<State, Event>(
  options: SpawnOptions<State, Event>,
): SpawnOptions<State, Event> {
  return readOptions("spawn", options, spawnOptionRules) as SpawnOptions<State, Event>;
}

/**
 * Checks the entity and the options (already read by `readOptions`, `where` names the call)
 * and builds the config shared by the entities spawned with them.
 */
export function entityConfig<State, Event>(
  entity: EventSourced<State, Event>,
  options: Omit<SpawnOptions<State, Event>, "signal">,
  where: string,
): EntityConfig<State, Event> {
  if (typeof entity !== "object" || entity === null) {
    throw new TypeError(`Invalid entity: expected an object, got ${quote(entity)}`);
  }
  if (typeof entity.handleEvent !== "function") {
    throw new TypeError("Invalid entity: handleEvent is not a function");
  }
  assertTypeName(entity.typeName);
  for (const required of ["eventLog", "binarize"] as const) {
    if (options[required] === undefined) {
      throw new TypeError(
        `Missing ${where} option ${required}: expected ${entityOptionRules[required].expected}`,
      );
    }
  }
  if (options.snapshotAfter !== undefined && options.snapshotStore === undefined) {
    throw new TypeError(
      `Invalid ${where} option snapshotAfter ${options.snapshotAfter}: it needs a snapshotStore to save to`,
    );
  }
  const { eventVersion, stateVersion } = options.binarize;
  if (eventVersion !== undefined) assertVersion(eventVersion, "binarize.eventVersion");
  if (stateVersion !== undefined) assertVersion(stateVersion, "binarize.stateVersion");
  assertInstrumentation(where, options.instrumentation);
  return {
    entity,
    eventLog: options.eventLog,
    binarize: options.binarize,
    snapshotStore: options.snapshotStore,
    snapshotAfter: options.snapshotAfter,
    commandBufferSize: options.commandBufferSize ?? DEFAULT_COMMAND_BUFFER_SIZE,
    deduplicationWindow: options.deduplicationWindow ?? DEFAULT_DEDUPLICATION_WINDOW,
    onError: options.onError ?? reportToConsole,
    instrumentation: hasHooks(options.instrumentation) ? options.instrumentation : undefined,
    persistOptions: eventVersion === undefined || eventVersion === 1
      ? undefined
      : Object.freeze({ version: eventVersion }),
  };
}

/** Recovers the entity `id` with a config built by {@linkcode entityConfig}. */
export async function spawnWithConfig<State, Event>(
  config: EntityConfig<State, Event>,
  id: string,
  signal: AbortSignal | undefined,
): Promise<Entity<State, Event>> {
  const { entity, eventLog, binarize, snapshotStore, deduplicationWindow } = config;
  const typeName = entity.typeName;
  const name = `"${typeName}/${id}"`;
  const callOptions = signal === undefined ? undefined : { signal };
  let state = entity.initialState;
  let seqNo = 0;
  let replayedTo = 0;
  const observer = ObservedSpawn.start(config.instrumentation, config.onError, typeName, id);
  try {
    signal?.throwIfAborted();
    const snapshot = snapshotStore === undefined
      ? null
      : await snapshotStore.load(typeName, id, callOptions);
    if (snapshotStore !== undefined) observer?.snapshotLoaded(snapshot?.seqNo ?? null);
    if (snapshot !== null) {
      // A snapshot the code cannot read (an old version, damaged bytes) only costs time: the
      // entity replays from its first event instead, and onError hears why.
      try {
        state = decodeState(binarize, typeName, id, snapshot);
        seqNo = snapshot.seqNo;
      } catch (cause) {
        config.onError(
          new Error(`Passed over the snapshot of ${name}; replaying from the first event`, {
            cause,
          }),
        );
      }
    }
    const target = { entity, id, eventLog, binarize, deduplicationWindow };
    // After a snapshot the ids of the events before it are not known yet (see _entity.ts).
    const commandIds = seqNo > 0 && deduplicationWindow > 0
      ? new CommandIds(deduplicationWindow, seqNo + 1)
      : undefined;
    replayedTo = seqNo;
    let replayed = await replay(target, state, seqNo, signal, commandIds);
    replayedTo = replayed.seqNo;
    // The logs of this package tell the head of the read, which is the last seqNo; for another
    // log it is read now, and the replay goes on if it has moved since.
    const last = replayed.head !== undefined
      ? replayed.head ?? 0
      : (await eventLog.lastSeqNo(typeName, id, callOptions)) ?? 0;
    if (seqNo > last) {
      throw new Error(`the snapshot is at seqNo ${seqNo} but the log ends at seqNo ${last}`);
    }
    while (replayed.seqNo < last) {
      const more = await replay(
        target,
        replayed.state,
        replayed.seqNo,
        signal,
        replayed.commandIds,
      );
      if (more.seqNo === replayed.seqNo) {
        throw new Error(
          `the log ended at seqNo ${replayed.seqNo} while its last seqNo is ${last}`,
        );
      }
      replayed = more;
      replayedTo = more.seqNo;
    }
    // Replay is dense (it checks every seqNo), so the count is the distance covered.
    observer?.ended(replayed.seqNo - seqNo);
    return new Entity(config, id, replayed.state, replayed.seqNo, replayed.commandIds);
  } catch (cause) {
    observer?.ended(Math.max(0, replayedTo - seqNo), cause);
    throw new SpawnError(`Cannot spawn ${name}: ${errorText(cause)}`, { cause });
  }
}

/**
 * Spawns the entity `id`: loads its snapshot, replays the events after it, and returns a
 * handle that runs commands one at a time. Rejects with a `SpawnError` (before any write) on
 * bad options, undecodable bytes, an event handler that throws during replay, or a failing log.
 *
 * @example Spawn a counter and send it a command
 * ```ts
 * import { emitAndReply, jsonBinarize, MemoryEventLog, spawn } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const counter = {
 *   typeName: "counter",
 *   initialState: 0,
 *   handleEvent: (state: number, by: number) => state + by,
 * };
 * const eventLog = new MemoryEventLog();
 * const ref = await spawn(counter, "a", { eventLog, binarize: jsonBinarize() });
 * await ref.handleCommand({ handleCommand: () => emitAndReply([1, 2], (s: number) => s) });
 * await ref.stop();
 *
 * // A second spawn recovers the state from the log.
 * const again = await spawn(counter, "a", { eventLog, binarize: jsonBinarize() });
 * const result = await again.handleCommand({ handleCommand: () => emitAndReply(3, (s: number) => s) });
 * assert.deepEqual(result, { ok: true, value: 6 });
 * await again.stop();
 * ```
 */
export async function spawn<State, Event>(
  entity: EventSourced<State, Event>,
  id: string,
  options: SpawnOptions<State, Event>,
): Promise<EntityRef<State, Event>> {
  let config: EntityConfig<State, Event>;
  let signal: AbortSignal | undefined;
  try {
    const read = readSpawnOptions(options);
    config = entityConfig(entity, read, "spawn");
    assertId(id);
    signal = read.signal;
  } catch (cause) {
    throw new SpawnError(`Cannot spawn entity: ${errorText(cause)}`, { cause });
  }
  const ref = await spawnWithConfig(config, id, signal);
  if (signal !== undefined) ref.stopOnAbort(signal);
  return ref;
}
