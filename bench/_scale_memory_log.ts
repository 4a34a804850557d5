// The event log of the memory scale ladder (bench/_scale_memory.ts): a bench-local EventLog that
// keeps the events of the `capacity` entities that first wrote most recently and forgets an
// older entity whole, as `deleteEntity` would; of each entity it keeps the last `keepEvents`
// events (default all), dropping earlier ones as `deleteEvents` would (the last one stays). So
// its memory is bounded by what it keeps, not by how many ids and events were ever written,
// and the registry's own memory can be measured apart from a log's history.
//
// It keeps the port's rules for what it keeps: persist checks the expected last seqNo and
// writes every event of the call or none, copies the bytes, and acknowledges with the last
// seqNo; eventsById and lastSeqNo answer from the kept events (a forgotten entity reads as one
// that never wrote, `null` and no events). It keeps no order by type: `eventsByType` and live
// reads fail, since nothing in the ladder reads them. Copies of the bytes are views into 64 KiB
// slabs, as MemoryEventLog's are on Deno, where a fresh small Uint8Array costs a microsecond.

import {
  type CallOptions,
  ConcurrencyError,
  type EventLog,
  type PersistedEvent,
  type PersistOptions,
  type ReadOptions,
} from "../mod.ts";

const NO_METADATA = Object.freeze({});
const SLAB = 64 * 1024;

let slab = new Uint8Array(SLAB);
let used = 0;

function copy(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 1024) return bytes.slice();
  if (used + bytes.length > SLAB) {
    slab = new Uint8Array(SLAB);
    used = 0;
  }
  const view = slab.subarray(used, used += bytes.length);
  view.set(bytes);
  return view;
}

/** An EventLog that keeps the events of the `capacity` newest entities only. */
export class RecentEntitiesLog implements EventLog {
  readonly #capacity: number;
  // id → its events, in the order of the entities' first writes (oldest first).
  readonly #kept = new Map<string, PersistedEvent[]>();
  // The kept ids in the order of their first writes, a ring: the oldest is at #next once full.
  readonly #order: string[] = [];
  #next = 0;
  #typeName: string | undefined;
  #position = 0;

  readonly #keepEvents: number;

  constructor(capacity: number, keepEvents = Infinity) {
    this.#capacity = capacity;
    this.#keepEvents = Math.max(1, keepEvents);
  }

  /** How many entities' events are kept. */
  get kept(): number {
    return this.#kept.size;
  }

  persist(
    typeName: string,
    id: string,
    lastSeqNo: number | null,
    events: readonly Uint8Array[],
    options?: PersistOptions,
  ): Promise<number> {
    try {
      this.#checkType(typeName);
      options?.signal?.throwIfAborted();
      if (events.length === 0) throw new TypeError("persist needs at least one event");
    } catch (error) {
      return Promise.reject(error);
    }
    const kept = this.#kept.get(id);
    const actual = kept === undefined ? null : kept.at(-1)!.seqNo;
    if (actual !== lastSeqNo) {
      return Promise.reject(new ConcurrencyError({ typeName, id, expected: lastSeqNo, actual }));
    }
    const entityEvents = kept ?? [];
    let seqNo = actual ?? 0;
    const metadata = options?.metadata ?? NO_METADATA;
    const version = options?.version ?? 1;
    const writtenAt = Date.now();
    for (const bytes of events) {
      entityEvents.push({
        typeName,
        id,
        seqNo: ++seqNo,
        position: ++this.#position,
        bytes: copy(bytes),
        version,
        writtenAt,
        metadata,
      });
    }
    if (entityEvents.length > this.#keepEvents) {
      entityEvents.splice(0, entityEvents.length - this.#keepEvents);
    }
    // A new entity: past capacity, the one that first wrote longest ago goes.
    if (kept === undefined) {
      this.#kept.set(id, entityEvents);
      if (this.#order.length < this.#capacity) this.#order.push(id);
      else {
        this.#kept.delete(this.#order[this.#next]!);
        this.#order[this.#next] = id;
        this.#next = (this.#next + 1) % this.#capacity;
      }
    }
    return Promise.resolve(seqNo);
  }

  lastSeqNo(typeName: string, id: string, options?: CallOptions): Promise<number | null> {
    try {
      this.#checkType(typeName);
      options?.signal?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(this.#kept.get(id)?.at(-1)?.seqNo ?? null);
  }

  eventsById(
    typeName: string,
    id: string,
    fromSeqNo: number,
    options?: ReadOptions,
  ): ReadableStream<PersistedEvent> {
    this.#checkType(typeName);
    if (options?.live) throw new Error("RecentEntitiesLog has no live reads");
    const signal = options?.signal;
    const events = (this.#kept.get(id) ?? []).filter((event) => event.seqNo >= fromSeqNo);
    return new ReadableStream<PersistedEvent>({
      start(controller) {
        if (signal?.aborted) return controller.error(signal.reason);
        for (const event of events) controller.enqueue({ ...event, bytes: copy(event.bytes) });
        controller.close();
      },
    });
  }

  eventsByType(): ReadableStream<PersistedEvent> {
    return new ReadableStream({
      start(controller) {
        controller.error(new Error("RecentEntitiesLog keeps no order by type"));
      },
    });
  }

  // One type name per log: the ladder has one entity type, and a check costs less than a key.
  #checkType(typeName: string): void {
    if (typeName === this.#typeName) return;
    if (this.#typeName !== undefined) {
      throw new TypeError(`RecentEntitiesLog holds "${this.#typeName}" only, not "${typeName}"`);
    }
    this.#typeName = typeName;
  }
}
