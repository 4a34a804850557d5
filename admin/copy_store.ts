/**
 * Copying a store to another backend: every event with its seqNo, version, metadata, writtenAt
 * and (where the target keeps them) position, then the latest snapshots; resumable, verified.
 *
 * @module
 */

import type { PersistedEvent } from "../src/event_log.ts";
import { throwIfAborted } from "../src/_validate.ts";
import type { StoreAdmin } from "./store_admin.ts";
import {
  assertCallback,
  assertFlag,
  assertOptionalInteger,
  assertOptions,
  assertSignal,
  assertStoreAdmin,
  readOptions,
} from "./_admin_args.ts";
import { planResume } from "./_copy_resume.ts";
import { type CopyVerification, verifyCopy } from "./_copy_verify.ts";
import { throttle } from "./_throttle.ts";
import { assertSchemaReady } from "./_schema_ready.ts";

export type { CopyVerification } from "./_copy_verify.ts";

/**
 * How far a copy has got, as {@linkcode CopyStoreOptions.onProgress} receives it.
 *
 * @example Print progress
 * ```ts
 * import type { CopyProgress } from "@eventsourced/eventsourced/admin";
 *
 * const show = (p: CopyProgress) => console.log(`${p.phase} ${p.typeName}: ${p.events}/${p.totalEvents}`);
 * show({ phase: "events", typeName: "account", events: 10, totalEvents: 20, snapshots: 0 });
 * ```
 */
export interface CopyProgress {
  /** What the copy is doing: copying events, copying snapshots, or verifying. */
  readonly phase: "events" | "snapshots" | "verify";
  /** The entity type at hand. */
  readonly typeName: string;
  /** Events the target holds so far (copied now or by an earlier run), over all types. */
  readonly events: number;
  /** Events the source held when the copy began, over all types. */
  readonly totalEvents: number;
  /** Snapshots copied so far. */
  readonly snapshots: number;
}

/**
 * Options of {@linkcode copyStore}.
 *
 * @example Copy in batches of 1000, reporting every two seconds
 * ```ts
 * import type { CopyStoreOptions } from "@eventsourced/eventsourced/admin";
 *
 * const options: CopyStoreOptions = {
 *   batchSize: 1000,
 *   progressIntervalMs: 2000,
 *   onProgress: (p) => console.log(p.events, "of", p.totalEvents),
 *   signal: AbortSignal.timeout(3_600_000),
 * };
 * ```
 */
export interface CopyStoreOptions {
  /**
   * Stops the copy: the promise rejects with the signal's reason; what the target holds is a
   * prefix that a later run continues.
   */
  signal?: AbortSignal | undefined;
  /**
   * Copies even though the target holds data that is not an earlier copy of this source (other
   * entity types, projection offsets, other entities of the same types). Default `false`: such a
   * target is refused before the first write. Events that collide with the target's own are still
   * refused by its `importEvents`.
   */
  force?: boolean | undefined;
  /** Called with the progress at most every `progressIntervalMs`, and once at the end. */
  onProgress?: ((progress: CopyProgress) => void) | undefined;
  /** The least time between two `onProgress` calls, in milliseconds. Default 1000. */
  progressIntervalMs?: number | undefined;
  /**
   * Events per `importEvents` call (1 to 10 000), and so the copy's memory: one batch is written
   * while the next is read. Default 500.
   */
  batchSize?: number | undefined;
  /** Whether to verify the copy at the end (see {@linkcode copyStore}). Default `true`. */
  verify?: boolean | undefined;
}

/**
 * What {@linkcode copyStore} did.
 *
 * @example Read a report
 * ```ts
 * import type { CopyReport } from "@eventsourced/eventsourced/admin";
 *
 * function summary(report: CopyReport): string {
 *   return `${report.copiedEvents} of ${report.events} events in ${Math.round(report.elapsedMs)} ms`;
 * }
 * ```
 */
