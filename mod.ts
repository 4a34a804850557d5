/**
 * Event-sourced entities for TypeScript, after the Rust crate `eventsourced` and Akka
 * Persistence. An entity is a type name, an initial state and a pure event handler; commands
 * decide, from id and state, to reject, to reply, or to emit events; {@linkcode spawn} puts an
 * entity on an {@linkcode EventLog} (and optionally a {@linkcode SnapshotStore}) and returns an
 * {@linkcode EntityRef} whose `handleCommand` persists the events, applies them and replies
 * from the new state.
 *
 * This module is the core: no dependencies, only Web APIs. Backends live in `./postgres`,
 * `./pglite` and `./nats`; the conformance suite and test helpers in `./testing`.
 *
 * @example A counter that refuses to overflow
 * ```ts
 * import {
 *   type Command,
 *   type CommandEffect,
 *   emitAndReply,
 *   type EventSourced,
 *   jsonBinarize,
 *   MemoryEventLog,
 *   reject,
 *   spawn,
 * } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * type Event = { type: "increased"; by: number };
 * const counter: EventSourced<number, Event> = {
 *   typeName: "counter",
 *   initialState: 0,
 *   handleEvent: (state, event) => state + event.by,
 * };
 * const increase = (by: number): Command<number, Event, number, "Overflow"> => ({
 *   handleCommand: (_id, state): CommandEffect<number, Event, number, "Overflow"> =>
 *     state + by > 10 ? reject("Overflow") : emitAndReply({ type: "increased", by }, (s) => s),
 * });
 *
 * const ref = await spawn(counter, "c1", { eventLog: new MemoryEventLog(), binarize: jsonBinarize() });
 * assert.deepEqual(await ref.handleCommand(increase(7)), { ok: true, value: 7 });
 * assert.deepEqual(await ref.handleCommand(increase(7)), { ok: false, error: "Overflow" });
 * await ref.stop();
 * ```
 *
 * @module
 */

export type { EventSourced } from "./src/event_sourced.ts";
export type {
  Command,
  CommandEffect,
  EmitAndReply,
  RejectEffect,
  ReplyEffect,
} from "./src/command.ts";
export type { Duplicate, Result } from "./src/result.ts";
export type { EventMetadata } from "./src/event_metadata.ts";
export type {
  CommandObserver,
  CommandOutcome,
  Instrumentation,
  PersistBatch,
  PersistBatchObserver,
  ProjectionBatchObserver,
  SpawnObserver,
} from "./src/instrumentation.ts";
export type { ClusterSendObserver } from "./src/instrumentation.ts";
export type { Codec } from "./src/codec.ts";
export type {
  CommandCodecs,
  CommandCodecsOf,
  CommandFactories,
  CommandFactory,
  CommandSet,
  CommandSetOptions,
  PayloadOf,
  RejectionOf,
  ReplyOf,
  ResolvedCommandCodecs,
} from "./src/command_set.ts";
export type { Binarize, JsonBinarizeOptions } from "./src/binarize.ts";
export type {
  CallOptions,
  EventLog,
  PersistedEvent,
  PersistOptions,
  ReadOptions,
} from "./src/event_log.ts";
export type { SaveSnapshotOptions, Snapshot, SnapshotStore } from "./src/snapshot_store.ts";
export type {
  EntityRef,
  HandleCommandOptions,
  WithCommandId,
  WithoutCommandId,
} from "./src/entity_ref.ts";
export type { SpawnOptions } from "./src/spawn.ts";
export type { EntityRegistryOptions } from "./src/entity_registry.ts";
export type { EventEnvelope, EventReaderOptions } from "./src/event_reader.ts";
export type { MemoryEventLogOptions } from "./src/memory_event_log.ts";
export type {
  ConcurrencyErrorOptions,
  DecodeErrorOptions,
  HandleCommandErrorOptions,
  HandleCommandFailure,
  StorageErrorOptions,
  StorageFailure,
} from "./src/errors.ts";

export { emit, emitAndReply, reject, reply } from "./src/command.ts";
export { jsonBinarize } from "./src/binarize.ts";
export { jsonCodec } from "./src/codec.ts";
export { commandSet } from "./src/command_set.ts";
export { METADATA_LIMITS } from "./src/event_metadata.ts";
export { spawn } from "./src/spawn.ts";
export { EntityRegistry } from "./src/entity_registry.ts";
export { EventReader } from "./src/event_reader.ts";
export { MemoryEventLog } from "./src/memory_event_log.ts";
export { MemorySnapshotStore } from "./src/memory_snapshot_store.ts";
export { deleteEntity, deleteEventsUpTo } from "./src/forget.ts";
export type {
  DeletedEntity,
  DeletedEvents,
  DeleteEventsUpToOptions,
  ForgetStores,
} from "./src/forget.ts";
export {
  CONCURRENCY_ERROR_CODE,
  ConcurrencyError,
  DECODE_ERROR_CODE,
  DecodeError,
  HANDLE_COMMAND_ERROR_CODE,
  HandleCommandError,
  isConcurrencyError,
  isDecodeError,
  isHandleCommandError,
  isSpawnError,
  isStorageError,
  SPAWN_ERROR_CODE,
  SpawnError,
  STORAGE_ERROR_CODE,
  StorageError,
} from "./src/errors.ts";
