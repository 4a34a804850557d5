// The checks every StoreAdmin makes on the events of one importEvents call before it writes:
// each event well formed, each entity's seqNos consecutive within the call, each type's
// positions rising within the call; then, against what the store holds, each entity continuing
// its last seqNo (an entity the store does not hold may start above 1: its first events were
// deleted) and each type's positions above its head (gaps are where events were deleted).

import type { PersistedEvent } from "../src/event_log.ts";
import { ConcurrencyError } from "../src/errors.ts";
import { assertVersion, readMetadata } from "../src/event_metadata.ts";
import {
  assertId,
  assertNonNegativeInteger,
  assertPositiveInteger,
  assertTypeName,
  quote,
} from "../src/_validate.ts";

/** The run of an entity's events in one call. */
export interface ImportedEntity {
  readonly typeName: string;
  readonly id: string;
  readonly firstSeqNo: number;
  lastSeqNo: number;
}

/** The run of a type's events in one call. */
export interface ImportedType {
  readonly typeName: string;
  readonly firstPosition: number;
  lastPosition: number;
}

/** What one call imports, checked, by entity and by type. */
export interface ImportPlan {
  /** The events, with canonical metadata. */
  readonly events: readonly PersistedEvent[];
  /** By `entityKey(typeName, id)`, in the order of first appearance. */
  readonly entities: Map<string, ImportedEntity>;
  /** By type name, in the order of first appearance. */
  readonly types: Map<string, ImportedType>;
}

/** The key of an entity in an {@linkcode ImportPlan}. */
export function entityKey(typeName: string, id: string): string {
  return `${typeName}\u0000${id}`;
}

function checkEvent(event: unknown, at: string): PersistedEvent {
  if (typeof event !== "object" || event === null) {
    throw new TypeError(`Invalid ${at} ${quote(event)}: expected a PersistedEvent object`);
  }
  const e = event as Record<string, unknown>;
  try {
    assertTypeName(e.typeName);
    assertId(e.id);
  } catch (error) {
    const Kind = error instanceof RangeError ? RangeError : TypeError;
    throw new Kind(`Cannot import ${at}: ${(error as Error).message}`);
  }
  assertPositiveInteger(e.seqNo, `${at}.seqNo`);
  assertPositiveInteger(e.position, `${at}.position`);
  assertNonNegativeInteger(e.writtenAt, `${at}.writtenAt`);
  assertVersion(e.version, `${at}.version`);
  if (!(e.bytes instanceof Uint8Array)) {
    throw new TypeError(`Invalid ${at}.bytes ${quote(e.bytes)}: expected a Uint8Array`);
  }
  return {
    typeName: e.typeName,
    id: e.id,
    seqNo: e.seqNo,
    position: e.position,
    bytes: e.bytes,
    version: e.version,
    writtenAt: e.writtenAt,
    metadata: readMetadata(at, e.metadata),
  };
}

/**
 * Checks the arguments of `importEvents` by themselves; throws a TypeError or RangeError
 * naming the first bad event. Each type's positions must rise; with `keepsPositions` they may
 * skip numbers (those of deleted events), and without it they are only an order.
 */
export function planImport(given: unknown, _keepsPositions: boolean): ImportPlan {
  if (!Array.isArray(given)) {
    throw new TypeError(`Invalid events ${quote(given)}: expected an array of PersistedEvent`);
  }
  const events: PersistedEvent[] = [];
  const entities = new Map<string, ImportedEntity>();
  const types = new Map<string, ImportedType>();
  for (let i = 0; i < given.length; i++) {
    const at = `events[${i}]`;
    const event = checkEvent(given[i], at);
    const key = entityKey(event.typeName, event.id);
    const entity = entities.get(key);
    if (entity === undefined) {
      entities.set(key, {
        typeName: event.typeName,
        id: event.id,
        firstSeqNo: event.seqNo,
        lastSeqNo: event.seqNo,
      });
    } else if (event.seqNo !== entity.lastSeqNo + 1) {
      throw new RangeError(
        `Invalid ${at}.seqNo ${event.seqNo}: "${event.typeName}/${event.id}" is at seqNo ${entity.lastSeqNo} earlier in the call, so ${
          entity.lastSeqNo + 1
        } must follow`,
      );
    } else {
      entity.lastSeqNo = event.seqNo;
    }
    const type = types.get(event.typeName);
    if (type === undefined) {
      types.set(event.typeName, {
        typeName: event.typeName,
        firstPosition: event.position,
        lastPosition: event.position,
      });
    } else if (event.position <= type.lastPosition) {
      throw new RangeError(
        `Invalid ${at}.position ${event.position}: type "${event.typeName}" is at position ${type.lastPosition} earlier in the call; positions must rise`,
      );
    } else {
      type.lastPosition = event.position;
    }
    events.push(event);
  }
  return { events, entities, types };
}

/**
 * Throws unless the entity's run continues `actual`, its last seqNo in the store (`null`:
 * none, when any first seqNo is taken: the source may have deleted the entity's first events):
 * a ConcurrencyError when the first seqNo is taken, a RangeError for a gap.
 */
export function assertContinues(entity: ImportedEntity, actual: number | null): void {
  const next = (actual ?? 0) + 1;
  if (entity.firstSeqNo === next || (actual === null && entity.firstSeqNo > 1)) return;
  const { typeName, id } = entity;
  if (entity.firstSeqNo < next) {
    const expected = entity.firstSeqNo === 1 ? null : entity.firstSeqNo - 1;
    throw new ConcurrencyError({ typeName, id, expected, actual });
  }
  throw new RangeError(
    `Cannot import events for "${typeName}/${id}": seqNo ${entity.firstSeqNo} does not continue the entity, whose last seqNo is ${
      actual ?? "none"
    }; nothing was written`,
  );
}

/**
 * Throws a RangeError unless the type's run starts above `head`, its head position: an event
 * log numbers its next event after the last position it holds, so an imported event below it
 * would appear behind events readers have seen. Gaps are allowed: they are the positions of
 * deleted events.
 */
export function assertContinuesHead(type: ImportedType, head: number): void {
  if (type.firstPosition > head) return;
  throw new RangeError(
    `Cannot import events of type "${type.typeName}": position ${type.firstPosition} is not above the type's head position ${head}; nothing was written`,
  );
}
