// Where a read of the event log starts and ends, decided from the head of its subject before any
// consumer exists: an empty or already-known read, or an entity of a few messages, needs no
// consumer at all, and a read from a snapshot starts at the message holding its first seqNo
// instead of passing every older event.

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
// Up to this many messages before its head, an entity is read with one direct get per message
// instead of a consumer: a consumer costs two more requests (create, delete) and, on
// nats-server 2.9, a count of its pending messages over every block of the stream.
const GET_LIMIT = 8;

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
  // The head first, also for a read from the start: an entity whose last message holds its
  // first event is read from that message alone. A consumer filtered on one subject costs
  // nats-server 2.9 a walk over every message block of the stream (its pending count and its
  // first message), which grows with the stream, while the head is one lookup by subject.
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
  if (seqNos.firstSeqNo <= from) return { events: eventsOf(read, last) };
  // Each message holds at least one event, so the seqNos before the head's first bound the
  // messages before it.
  if (seqNos.firstSeqNo - 1 <= GET_LIMIT) {
    const events = await byGets(source, read, last);
    if (events !== null) return { events };
  }
  return { startSeq: await startOf(source, read, last.seq), endSeq: last.seq };
}

function eventsOf(read: EntityRead, stored: StoredMessage): PersistedEvent[] {
  const { typeName, id, fromSeqNo } = read;
  const msg = {
    seq: stored.seq,
    headers: decodeMessageHeaders(typeName, id, stored),
    data: stored.data,
    writtenAt: millisOfTimestamp(stored.timestamp),
  };
  return decodeEvents(typeName, id, msg, { fromSeqNo, fromPosition: 0 });
}

// The entity's events up to its head `last`, one direct get per message from the stream's
// start; `null` if it has more messages than GET_LIMIT (then a consumer reads them).
async function byGets(
  source: MessageSource,
  read: EntityRead,
  last: StoredMessage,
): Promise<PersistedEvent[] | null> {
  const events: PersistedEvent[] = [];
  let seq = 1;
  for (let gets = 0; gets <= GET_LIMIT; gets++) {
    const msg = await source.get({ seq, next_by_subj: read.subject });
    // The head, or a message written after the read began (a finite read ends at the head).
    if (msg === null || msg.seq >= last.seq) return [...events, ...eventsOf(read, last)];
    events.push(...eventsOf(read, msg));
    seq = msg.seq + 1;
  }
  return null;
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
