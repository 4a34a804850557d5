/**
 * Checking that a store's log is sound: dense seqNos (from the first kept event, which a
 * snapshot covers), rising positions, decodable events, and snapshots that do not run ahead of
 * their entities.
 *
 * @module
 */

import { quote, throwIfAborted } from "../src/_validate.ts";
import { errorText } from "../src/_error_text.ts";
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
import { throttle } from "./_throttle.ts";

/**
 * What decodes the events' bytes: a `Binarize` (its `eventFromBytes`) or any object with a
 * `decode(bytes, version)`. Whatever it throws marks the event as not decodable.
 *
 * @example A codec that accepts JSON only
 * ```ts
 * import type { EventDecoder } from "@eventsourced/eventsourced/admin";
 *
 * const json: EventDecoder = { decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) };
 * ```
 */
export type EventDecoder =
  | { eventFromBytes(bytes: Uint8Array, version?: number): unknown }
  | { decode(bytes: Uint8Array, version: number): unknown };

/**
 * One problem {@linkcode verifyLog} found.
 *
 * @example Group problems by kind
 * ```ts
 * import type { LogProblem } from "@eventsourced/eventsourced/admin";
 *
 * function kinds(problems: readonly LogProblem[]): Set<string> {
 *   return new Set(problems.map((p) => p.kind));
 * }
 * ```
 */
export interface LogProblem {
  /**
   * - `"seqno-gap"`: an entity's seqNos are not consecutive in position order, or its first
   *   event is above seqNo 1 and no snapshot covers the events before it (deleted events must
   *   be covered by one, or the entity cannot recover);
   * - `"position-order"`: a type's positions do not strictly increase;
   * - `"position-gap"`: a type's positions skip a number, with `densePositions` only;
   * - `"undecodable"`: the codec threw on the event's bytes;
   * - `"snapshot-ahead"`: a snapshot's seqNo is past its entity's last event.
   */
  readonly kind: "seqno-gap" | "position-order" | "position-gap" | "undecodable" | "snapshot-ahead";
  /** The entity type. */
  readonly typeName: string;
  /** The entity, when the problem is one entity's. */
  readonly id: string | null;
  /** The seqNo of the event or snapshot concerned. */
  readonly seqNo: number | null;
  /** The position of the event concerned; `null` for a snapshot. */
  readonly position: number | null;
  /** The problem in a sentence, naming the entity and the values. */
  readonly message: string;
}

/**
 * Progress of {@linkcode verifyLog}, as `onProgress` receives it.
 *
 * @example Print it
 * ```ts
 * import type { VerifyLogProgress } from "@eventsourced/eventsourced/admin";
 *
 * const show = (p: VerifyLogProgress) => console.log(p.typeName, p.events, p.problems);
 * show({ typeName: "account", events: 100, problems: 0 });
 * ```
 */
export interface VerifyLogProgress {
  /** The entity type at hand. */
  readonly typeName: string;
  /** Events checked so far, over all types. */
  readonly events: number;
  /** Problems found so far. */
  readonly problems: number;
}

/**
 * Options of {@linkcode verifyLog}.
 *
 * @example Check that every event decodes as JSON
 * ```ts
 * import { jsonBinarize } from "@eventsourced/eventsourced";
 * import type { VerifyLogOptions } from "@eventsourced/eventsourced/admin";
 *
 * const options: VerifyLogOptions = { codec: jsonBinarize(), signal: AbortSignal.timeout(60_000) };
 * ```
 */
export interface VerifyLogOptions {
  /** Decodes every event; without it the bytes are not looked at. */
  codec?: EventDecoder | undefined;
  /** Stops the check: the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Called with the progress at most every `progressIntervalMs`, and once at the end. */
  onProgress?: ((progress: VerifyLogProgress) => void) | undefined;
  /** The least time between two `onProgress` calls, in milliseconds. Default 1000. */
  progressIntervalMs?: number | undefined;
  /**
   * Whether each type's positions must be 1, 2, 3 … without gaps, for a store known never to
   * have deleted events on memory, PostgreSQL or PGlite. Default `false`: deleted events leave
   * gaps on every backend, and on NATS positions come from the stream sequence shared by all
   * types.
   */
  densePositions?: boolean | undefined;
  /** Stops listing problems after this many (1 to 100 000). Default 100. */
  maxProblems?: number | undefined;
}

