// The command ids of an entity's recent events, by which a repeated command is recognised and
// answered as a duplicate instead of being applied twice. Bounded by a window of seqNos: an id
// whose last event is `window` or more events behind the entity's last one is forgotten.

import type { EventLog } from "./event_log.ts";

/** The ids of the commands whose events are among an entity's last `window` events. */
export class CommandIds {
  readonly #window: number;
  // commandId → the seqNo of its last event, in seqNo order (an id recorded again is moved to
  // the end), so the ids to forget are the first ones. No array of the order is kept beside it:
  // such arrays held as much again as the map for a full window.
  #seqNos = new Map<string, number>();
  // Walks the map oldest first from one forget to the next. A fresh iterator would start at the
  // map's first slot and step over every id deleted since V8 last compacted it, a cost per
  // command that grows with the window; this one goes on from where it stopped. `#peeked` is
  // the entry it gave last that is still in the window.
  #oldest: MapIterator<[string, number]> | undefined;
  #peeked: [string, number] | undefined;
  /**
   * The lowest seqNo from which on the ids are known: 1, or after a spawn from a snapshot the
   * seqNo after it until the ids of the events before it are read.
   */
  knownFrom: number;

  constructor(window: number, knownFrom = 1) {
    this.#window = window;
    this.knownFrom = knownFrom;
  }

  /** Records that the event at `seqNo` (the latest so far) was written by command `commandId`. */
  record(commandId: string, seqNo: number): void {
    this.#seqNos.delete(commandId);
    this.#seqNos.set(commandId, seqNo);
    this.forgetBefore(seqNo);
  }

  /**
   * Adds the ids read from the events from `from` to `knownFrom - 1` (`earlier`, in seqNo
   * order), older than every event recorded so far: the entity read them after spawning from a
   * snapshot. From then on the ids from `from` on are known.
   */
  addEarlier(earlier: ReadonlyMap<string, number>, from: number): void {
    this.knownFrom = from;
    const merged = new Map<string, number>();
    for (const [id, at] of earlier) if (!this.#seqNos.has(id)) merged.set(id, at);
    for (const [id, at] of this.#seqNos) merged.set(id, at);
    this.#seqNos = merged;
    this.#oldest = undefined;
    this.#peeked = undefined;
  }

  /** The seqNo of the last event of `commandId`, if it is within the window at `seqNo`. */
  find(commandId: string, seqNo: number): number | undefined {
    const at = this.#seqNos.get(commandId);
    return at !== undefined && at > seqNo - this.#window ? at : undefined;
  }

  /** Forgets the ids whose last event is out of the window at `seqNo`. */
  forgetBefore(seqNo: number): void {
    const oldest = seqNo - this.#window;
    const seqNos = this.#seqNos;
    for (;;) {
      let entry = this.#peeked;
      this.#peeked = undefined;
      if (entry === undefined) {
        let next = this.#oldest?.next();
        // A finished iterator sees no later ids: a new one starts from the first.
        if (next === undefined || next.done) {
          this.#oldest = seqNos.entries();
          next = this.#oldest.next();
          if (next.done) {
            this.#oldest = undefined;
            return;
          }
        }
        entry = next.value;
      }
      const [id, at] = entry;
      // Recorded again since: its later entry comes further on.
      if (seqNos.get(id) !== at) continue;
      if (at > oldest) {
        this.#peeked = entry;
        return;
      }
      seqNos.delete(id);
    }
  }
}

/**
 * The command ids of the entity's events from `from` to `to - 1`, in seqNo order, read from
 * `eventLog` (the events themselves are not decoded).
 */
export async function readCommandIds(
  eventLog: EventLog,
  typeName: string,
  id: string,
  from: number,
  to: number,
  signal: AbortSignal | undefined,
): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  if (from >= to) return ids;
  const reader = eventLog.eventsById(typeName, id, from, signal === undefined ? {} : { signal })
    .getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      const event = next.value;
      if (event.seqNo >= to) break;
      const commandId = event.metadata.commandId;
      if (commandId !== undefined) {
        ids.delete(commandId);
        ids.set(commandId, event.seqNo);
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return ids;
}
