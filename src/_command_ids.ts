// The command ids of an entity's recent events, by which a repeated command is recognised and
// answered as a duplicate instead of being applied twice. Bounded by a window of seqNos: an id
// whose last event is `window` or more events behind the entity's last one is forgotten.

import type { EventLog } from "./event_log.ts";

/** The ids of the commands whose events are among an entity's last `window` events. */
export class CommandIds {
  readonly #window: number;
  // commandId → the seqNo of its last event.
  #seqNos = new Map<string, number>();
  // The recorded (id, seqNo) pairs in seqNo order from #head on, so the ids to forget are found
  // at the front without iterating the map (replay records one per event).
  #order: string[] = [];
  #orderSeqNos: number[] = [];
  #head = 0;
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
    this.#seqNos.set(commandId, seqNo);
    this.#order.push(commandId);
    this.#orderSeqNos.push(seqNo);
    this.forgetBefore(seqNo);
  }

  /**
   * Adds the ids read from the events from `from` to `knownFrom - 1` (`earlier`, in seqNo
   * order), older than every event recorded so far: the entity read them after spawning from a
   * snapshot. From then on the ids from `from` on are known.
   */
  addEarlier(earlier: ReadonlyMap<string, number>, from: number): void {
    this.knownFrom = from;
    const order: string[] = [];
    const orderSeqNos: number[] = [];
    for (const [id, at] of earlier) {
      if (!this.#seqNos.has(id)) this.#seqNos.set(id, at);
      order.push(id);
      orderSeqNos.push(at);
    }
    this.#order = order.concat(this.#order.slice(this.#head));
    this.#orderSeqNos = orderSeqNos.concat(this.#orderSeqNos.slice(this.#head));
    this.#head = 0;
  }

  /** The seqNo of the last event of `commandId`, if it is within the window at `seqNo`. */
  find(commandId: string, seqNo: number): number | undefined {
    const at = this.#seqNos.get(commandId);
    return at !== undefined && at > seqNo - this.#window ? at : undefined;
  }

  /** Forgets the ids whose last event is out of the window at `seqNo`. */
  forgetBefore(seqNo: number): void {
    const oldest = seqNo - this.#window;
    const order = this.#order;
    const orderSeqNos = this.#orderSeqNos;
    let head = this.#head;
    while (head < order.length && orderSeqNos[head]! <= oldest) {
      const id = order[head]!;
      // Only the id's last event counts: a later record of it keeps it.
      if (this.#seqNos.get(id) === orderSeqNos[head]) this.#seqNos.delete(id);
      // The forgotten id is let go now, not at the next compaction: until then it would keep
      // up to a window's worth of commandId strings alive, doubling what a full window holds.
      order[head] = "";
      head++;
    }
    if (head > 64 && head * 2 > order.length) {
      this.#order = order.slice(head);
      this.#orderSeqNos = orderSeqNos.slice(head);
      head = 0;
    }
    this.#head = head;
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
