// Where a read of the event log starts and ends, decided from the head of its subject before any
// consumer exists: an empty or already-known read needs no consumer at all, and a read from a
// snapshot starts at the message holding its first seqNo instead of passing every older event.

import type { PersistedEvent } from "../../src/event_log.ts";
import type { MessageQuery, StoredMessage } from "./_jetstream.ts";
import {
  decodeEvents,
  decodeMessageHeaders,
  decodeSeqNoHeaders,
  POSITION_FACTOR,
} from "./_message.ts";
import { millisOfTimestamp } from "./_written_at.ts";
import type { ReadPlan } from "./_reader.ts";

// Up to this many events before fromSeqNo, a read starts at the entity's first message.
const SCAN_LIMIT = 512;

/** The stored messages a plan looks at. */
export interface MessageSource {
  /** The last message on `filter` (wildcards allowed), or `null`. */
  last(filter: string): Promise<StoredMessage | null>;
  /** The message `query` names, or `null`. */
  get(query: MessageQuery): Promise<StoredMessage | null>;
}

/** An entity's last seqNo and the stream sequence of the message that holds it. */
export interface EntityHead {
  readonly lastSeqNo: number;
  readonly streamSeq: number;
}

/** The head an entity's last message tells. */
export function headOf(typeName: string, id: string, last: StoredMessage): EntityHead {
  const { firstSeqNo, count } = decodeSeqNoHeaders(typeName, id, last);
  return { lastSeqNo: firstSeqNo + count - 1, streamSeq: last.seq };
}

/** One entity's read: its subject, where it starts, whether it goes on. */
export interface EntityRead {
  readonly typeName: string;
  readonly id: string;
  readonly subject: string;
  readonly fromSeqNo: number;
  readonly live: boolean;
  /** Called with the head the plan found, to spare the next persist a lookup. */
  readonly remember: (head: EntityHead) => void;
}

/** The plan of a read of one entity's events. */
export async function planEntityRead(source: MessageSource, read: EntityRead): Promise<ReadPlan> {
  const { typeName, id, subject, fromSeqNo: from, live } = read;
  if (!live && from === 1) {
    // A read from the start needs the consumer anyway: find the head beside its creation.
    const endSeq = source.last(subject).then((last) => {
      if (last === null) return null;
      read.remember(headOf(typeName, id, last));
      return last.seq;
    });
    return { startSeq: 1, endSeq };
  }
  const last = await source.last(subject);
  if (last === null) return live ? { startSeq: 1, endSeq: undefined } : { events: [] };
  const seqNos = decodeSeqNoHeaders(typeName, id, last);
  const head = headOf(typeName, id, last);
  read.remember(head);
  if (live) {
    if (head.lastSeqNo < from) return { startSeq: last.seq + 1, endSeq: undefined };
    const startSeq = seqNos.firstSeqNo <= from ? last.seq : await startOf(source, read, last.seq);
    return { startSeq, endSeq: undefined };
  }
  if (head.lastSeqNo < from) return { events: [] };
  if (seqNos.firstSeqNo <= from) {
    const msg = {
      seq: last.seq,
      headers: decodeMessageHeaders(typeName, id, last),
      data: last.data,
      writtenAt: millisOfTimestamp(last.timestamp),
    };
    const events: PersistedEvent[] = decodeEvents(typeName, id, msg, {
      fromSeqNo: from,
      fromPosition: 0,
    });
    return { events };
  }
  return { startSeq: await startOf(source, read, last.seq), endSeq: last.seq };
}

/** The plan of a read of a type's events from `fromPosition`, on the subjects `filter`. */
export function planTypeRead(
  source: MessageSource,
  filter: string,
  fromPosition: number,
  live: boolean,
): ReadPlan {
  const startSeq = Math.max(Math.floor(fromPosition / POSITION_FACTOR), 1);
  if (live) return { startSeq, endSeq: undefined };
  // The head is found beside the consumer's creation.
  const endSeq = source.last(filter).then((last) =>
    last === null || last.seq < startSeq ? null : last.seq
  );
  return { startSeq, endSeq };
}

// The stream sequence of the entity's message that holds `fromSeqNo` (at most `headSeq`), so a
// read from a snapshot does not pass every older event: few events are skipped by reading from
// the entity's start, more by a binary search over stream sequences with direct gets.
async function startOf(source: MessageSource, read: EntityRead, headSeq: number): Promise<number> {
  if (read.fromSeqNo <= SCAN_LIMIT) return 1;
  let low = 1;
  let high = headSeq;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const msg = await source.get({ seq: middle, next_by_subj: read.subject });
    if (msg === null) return 1; // Not expected: the head is on the subject.
    const { firstSeqNo, count } = decodeSeqNoHeaders(read.typeName, read.id, msg);
    if (firstSeqNo > read.fromSeqNo) high = middle;
    else if (firstSeqNo + count - 1 < read.fromSeqNo) low = msg.seq + 1;
    else return msg.seq;
  }
  return low;
}