export interface CopyReport {
  /** Entity types copied. */
  readonly types: number;
  /** Entities of those types. */
  readonly entities: number;
  /** Events the source held when the copy began (all now in the target). */
  readonly events: number;
  /** Events this run wrote. */
  readonly copiedEvents: number;
  /** Events an earlier, interrupted run had already written, which this run left as they were. */
  readonly resumedEvents: number;
  /** Snapshots written (the latest of each entity that has one). */
  readonly snapshots: number;
  /** Time taken, verification included, in milliseconds. */
  readonly elapsedMs: number;
  /** What the verification found; `null` when `verify` was `false`. */
  readonly verification: CopyVerification | null;
}

const DEFAULT_BATCH_SIZE = 500;
const MAX_BATCH_SIZE = 10_000;

/**
 * Copies every event of every entity type of `source` into `target`, in position order per type,
 * with seqNo, version, metadata, writtenAt and bytes; then the latest snapshot of every entity.
 * Positions keep their order: a copy between stores that keep positions (memory, SQL) keeps
 * them exactly, gaps left by deleted events included; a copy from NATS into such a store numbers
 * them anew, 1, 2, 3 …; NATS numbers them itself. Events deleted in the source are not in the
 * copy: an entity whose first events were deleted starts at the seqNo of its first kept one. Projection offsets are not copied: a projection of the target starts over, or is set
 * with `resetProjection`. Copy a store nobody writes to, into a target nobody writes to; events
 * written to the source during a copy are copied by the next run.
 *
 * **Refusal.** Before the first write it checks that both stores are set up (the target at the
 * latest schema: call its `setup()` first) and that the target is empty or holds an earlier,
 * interrupted copy of this source, and otherwise rejects with an Error naming what the target
 * holds, unless `force`.
 *
 * **Resuming.** Run it again after an interruption (signal, crash, lost connection): the target
 * holds per type a prefix of the source's order, proved by its last event being the source's
 * event field for field, and the copy continues after it without duplicating or skipping.
 *
 * **Verification** (unless `verify: false`): per type the event and entity counts and the order,
 * per entity a 64-bit checksum (two multiply-xorshift lanes, not cryptographic, folded event by
 * event as both logs stream once) over seqNo, version, writtenAt, metadata, bytes and positions
 * where both stores keep them, and the latest snapshots. A mismatch rejects with an Error naming the first five
 * entities concerned. It reads both stores once more, which costs less than the copy's writes.
 *
 * Arguments are checked before anything is read: a `TypeError` or `RangeError` names the bad one.
 *
 * @example Copy a memory store into another
 * ```ts
 * import { MemoryEventLog, MemorySnapshotStore } from "@eventsourced/eventsourced";
 * import { copyStore, memoryStoreAdmin } from "@eventsourced/eventsourced/admin";
 * import assert from "node:assert/strict";
 *
 * const open = () =>
 *   memoryStoreAdmin({ eventLog: new MemoryEventLog(), snapshotStore: new MemorySnapshotStore() });
 * const source = open();
 * const target = open();
 * await source.eventLog.persist("account", "a", null, [new Uint8Array([1])], {
 *   metadata: { commandId: "c-1" },
 * });
 * await source.snapshotStore.save("account", "a", 1, new Uint8Array([7]));
 * const report = await copyStore(source, target);
 * assert.deepEqual([report.events, report.snapshots, report.verification?.ok], [1, 1, true]);
 * assert.equal((await target.snapshotStore.load("account", "a"))?.seqNo, 1);
 * ```
 */