/**
 * What {@linkcode verifyLog} found.
 *
 * @example Fail a script on problems
 * ```ts
 * import type { VerifyLogReport } from "@eventsourced/eventsourced/admin";
 *
 * function exitCode(report: VerifyLogReport): number {
 *   return report.ok ? 0 : 1;
 * }
 * ```
 */
export interface VerifyLogReport {
  /** Whether no problem was found. */
  readonly ok: boolean;
  /** Entity types checked. */
  readonly types: number;
  /** Entities seen. */
  readonly entities: number;
  /** Events checked. */
  readonly events: number;
  /** Snapshots checked. */
  readonly snapshots: number;
  /** The problems found, in the order found, at most `maxProblems`. */
  readonly problems: readonly LogProblem[];
  /** Whether more problems were found than listed. */
  readonly truncated: boolean;
  /** Time taken, in milliseconds. */
  readonly elapsedMs: number;
}

function decoderOf(codec: unknown): ((bytes: Uint8Array, version: number) => unknown) | null {
  if (codec === undefined) return null;
  const value = codec as Partial<Record<"eventFromBytes" | "decode", unknown>> | null;
  if (typeof value === "object" && value !== null) {
    const { eventFromBytes, decode } = value;
    if (typeof eventFromBytes === "function") {
      return (bytes, version) => eventFromBytes.call(value, bytes, version);
    }
    if (typeof decode === "function") return (bytes, version) => decode.call(value, bytes, version);
  }
  throw new TypeError(
    `Invalid codec ${quote(codec)}: expected a Binarize or an object with decode(bytes, version)`,
  );
}

/**
 * Reads every event and snapshot of `admin` and reports what breaks the log's rules: an entity
 * whose seqNos are not consecutive in position order, or whose first event is above seqNo 1
 * without a snapshot at or after the seqNo before it (its earlier events were deleted, and
 * nothing else holds them), positions that do not strictly rise per type (or skip a number,
 * where `densePositions`), events the `codec` cannot decode, snapshots past their entity's last
 * seqNo. It streams each type once; its memory is one number per entity of the type being
 * read, and one more per entity whose first events were deleted. Changes nothing.
 *
 * Arguments are checked before anything is read: a `TypeError` or `RangeError` names the bad one.
 *
 * @example Verify a memory store
 * ```ts
 * import { jsonBinarize, MemoryEventLog, MemorySnapshotStore } from "@eventsourced/eventsourced";
 * import { memoryStoreAdmin, verifyLog } from "@eventsourced/eventsourced/admin";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const snapshotStore = new MemorySnapshotStore();
 * await eventLog.persist("account", "a", null, [new TextEncoder().encode('{"cents":5}')]);
 * await eventLog.persist("account", "b", null, [new Uint8Array([0xff])]);
 * const report = await verifyLog(memoryStoreAdmin({ eventLog, snapshotStore }), {
 *   codec: jsonBinarize(),
 * });
 * assert.deepEqual(report.problems.map((p) => [p.kind, p.id]), [["undecodable", "b"]]);
 * ```
 */
