// Where a copy starts, per entity type, from what the target already holds.
//
// A copy writes each type's events in the source's position order through importEvents, which is
// all-or-nothing per call on SQL and stops at the first failure, in order, on NATS. So after any
// interruption the target holds, per type, a prefix of the source's order, and the prefix is
// proved by its last event: the target's last event of the type must be, field for field, the
// source's event of the same entity and seqNo (and position, when both stores keep positions).
// The copy then resumes right after that event's source position. Anything else the target holds
// is data of its own, which the copy refuses to write beside unless forced.

import type { CallOptions } from "../src/event_log.ts";
import { quote } from "../src/_validate.ts";
import type { EntityTypeSummary, StoreAdmin } from "./store_admin.ts";
import { firstOf, sameEvent } from "./_first_event.ts";
import { readOptions } from "./_admin_args.ts";

/** Where the copy of one type starts. */
export interface ResumePoint {
  /** The source position to read from. */
  readonly fromPosition: number;
  /** How many of the type's events the target already holds from an earlier run. */
  readonly copied: number;
  /** The target's head position of the type; `0` when it holds none of its events. */
  readonly targetHead: number;
}

/** Why the target is not an earlier copy of the source, for the error message. */
type Foreign = string;

/**
 * The resume point of every source type; rejects with an Error naming what the target holds
 * when it is not (a prefix of) a copy of the source, unless `force`.
 */
export async function planResume(
  source: StoreAdmin,
  target: StoreAdmin,
  sourceTypes: readonly EntityTypeSummary[],
  force: boolean,
  options: CallOptions,
): Promise<Map<string, ResumePoint>> {
  const targetTypes = new Map((await target.entityTypes(options)).map((t) => [t.typeName, t]));
  const foreign: Foreign[] = [];
  const plan = new Map<string, ResumePoint>();
  const sourceNames = new Set(sourceTypes.map((t) => t.typeName));
  for (const [typeName, held] of targetTypes) {
    if (!sourceNames.has(typeName)) {
      foreign.push(`entity type ${quote(typeName)} (${held.events} events) not in the source`);
    }
  }
  for (const type of sourceTypes) {
    const held = targetTypes.get(type.typeName);
    if (held === undefined || held.events === 0) {
      plan.set(type.typeName, { fromPosition: 1, copied: 0, targetHead: held?.headPosition ?? 0 });
      continue;
    }
    const point = await resumeAfter(source, target, type, held, options);
    if (typeof point === "string") {
      foreign.push(point);
      plan.set(type.typeName, { fromPosition: 1, copied: 0, targetHead: held?.headPosition ?? 0 });
    } else plan.set(type.typeName, point);
  }
  const projections = await target.projections(options);
  if (projections.length > 0) {
    const names = projections.slice(0, 3).map((p) => quote(p.name)).join(", ");
    foreign.push(`${projections.length} projection offsets (${names})`);
  }
  if (foreign.length > 0 && !force) {
    throw new Error(
      `Target ${target.backend} store holds data that is not an earlier copy of this source: ${
        foreign.join("; ")
      } (nothing was written; pass force to copy beside it)`,
    );
  }
  return plan;
}

async function resumeAfter(
  source: StoreAdmin,
  target: StoreAdmin,
  type: EntityTypeSummary,
  held: EntityTypeSummary,
  options: CallOptions,
): Promise<ResumePoint | Foreign> {
  const name = quote(type.typeName);
  if (held.events > type.events) {
    return `entity type ${name} with ${held.events} events, more than the source's ${type.events}`;
  }
  const last = await firstOf(
    target.eventLog.eventsByType(type.typeName, held.headPosition, readOptions(options)),
  );
  if (last === null) return `entity type ${name} whose head event cannot be read`;
  const origin = await firstOf(
    source.eventLog.eventsById(type.typeName, last.id, last.seqNo, readOptions(options)),
  );
  if (
    origin === null || origin.seqNo !== last.seqNo ||
    !sameEvent(origin, last, source.keepsPositions && target.keepsPositions)
  ) {
    return `entity type ${name} whose last event (${
      quote(last.id)
    } seqNo ${last.seqNo}) differs from the source's`;
  }
  return { fromPosition: origin.position + 1, copied: held.events, targetHead: held.headPosition };
}
