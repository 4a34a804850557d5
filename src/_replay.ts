// Applies an entity's events from the log to a state: recovery at spawn and the re-sync after a
// failed persist share this.

import type { Binarize } from "./binarize.ts";
import type { EventLog, PersistedEvent } from "./event_log.ts";
import { takeBatches } from "./_event_batches.ts";
import type { EventSourced } from "./event_sourced.ts";
import { decodeEvent } from "./_decode.ts";
import { CommandIds } from "./_command_ids.ts";

/** What replay needs to know about the entity. */
export interface ReplayTarget<State, Event> {
  readonly entity: EventSourced<State, Event>;
  readonly id: string;
  readonly eventLog: EventLog;
  readonly binarize: Binarize<Event, State>;
  /** How many recent events' command ids to remember; 0: none. */
  readonly deduplicationWindow: number;
}

/** What a replay arrived at. */
export interface Replayed<State> {
  readonly state: State;
  readonly seqNo: number;
  /** The entity's last seqNo as of the read, when the log's stream tells it. */
  readonly head: number | null | undefined;
  /** The ids given, or new ones when the replayed events carried the first command ids. */
  readonly commandIds: CommandIds | undefined;
}

/** An event handler threw while replaying the event with this seqNo. */
export class ReplayHandlerError extends Error {
  constructor(typeName: string, id: string, readonly seqNo: number, cause: unknown) {
    super(`Event handler of "${typeName}/${id}" threw on the event at seqNo ${seqNo}`, { cause });
    this.name = "ReplayHandlerError";
  }
}

/**
 * Reads the events after `seqNo` up to the head (a finite read) and applies them to `state`;
 * also returns the head (the entity's last seqNo as of the read) when the log's stream tells it
 * (the logs of this package do, see _event_batches.ts), else `undefined`.
 * Records the command ids of the events in `commandIds` (created on the first one).
 * Throws a `DecodeError` or {@linkcode ReplayHandlerError} naming the seqNo, or an
 * Error when the log has a gap; the stream is cancelled on every failure.
 */
export async function replay<State, Event>(
  target: ReplayTarget<State, Event>,
  state: State,
  seqNo: number,
  signal: AbortSignal | undefined,
  commandIds: CommandIds | undefined,
): Promise<Replayed<State>> {
  const { entity, id, eventLog, binarize, deduplicationWindow } = target;
  const typeName = entity.typeName;
  const apply = (persisted: PersistedEvent) => {
    if (persisted.seqNo !== seqNo + 1) {
      throw new Error(
        `Event log returned seqNo ${persisted.seqNo} for "${typeName}/${id}" where ${
          seqNo + 1
        } was due`,
      );
    }
    const event = decodeEvent(binarize, persisted);
    try {
      state = entity.handleEvent(state, event);
    } catch (cause) {
      throw new ReplayHandlerError(typeName, id, persisted.seqNo, cause);
    }
    seqNo = persisted.seqNo;
    const commandId = persisted.metadata.commandId;
    if (commandId !== undefined && deduplicationWindow > 0) {
      (commandIds ??= new CommandIds(deduplicationWindow)).record(commandId, seqNo);
    }
  };
  const options = signal === undefined ? {} : { signal };
  const stream = eventLog.eventsById(typeName, id, seqNo + 1, options);
  const batches = takeBatches(stream);
  if (batches !== undefined) {
    try {
      for (let batch = await batches.next(); batch !== null; batch = await batches.next()) {
        for (let i = 0; i < batch.length; i++) apply(batch[i]!);
      }
    } catch (error) {
      await batches.cancel(error).catch(() => {});
      throw error;
    }
    return { state, seqNo, head: batches.head(), commandIds };
  }
  const reader = stream.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) apply(next.value);
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    reader.releaseLock();
    throw error;
  }
  // A stream read to its end is not released: releasing makes a TypeError (with its stack) for
  // the reader's closed promise, which on Deno costs more than a whole replay of a few events.
  return { state, seqNo, head: undefined, commandIds };
}