export async function verifyLog(
  admin: StoreAdmin,
  options: VerifyLogOptions = {},
): Promise<VerifyLogReport> {
  assertStoreAdmin(admin, "admin");
  assertOptions(options, "options");
  const { signal, onProgress } = options;
  assertSignal(signal);
  assertCallback(onProgress, "onProgress");
  assertFlag(options.densePositions, "densePositions");
  assertOptionalInteger(options.maxProblems, "maxProblems", 100_000);
  assertOptionalInteger(options.progressIntervalMs, "progressIntervalMs", 3_600_000);
  const decode = decoderOf(options.codec);
  const dense = options.densePositions ?? false;
  const maxProblems = options.maxProblems ?? 100;
  throwIfAborted(signal);

  const started = performance.now();
  const call = { signal };
  const problems: LogProblem[] = [];
  let found = 0, events = 0, entities = 0, snapshots = 0, typeName = "";
  const progress = throttle(onProgress, options.progressIntervalMs ?? 1000);
  const now = (): VerifyLogProgress => ({ typeName, events, problems: found });
  const report = (problem: LogProblem) => {
    found++;
    if (problems.length < maxProblems) problems.push(problem);
  };
  const types = await admin.entityTypes(call);
  for (const type of types) {
    typeName = type.typeName;
    const name = quote(typeName);
    const lastSeqNos = new Map<string, number>();
    // The first event of each entity that starts above seqNo 1, until a snapshot covers it.
    const uncovered = new Map<string, { seqNo: number; position: number }>();
    let lastPosition = 0;
    for await (const event of admin.eventLog.eventsByType(typeName, 1, readOptions(call))) {
      const { id, seqNo, position } = event;
      const at = { typeName, id, seqNo, position };
      const entity = `Entity ${name} ${quote(id)}`;
      const previous = lastSeqNos.get(id);
      if (previous === undefined) {
        if (seqNo > 1) uncovered.set(id, { seqNo, position });
      } else if (seqNo !== previous + 1) {
        report({
          kind: "seqno-gap",
          ...at,
          message: `${entity}: seqNo ${seqNo} after seqNo ${previous}`,
        });
      }
      lastSeqNos.set(id, seqNo);
      if (position <= lastPosition) {
        report({
          kind: "position-order",
          ...at,
          message: `${entity}: position ${position} after position ${lastPosition} of ${name}`,
        });
      } else if (dense && position !== lastPosition + 1) {
        report({
          kind: "position-gap",
          ...at,
          message:
            `${entity}: position ${position} after position ${lastPosition} of ${name}, skipping ${
              position - lastPosition - 1
            }`,
        });
      }
      lastPosition = Math.max(lastPosition, position);
      if (decode !== null) {
        try {
          decode(event.bytes, event.version);
        } catch (error) {
          report({
            kind: "undecodable",
            ...at,
            message: `${entity}: seqNo ${seqNo} (version ${event.version}) cannot be decoded: ${
              errorText(error)
            }`,
          });
        }
      }
      events++;
      progress.maybe(now);
    }
    entities += lastSeqNos.size;
    const snapshotSeqNos = new Map<string, number>();
    for await (const snapshot of admin.snapshots(typeName, call)) {
      snapshots++;
      const first = uncovered.get(snapshot.id);
      if (first !== undefined) {
        if (snapshot.seqNo >= first.seqNo - 1) uncovered.delete(snapshot.id);
        else snapshotSeqNos.set(snapshot.id, snapshot.seqNo);
      }
      const last = lastSeqNos.get(snapshot.id) ?? 0;
      if (snapshot.seqNo > last) {
        report({
          kind: "snapshot-ahead",
          typeName,
          id: snapshot.id,
          seqNo: snapshot.seqNo,
          position: null,
          message: `Entity ${name} ${
            quote(snapshot.id)
          }: snapshot at seqNo ${snapshot.seqNo} is ahead of its last event, seqNo ${last}`,
        });
      }
    }
    for (const [id, first] of uncovered) {
      const snapshot = snapshotSeqNos.get(id);
      const cover = snapshot === undefined
        ? "no snapshot covers them"
        : `its snapshot at seqNo ${snapshot} does not cover them`;
      const missing = first.seqNo === 2 ? "seqNo 1 is" : `seqNos 1 to ${first.seqNo - 1} are`;
      const entity = `Entity ${name} ${quote(id)}`;
      report({
        kind: "seqno-gap",
        typeName,
        id,
        ...first,
        message:
          `${entity}: seqNo ${first.seqNo} as its first event: ${missing} missing and ${cover}`,
      });
    }
  }
  progress.flush(now);
  return {
    ok: found === 0,
    types: types.length,
    entities,
    events,
    snapshots,
    problems,
    truncated: found > problems.length,
    elapsedMs: performance.now() - started,
  };
}
