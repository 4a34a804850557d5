// The check at the end of a copy: per entity type the same event and entity counts, the same
// order of (id, seqNo), and per entity a Checksum64 over seqNo, version, writtenAt, metadata,
// bytes (and position, when both stores keep positions), folded event by event while both logs
// are streamed once; then the latest snapshots, compared side by side in id order.

import type { CallOptions, PersistedEvent } from "../src/event_log.ts";
import { quote } from "../src/_validate.ts";
import type { StoreAdmin, StoredSnapshot } from "./store_admin.ts";
import { Checksum64, foldEvent } from "./_checksum.ts";
import { readOptions } from "./_admin_args.ts";
import { compareCodePoints } from "./_order.ts";

/**
 * What the verification of a copy found: `mismatches` is empty when the target holds exactly
 * the source's events and latest snapshots.
 *
 * @example Print the differences
 * ```ts
 * import type { CopyVerification } from "@eventsourced/eventsourced/admin";
 *
 * function show(verification: CopyVerification): void {
 *   for (const mismatch of verification.mismatches) console.log(mismatch);
 * }
 * ```
 */
export interface CopyVerification {
  /** Whether every check passed. */
  readonly ok: boolean;
  /** Events compared, per side. */
  readonly events: number;
  /** Entities whose checksums were compared. */
  readonly entities: number;
  /** Snapshots compared. */
  readonly snapshots: number;
  /** Each difference found, naming the entity type and entity (at most 100). */
  readonly mismatches: readonly string[];
  /** How long the verification took, in milliseconds. */
  readonly elapsedMs: number;
}

const MAX_MISMATCHES = 100;

interface Folded {
  readonly entities: Map<string, { sum: Checksum64; events: number }>;
  readonly order: Checksum64;
  events: number;
}

async function fold(
  stream: ReadableStream<PersistedEvent>,
  withPosition: boolean,
): Promise<Folded> {
  const folded: Folded = { entities: new Map(), order: new Checksum64(), events: 0 };
  for await (const event of stream) {
    let entity = folded.entities.get(event.id);
    if (entity === undefined) {
      folded.entities.set(event.id, entity = { sum: new Checksum64(), events: 0 });
    }
    foldEvent(entity.sum, event, withPosition);
    entity.events++;
    folded.order.string(event.id).integer(event.seqNo);
    folded.events++;
  }
  return folded;
}

/** `folded` without the entities `source` lacks (the target's own, copied beside with force). */
function onlyOf(folded: Folded, source: Folded): Folded {
  const entities = new Map([...folded.entities].filter(([id]) => source.entities.has(id)));
  let events = 0;
  for (const entity of entities.values()) events += entity.events;
  return { entities, order: folded.order, events };
}

/**
 * Compares `target` with `source` over the types of `typeNames`. With `force` the target may hold
 * entities of its own beside the copied ones: they and the order across entities are left out of
 * the comparison.
 */
export async function verifyCopy(
  source: StoreAdmin,
  target: StoreAdmin,
  typeNames: readonly string[],
  force: boolean,
  options: CallOptions,
): Promise<CopyVerification> {
  const started = performance.now();
  const mismatches: string[] = [];
  const note = (text: string) => {
    if (mismatches.length < MAX_MISMATCHES) mismatches.push(text);
  };
  const withPosition = source.keepsPositions && target.keepsPositions && !force;
  let events = 0, entities = 0, snapshots = 0;
  for (const typeName of typeNames) {
    const name = quote(typeName);
    // Both sides are read at once: the verification takes about one read of the slower store.
    const [ours, all] = await Promise.all([
      fold(source.eventLog.eventsByType(typeName, 1, readOptions(options)), withPosition),
      fold(target.eventLog.eventsByType(typeName, 1, readOptions(options)), withPosition),
    ]);
    const theirs = force ? onlyOf(all, ours) : all;
    events += ours.events;
    entities += ours.entities.size;
    if (ours.events !== theirs.events || ours.entities.size !== theirs.entities.size) {
      note(
        `entity type ${name}: the source holds ${ours.events} events of ${ours.entities.size} entities, the target ${theirs.events} of ${theirs.entities.size}`,
      );
    } else if (!force && ours.order.digest() !== theirs.order.digest()) {
      note(`entity type ${name}: the target holds the events in another order`);
    }
    for (const [id, entity] of ours.entities) {
      const copy = theirs.entities.get(id);
      if (copy === undefined) note(`entity ${name} ${quote(id)}: missing from the target`);
      else if (copy.events !== entity.events) {
        note(
          `entity ${name} ${
            quote(id)
          }: ${entity.events} events in the source, ${copy.events} in the target`,
        );
      } else if (copy.sum.digest() !== entity.sum.digest()) {
        note(
          `entity ${name} ${
            quote(id)
          }: checksum ${entity.sum.digest()} in the source, ${copy.sum.digest()} in the target`,
        );
      }
    }
    for (const id of theirs.entities.keys()) {
      if (!ours.entities.has(id)) note(`entity ${name} ${quote(id)}: in the target only`);
    }
    snapshots += await compareSnapshots(source, target, typeName, force, note, options);
  }
  return {
    ok: mismatches.length === 0,
    events,
    entities,
    snapshots,
    mismatches,
    elapsedMs: performance.now() - started,
  };
}

/** Walks both sides' snapshots of a type in id order (code points, as every admin lists them); returns how many the source holds. */
async function compareSnapshots(
  source: StoreAdmin,
  target: StoreAdmin,
  typeName: string,
  force: boolean,
  note: (text: string) => void,
  options: CallOptions,
): Promise<number> {
  const ours = source.snapshots(typeName, options).getReader();
  const theirs = target.snapshots(typeName, options).getReader();
  const next = async (reader: ReadableStreamDefaultReader<StoredSnapshot>) => {
    const { done, value } = await reader.read();
    return done ? null : value;
  };
  const name = quote(typeName);
  let count = 0;
  try {
    let a = await next(ours), b = await next(theirs);
    while (a !== null || b !== null) {
      if (b === null || (a !== null && compareCodePoints(a.id, b.id) < 0)) {
        note(`snapshot of ${name} ${quote(a!.id)}: missing from the target`);
        a = await next(ours);
        count++;
      } else if (a === null || compareCodePoints(b.id, a.id) < 0) {
        if (!force) note(`snapshot of ${name} ${quote(b.id)}: in the target only`);
        b = await next(theirs);
      } else {
        if (!sameSnapshot(a, b)) {
          note(
            `snapshot of ${name} ${
              quote(a.id)
            }: seqNo ${a.seqNo} version ${a.version} in the source, seqNo ${b.seqNo} version ${b.version} in the target, or other bytes`,
          );
        }
        a = await next(ours);
        b = await next(theirs);
        count++;
      }
    }
  } finally {
    await ours.cancel().catch(() => {});
    await theirs.cancel().catch(() => {});
  }
  return count;
}

function sameSnapshot(a: StoredSnapshot, b: StoredSnapshot): boolean {
  return a.seqNo === b.seqNo && a.version === b.version && a.bytes.length === b.bytes.length &&
    a.bytes.every((byte, i) => byte === b.bytes[i]);
}
