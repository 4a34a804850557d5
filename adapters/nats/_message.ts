// How one persist becomes one JetStream message, and how stream sequences become positions.
//
// A persist of n events is one message on the entity's subject, so it is stored all or none
// on any nats-server ≥ 2.9:
//   header "Eventsourced-Seq-No": the seqNo of the message's first event (decimal)
//   header "Eventsourced-Count":  n, only when n > 1 (decimal)
//   body, n = 1: the event's bytes as they are
//   body, n > 1: for each event, its length as a 4-byte big-endian unsigned integer, then its
//                bytes
// The event with index i (0-based) in the message with stream sequence s has
//   position = s * POSITION_FACTOR + i
// which strictly increases in stream order (i < POSITION_FACTOR), reads well in decimal
// (message 1234, event 2 is position 123400002), and stays a safe integer up to stream
// sequence 90 071 992 547.

/** Header with the seqNo of the first event of a message. */
export const SEQ_NO_HEADER = "Eventsourced-Seq-No";
/** Header with the number of events of a message, when more than one. */
export const COUNT_HEADER = "Eventsourced-Count";
/** Positions per stream sequence; also the most events one persist may write. */
export const POSITION_FACTOR = 100_000;
/** The highest stream sequence whose positions are safe integers. */
export const MAX_STREAM_SEQUENCE = Math.floor(Number.MAX_SAFE_INTEGER / POSITION_FACTOR) - 1;

/** The position of the event with `index` in the message with stream sequence `streamSeq`. */
export function toPosition(streamSeq: number, index: number): number {
  return streamSeq * POSITION_FACTOR + index;
}

/** Frames several events into one message body. */
export function encodeBatch(events: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const event of events) size += 4 + event.length;
  const body = new Uint8Array(size);
  const view = new DataView(body.buffer);
  let offset = 0;
  for (const event of events) {
    view.setUint32(offset, event.length);
    body.set(event, offset + 4);
    offset += 4 + event.length;
  }
  return body;
}

/** Splits a message body into `count` events (copies, independent of the body's buffer). */
export function decodeBatch(body: Uint8Array, count: number): Uint8Array[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const events: Uint8Array[] = new Array(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > body.length) throw new Error(`truncated batch at event ${i} of ${count}`);
    const length = view.getUint32(offset);
    offset += 4;
    if (offset + length > body.length) throw new Error(`truncated batch at event ${i} of ${count}`);
    events[i] = body.slice(offset, offset + length);
    offset += length;
  }
  if (offset !== body.length) throw new Error(`${body.length - offset} bytes after the last event`);
  return events;
}

/** Reads a decimal header as a positive safe integer, or `undefined` when it is not one. */
export function readCount(value: string): number | undefined {
  if (value === "") return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}
