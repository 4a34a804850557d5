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

import { EMPTY_METADATA } from "../../src/event_metadata.ts";
import { headers, type MsgHdrs } from "@nats-io/nats-core";
import type { PersistedEvent } from "../../src/event_log.ts";
import { StorageError } from "../../src/errors.ts";
import { errorText } from "../../src/_error_text.ts";

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

const SEQ_NO_NEEDLE = new TextEncoder().encode(`\r\n${SEQ_NO_HEADER}:`);
const COUNT_NEEDLE = new TextEncoder().encode(`\r\n${COUNT_HEADER}:`);

/** The first seqNo and the event count of a message, from its headers. */
export interface MessageSeqNos {
  readonly firstSeqNo: number;
  readonly count: number;
}

// The decimal value of the header `needle` names in the raw header block, -1 when absent, -2
// when malformed.
function scanHeader(block: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]!;
  const end = block.length - needle.length;
  outer: for (let i = 0; i <= end; i++) {
    if (block[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (block[i + j] !== needle[j]) continue outer;
    let k = i + needle.length;
    while (block[k] === 0x20) k++;
    let value = 0;
    let digits = 0;
    for (; k < block.length && block[k]! >= 0x30 && block[k]! <= 0x39; k++, digits++) {
      value = value * 10 + block[k]! - 0x30;
    }
    return digits > 0 && digits <= 15 && (block[k] === 0x0d || block[k] === 0x20) ? value : -2;
  }
  return -1;
}

/**
 * Reads the seqNo headers from the raw header block of a received nats.js message when it is
 * reachable (`Msg` keeps it), which spares decoding every header into a map on the read path.
 * Returns `undefined` when the block is not reachable, so the caller uses `msg.headers`.
 */
export function scanSeqNos(msg: unknown): MessageSeqNos | null | undefined {
  const inner = (msg as { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } }).msg;
  const raw = inner?._rdata;
  const hdr = inner?._msg?.hdr;
  if (!(raw instanceof Uint8Array) || typeof hdr !== "number" || hdr <= 0) return undefined;
  const block = raw.subarray(0, hdr);
  const firstSeqNo = scanHeader(block, SEQ_NO_NEEDLE);
  const count = scanHeader(block, COUNT_NEEDLE);
  if (firstSeqNo < 1 || count === 0 || count < -1) return null;
  return { firstSeqNo, count: count === -1 ? 1 : count };
}

// "NATS/1.0\r\n" before the headers and "\r\n" after them.
const HEADER_FRAME_BYTES = 12;

/** JetStream's header that makes a publish conditional on the subject's last stream sequence. */
const EXPECTED_LAST_SUBJECT_SEQUENCE = "Nats-Expected-Last-Subject-Sequence";

/** The message of one persist: its headers, their size on the wire, and its body. */
export interface PersistMessage {
  readonly headers: MsgHdrs;
  readonly headerBytes: number;
  readonly body: Uint8Array;
}

/**
 * The message that stores `events` from seqNo `firstSeqNo` on, accepted by JetStream only when
 * the subject's last stream sequence is `expectedStreamSeq` (0: the subject is empty).
 */
export function encodePersist(
  firstSeqNo: number,
  events: readonly Uint8Array[],
  expectedStreamSeq: number,
): PersistMessage {
  const h = headers();
  const fields: [string, string][] = [[SEQ_NO_HEADER, `${firstSeqNo}`]];
  if (events.length > 1) fields.push([COUNT_HEADER, `${events.length}`]);
  fields.push([EXPECTED_LAST_SUBJECT_SEQUENCE, `${expectedStreamSeq}`]);
  // On the wire: "NATS/1.0\r\n", then "name: value\r\n" per header, then "\r\n" (ASCII here).
  let headerBytes = HEADER_FRAME_BYTES;
  for (const [name, value] of fields) {
    h.set(name, value);
    headerBytes += name.length + value.length + 4;
  }
  return { headers: h, headerBytes, body: events.length === 1 ? events[0]! : encodeBatch(events) };
}

/** The bytes the headers of a one-event persist take at most (the largest seqNos). */
export function maxSingleEventHeaderBytes(): number {
  return encodePersist(Number.MAX_SAFE_INTEGER, [new Uint8Array(0)], Number.MAX_SAFE_INTEGER)
    .headerBytes;
}

/** The seqNo headers of a stored message; a message without them is corrupt data. */
export function decodeSeqNoHeaders(
  typeName: string,
  id: string,
  msg: { readonly seq: number; readonly headers: MsgHdrs | undefined },
): MessageSeqNos {
  const h = msg.headers;
  const firstSeqNo = readCount(h?.get(SEQ_NO_HEADER) ?? "");
  const countHeader = h?.get(COUNT_HEADER) ?? "";
  const count = countHeader === "" ? 1 : readCount(countHeader);
  if (firstSeqNo === undefined || count === undefined) {
    throw new StorageError(
      `Message ${msg.seq} of "${typeName}/${id}" has no valid ${SEQ_NO_HEADER} / ${COUNT_HEADER} headers: not written by eventsourced`,
      { reason: "corrupt-data" },
    );
  }
  return { firstSeqNo, count };
}

/** The seqNo headers of a received message, from its raw header block where reachable. */
export function receivedSeqNos(
  typeName: string,
  id: string,
  msg: { readonly seq: number; readonly headers: MsgHdrs | undefined },
): MessageSeqNos {
  return scanSeqNos(msg) ?? decodeSeqNoHeaders(typeName, id, msg);
}

/** Where a read starts: events before either bound are left out. */
export interface ReadBounds {
  readonly fromSeqNo: number;
  readonly fromPosition: number;
}

/** The events of the message with stream sequence `streamSeq` that `bounds` keeps. */
export function decodeEvents(
  typeName: string,
  id: string,
  streamSeq: number,
  seqNos: MessageSeqNos,
  data: Uint8Array,
  bounds: ReadBounds,
): PersistedEvent[] {
  const { firstSeqNo, count } = seqNos;
  if (streamSeq > MAX_STREAM_SEQUENCE) {
    throw new StorageError(
      `Message ${streamSeq} of "${typeName}/${id}" is beyond stream sequence ${MAX_STREAM_SEQUENCE}, the last whose positions are exact`,
      { reason: "invalid-configuration" },
    );
  }
  let payloads: Uint8Array[];
  try {
    payloads = count === 1 ? [data.slice()] : decodeBatch(data, count);
  } catch (cause) {
    throw new StorageError(
      `Cannot decode the events at seqNos ${firstSeqNo} to ${
        firstSeqNo + count - 1
      } of "${typeName}/${id}" (stream message ${streamSeq}): not a valid batch: ${
        errorText(cause)
      }`,
      { reason: "corrupt-data", cause },
    );
  }
  const events: PersistedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const seqNo = firstSeqNo + i;
    const position = toPosition(streamSeq, i);
    if (seqNo < bounds.fromSeqNo || position < bounds.fromPosition) continue;
    // FOUNDATION-PLACEHOLDER
    events.push({
      typeName,
      id,
      seqNo,
      position,
      bytes: payloads[i]!,
      version: 1,
      writtenAt: 0,
      metadata: EMPTY_METADATA,
    });
  }
  return events;
}