export async function copyStore(
  source: StoreAdmin,
  target: StoreAdmin,
  options: CopyStoreOptions = {},
): Promise<CopyReport> {
  assertStoreAdmin(source, "source");
  assertStoreAdmin(target, "target");
  if (source === target) throw new TypeError("Invalid target: the same StoreAdmin as the source");
  assertOptions(options, "options");
  const { signal, onProgress, force = false, verify = true } = options;
  assertSignal(signal);
  assertCallback(onProgress, "onProgress");
  assertFlag(force, "force");
  assertFlag(verify, "verify");
  assertOptionalInteger(options.batchSize, "batchSize", MAX_BATCH_SIZE);
  assertOptionalInteger(options.progressIntervalMs, "progressIntervalMs", 3_600_000);
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  throwIfAborted(signal);

  const started = performance.now();
  const call = { signal };
  await assertSchemaReady(source, "source", call);
  await assertSchemaReady(target, "target", call);
  const types = await source.entityTypes(call);
  const plan = await planResume(source, target, types, force, call);
  const totalEvents = types.reduce((sum, t) => sum + t.events, 0);
  const progress = throttle(onProgress, options.progressIntervalMs ?? 1000);
  let events = 0, copiedEvents = 0, resumedEvents = 0, snapshots = 0;
  let phase: CopyProgress["phase"] = "events", typeName = "";
  const now = (): CopyProgress => ({ phase, typeName, events, totalEvents, snapshots });
  for (const point of plan.values()) resumedEvents += point.copied;
  events = resumedEvents;

  for (const type of types) {
    typeName = type.typeName;
    const { fromPosition, targetHead } = plan.get(type.typeName)!;
    const stream = source.eventLog.eventsByType(type.typeName, fromPosition, readOptions(call));
    const numbered = target.keepsPositions
      ? numberFrom(targetHead, stream, source.keepsPositions)
      : stream;
    await copyEvents(numbered, target, batchSize, call, (written) => {
      events += written;
      copiedEvents += written;
      progress.maybe(now);
    });
  }
  phase = "snapshots";
  for (const type of types) {
    typeName = type.typeName;
    for await (const snapshot of source.snapshots(type.typeName, call)) {
      await target.importSnapshot(snapshot, call);
      snapshots++;
      progress.maybe(now);
    }
  }
  let verification: CopyVerification | null = null;
  if (verify) {
    phase = "verify";
    progress.flush(now);
    const names = types.map((t) => t.typeName);
    verification = await verifyCopy(source, target, names, force, call);
    if (!verification.ok) {
      const count = verification.mismatches.length;
      const shown = verification.mismatches.slice(0, 5).join("; ");
      throw new Error(
        `Copy verification failed: ${count} ${count === 1 ? "mismatch" : "mismatches"}: ${shown}`,
      );
    }
  }
  progress.flush(now);
  return {
    types: types.length,
    entities: types.reduce((sum, t) => sum + t.entities, 0),
    events,
    copiedEvents,
    resumedEvents,
    snapshots,
    elapsedMs: performance.now() - started,
    verification,
  };
}

// The events numbered above the target's head: with `keep` (the source keeps positions too)
// each keeps its own position where it lies above the one before, so gaps left by deleted
// events stay; otherwise (NATS, whose positions are stream sequences) they are numbered
// head + 1, head + 2 … in the same order.
function numberFrom(
  head: number,
  stream: ReadableStream<PersistedEvent>,
  keep: boolean,
): ReadableStream<PersistedEvent> {
  let position = head;
  return stream.pipeThrough(
    new TransformStream<PersistedEvent, PersistedEvent>({
      transform(event, controller) {
        position = keep && event.position > position ? event.position : position + 1;
        controller.enqueue(event.position === position ? event : { ...event, position });
      },
    }),
  );
}

/**
 * Writes the events of `stream` in batches, reading the next batch while one is written; writes
 * stay one at a time and in order, so an interruption leaves a prefix.
 */
async function copyEvents(
  stream: ReadableStream<PersistedEvent>,
  target: StoreAdmin,
  batchSize: number,
  call: { signal: AbortSignal | undefined },
  written: (count: number) => void,
): Promise<void> {
  let pending: Promise<void> | null = null;
  const write = async (batch: PersistedEvent[]): Promise<void> => {
    await target.importEvents(batch, call);
    written(batch.length);
  };
  let batch: PersistedEvent[] = [];
  try {
    for await (const event of stream) {
      batch.push(event);
      if (batch.length < batchSize) continue;
      if (pending !== null) await pending;
      throwIfAborted(call.signal);
      pending = write(batch);
      batch = [];
    }
    if (pending !== null) await pending;
    throwIfAborted(call.signal);
    if (batch.length > 0) await write(batch);
  } finally {
    // A write still running when the read failed must not be left unobserved.
    await pending?.catch(() => {});
  }
}
