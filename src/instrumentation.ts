/**
 * Hooks through which the library reports what it does: commands, spawns, persist batches,
 * projection batches and the live entities of a registry. The core only calls them; the
 * `./opentelemetry` subpath turns them into OpenTelemetry spans and metrics, and anything else
 * (a logger, a test) can implement them too.
 *
 * Without an instrumentation (the default) the core pays one `undefined` check per command and
 * allocates nothing. Every hook is optional; a hook that returns `undefined` observes nothing
 * of that call. A hook must not throw: what it throws is reported to `onError` and the work
 * goes on.
 *
 * @module
 */

import type { EventMetadata } from "./event_metadata.ts";
import type { PersistedEvent } from "./event_log.ts";

/**
 * How a command ended: its effect (`"reply"`, `"reject"`, `"emit"`; an emit of no events
 * writes nothing and counts as `"reply"`), a `"duplicate"` of a command already applied, or the
 * `HandleCommandFailure` reason it failed with (`"error"` for anything else thrown).
 *
 * @example Count outcomes
 * ```ts
 * import type { CommandOutcome } from "@eventsourced/eventsourced";
 *
 * const counts = new Map<CommandOutcome, number>();
 * const count = (outcome: CommandOutcome) => counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
 * count("emit");
 * ```
 */
export type CommandOutcome = "reply" | "reject" | "emit" | "duplicate" | string;

/**
 * Follows one command through an entity. The core calls, in this order, `started` once the
 * command leaves the mailbox, `persisting` when its events are about to be written (not for a
 * command that emits nothing), `persisted` when the log acknowledged them, and `ended` exactly
 * once, also for a command refused before it started (then without `started`).
 *
 * @example Time each phase
 * ```ts
 * import type { CommandObserver, EventMetadata } from "@eventsourced/eventsourced";
 *
 * function timing(log: (line: string) => void): CommandObserver {
 *   const arrived = performance.now();
 *   return {
 *     started: () => log(`waited ${performance.now() - arrived} ms`),
 *     persisting: (_events: number, metadata: EventMetadata) => metadata,
 *     persisted: (seqNo: number) => log(`persisted up to ${seqNo}`),
 *     ended: (outcome) => log(`${outcome} after ${performance.now() - arrived} ms`),
 *   };
 * }
 * ```
 */
export interface CommandObserver {
  /** The command left the mailbox and its handler is about to decide. */
  started(): void;
  /**
   * The command emitted `events` events, about to be written with `metadata`; returns the
   * metadata to write instead (for example with a trace context added to its headers). The
   * returned value must keep `METADATA_LIMITS` and the same `commandId`; return `metadata`
   * itself to change nothing.
   */
  persisting(events: number, metadata: EventMetadata): EventMetadata;
  /** The log acknowledged the events; `seqNo` is that of the last one. */
  persisted(seqNo: number): void;
  /**
   * The command ended with `outcome`; `error` is the `HandleCommandError` it failed with, if
   * it failed.
   */
  ended(outcome: CommandOutcome, error?: unknown): void;
}

/**
 * Follows one spawn: loading the snapshot and replaying the events after it.
 *
 * @example Log slow recoveries
 * ```ts
 * import type { SpawnObserver } from "@eventsourced/eventsourced";
 *
 * const observer: SpawnObserver = {
 *   snapshotLoaded: (seqNo) => console.log("snapshot at", seqNo),
 *   ended: (events, error) => error === undefined && events > 10_000 && console.log("replayed", events),
 * };
 * ```
 */
export interface SpawnObserver {
  /**
   * The snapshot store answered: `seqNo` of the snapshot, `null` when there was none. Not
   * called for an entity without a snapshot store.
   */
  snapshotLoaded(seqNo: number | null): void;
  /** The spawn ended after replaying `events` events; `error` when it failed. */
  ended(events: number, error?: unknown): void;
}

/**
 * Follows one batch of writes that a backend sends as one statement or message (the SQL
 * group commit).
 *
 * @example Sizes of batches
 * ```ts
 * import type { PersistBatchObserver } from "@eventsourced/eventsourced";
 *
 * const sizes: number[] = [];
 * const observer: PersistBatchObserver = { ended: () => sizes.push(1) };
 * ```
 */
export interface PersistBatchObserver {
  /** The batch was acknowledged, or failed with `error`. */
  ended(error?: unknown): void;
}

/**
 * What a persist batch holds, given to {@linkcode Instrumentation.persistBatch}.
 *
 * @example Events per write
 * ```ts
 * import type { PersistBatch } from "@eventsourced/eventsourced";
 *
 * const perWrite = (batch: PersistBatch) => batch.events / batch.writes.length;
 * ```
 */
