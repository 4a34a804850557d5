// The command ids of an entity's recent events, by which a repeated command is recognised and
// answered as a duplicate instead of being applied twice. Bounded by a window of seqNos: an id
// whose last event is `window` or more events behind the entity's last one is forgotten.

import type { EventLog } from "./event_log.ts";

/** The ids of the commands whose events are among an entity's last `window` events. */
export class CommandIds {
  readonly #window: number;
  // commandId → the seqNo of its last event; kept in seqNo order (an id seen again is moved to
  // the end), so the ids to forget are always at the front.
  #seqNos = new Map<string, number>();

  constructor(window: number) {
    this.#window = window;
  }

  /** Records that the event at `seqNo` was written by command `commandId`. */
  record(commandId: string, seqNo: number): void {
    this.#seqNos.delete(commandId);
    this.#seqNos.set(commandId, seqNo);
    this.forgetBefore(seqNo);
  }

  /**
   * Adds ids read from events older than every event recorded so far (`earlier`, in seqNo
   * order): the entity read them after spawning from a snapshot.
   */
  addEarlier(earlier: ReadonlyMap<string, number>): void {
    const later = this.#seqNos;
    this.#seqNos = new Map();
    for (const [id, at] of earlier) if (!later.has(id)) this.#seqNos.set(id, at);
    for (const [id, at] of later) this.#seqNos.set(id, at);
  }

  /** The seqNo of the last event of `commandId`, if it is within the window at `seqNo`. */
  find(commandId: string, seqNo: number): number | undefined {
    const at = this.#seqNos.get(commandId);
    return at !== undefined && at > seqNo - this.#window ? at : undefined;
  }

  /** Forgets the ids whose last event is out of the window at `seqNo`. */
  forgetBefore(seqNo: number): void {
    const oldest = seqNo - this.#window;
    for (const [id, at] of this.#seqNos) {
      if (at > oldest) return;
      this.#seqNos.delete(id);
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
