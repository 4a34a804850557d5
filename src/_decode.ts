// Decoding stored events and snapshots with a codec, for the entity, the reader and
// projections alike: a version newer than the codec writes is refused here, so a hand-written
// codec that ignores versions never turns a newer event into a wrong shape.

import type { Binarize } from "./binarize.ts";
import type { PersistedEvent } from "./event_log.ts";
import type { Snapshot } from "./snapshot_store.ts";
import { DecodeError } from "./errors.ts";

/** The part of a codec that decodes events. */
export type EventDecoder<Event> = Pick<Binarize<Event, unknown>, "eventFromBytes" | "eventVersion">;

/** The part of a codec that decodes states. */
export type StateDecoder<State> = Pick<Binarize<unknown, State>, "stateFromBytes" | "stateVersion">;

/** Decodes `persisted` with `binarize`, or throws a {@linkcode DecodeError} naming it. */
export function decodeEvent<Event>(
  binarize: EventDecoder<Event>,
  persisted: PersistedEvent,
): Event {
  const version = persisted.version;
  try {
    if (version > (binarize.eventVersion ?? 1)) {
      throw tooNew("event", version, binarize.eventVersion);
    }
    return binarize.eventFromBytes(persisted.bytes, version);
  } catch (cause) {
    throw new DecodeError({
      typeName: persisted.typeName,
      id: persisted.id,
      seqNo: persisted.seqNo,
      what: "event",
      version,
      cause,
    });
  }
}

/** Decodes `snapshot` of the entity with `binarize`, or throws a {@linkcode DecodeError}. */
export function decodeState<State>(
  binarize: StateDecoder<State>,
  typeName: string,
  id: string,
  snapshot: Snapshot,
): State {
  const version = snapshot.version ?? 1;
  try {
    if (version > (binarize.stateVersion ?? 1)) {
      throw tooNew("state", version, binarize.stateVersion);
    }
    return binarize.stateFromBytes(snapshot.bytes, version);
  } catch (cause) {
    throw new DecodeError({
      typeName,
      id,
      seqNo: snapshot.seqNo,
      what: "snapshot",
      version,
      cause,
    });
  }
}

function tooNew(what: string, version: number, known: number | undefined): Error {
  return new RangeError(
    `the ${what} was written with version ${version}, newer than version ${
      known ?? 1
    } that this codec reads: the data was written by newer code`,
  );
}