export interface PersistBatch {
  /** The backend: `"postgres"`, `"pglite"`, `"nats"` or `"memory"`. */
  readonly backend: string;
  /** One entry per persist call in the batch. */
  readonly writes: readonly {
    readonly typeName: string;
    readonly id: string;
    readonly metadata: EventMetadata;
  }[];
  /** How many events the batch writes. */
  readonly events: number;
  /** How many bytes of events it writes. */
  readonly bytes: number;
}

/**
 * Follows one batch of a projection: its handler and the offset commit.
 *
 * @example Count handled events
 * ```ts
 * import type { ProjectionBatchObserver } from "@eventsourced/eventsourced";
 *
 * let handled = 0;
 * const observer = (count: number): ProjectionBatchObserver => ({
 *   ended: (error) => { if (error === undefined) handled += count; },
 * });
 * ```
 */
export interface ProjectionBatchObserver {
  /** The batch was committed, or failed with `error`. */
  ended(error?: unknown): void;
  /**
   * How many events of the type lie after this committed batch, told after `ended`, at most
   * once a second per projection, when the event log can count them (`EventLog.countAfter`:
   * memory, PostgreSQL, PGlite).
   */
  behind?(events: number): void;
}

/**
 * Follows one `send` of an entity cluster's client, from before its request goes out until its
 * answer (or failure) came back.
 *
 * @example Carry a request id across the hop
 * ```ts
 * import type { ClusterSendObserver, EventMetadata } from "@eventsourced/eventsourced";
 *
 * const observe = (metadata: EventMetadata): ClusterSendObserver => ({
 *   metadata: { ...metadata, headers: { ...metadata.headers, "request-id": "r-1" } },
 *   ended: (outcome) => console.log("send ended:", outcome),
 * });
 * ```
 */
export interface ClusterSendObserver {
  /**
   * The metadata to send instead of the caller's (for example with a trace context added to
   * its headers); it must keep `METADATA_LIMITS` and the same `commandId`, else the caller's
   * is sent.
   */
  readonly metadata: EventMetadata;
  /**
   * The send ended: `"reply"`, `"reject"` or `"duplicate"`, or the `HandleCommandFailure`
   * reason of the `HandleCommandError` it failed with (`error`).
   */
  ended(outcome: CommandOutcome, error?: unknown): void;
}

/**
 * The hooks, each optional. Pass one as the `instrumentation` option of `spawn`,
 * `EntityRegistry`, the SQL event logs, `Projection` and the entity cluster's client and host.
 *
 * @example Count commands by outcome
 * ```ts
 * import { emit, type Instrumentation, jsonBinarize, MemoryEventLog, spawn } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const outcomes: string[] = [];
 * const instrumentation: Instrumentation = {
 *   command: () => ({
 *     started() {},
 *     persisting: (_events, metadata) => metadata,
 *     persisted() {},
 *     ended: (outcome) => outcomes.push(outcome),
 *   }),
 * };
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * const ref = await spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize: jsonBinarize(), instrumentation });
 * await ref.handleCommand({ handleCommand: () => emit(1) });
 * assert.deepEqual(outcomes, ["emit"]);
 * await ref.stop();
 * ```
 */
export interface Instrumentation {
  /**
   * A command arrived at entity `typeName`/`id` with `metadata`, behind `waiting` others in
   * its mailbox; called before it waits.
   */
  readonly command?:
    | ((
      typeName: string,
      id: string,
      metadata: EventMetadata,
      waiting: number,
    ) => CommandObserver | undefined)
    | undefined;
  /** An entity of `typeName`/`id` is being spawned. */
  readonly spawn?: ((typeName: string, id: string) => SpawnObserver | undefined) | undefined;
  /**
   * A registry of `typeName` holds `change` more (1) or fewer (-1) live entities;
   * `passivated` when an idle entity was stopped.
   */
  readonly liveEntities?:
    | ((typeName: string, change: 1 | -1, passivated: boolean) => void)
    | undefined;
  /** A backend is about to send a batch of writes. */
  readonly persistBatch?: ((batch: PersistBatch) => PersistBatchObserver | undefined) | undefined;
  /** Projection `name` is about to handle `events` (of one type, in position order). */
  readonly projectionBatch?:
    | ((name: string, events: readonly PersistedEvent[]) => ProjectionBatchObserver | undefined)
    | undefined;

  // The entity cluster's hop (otel-edges).
  /**
   * An `EntityClient` is about to send command `command` to entity `typeName`/`id` with
   * `metadata` (its commandId set).
   */
  readonly clusterSend?:
    | ((
      typeName: string,
      id: string,
      command: string,
      metadata: EventMetadata,
    ) => ClusterSendObserver | undefined)
    | undefined;
}
