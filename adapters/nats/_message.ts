// How one persist becomes one JetStream message, and how stream sequences become positions.
//
// A persist of n events is one message on the entity's subject, so it is stored all or none
// on any nats-server ≥ 2.9:
//   header "Nats-Expected-Last-Subject-Sequence": the concurrency check, first (see below)
//   header "Eventsourced-Seq-No": the seqNo of the message's first event (decimal)
//   header "Eventsourced-Count":  n, only when n > 1 (decimal)
//   headers "Es-…": the events' version and metadata, when there are any, and the writtenAt of
//                   imported events (_metadata_headers.ts)
//   body, n = 1: the event's bytes as they are
//   body, n > 1: for each event, its length as a 4-byte big-endian unsigned integer, then its
//                bytes
// Every event of a message shares its version, metadata and writtenAt (the stored timestamp,
// or the Es-Written-At header of an imported message).
// The event with index i (0-based) in the message with stream sequence s has
//   position = s * POSITION_FACTOR + i
// which strictly increases in stream order (i < POSITION_FACTOR), reads well in decimal
// (message 1234, event 2 is position 123400002), and stays a safe integer up to stream
// sequence 90 071 992 547.

import type { MsgHdrs } from "@nats-io/nats-core";
import { MsgHdrsImpl } from "@nats-io/nats-core/internal";
import { EMPTY_METADATA, type EventMetadata, MAX_VERSION } from "../../src/event_metadata.ts";
import type { PersistedEvent } from "../../src/event_log.ts";
import { StorageError } from "../../src/errors.ts";
import { errorText } from "../../src/_error_text.ts";
import {
  metadataHeaders,
  NO_METADATA,
  OUR_PREFIX,
  readMetadataHeaders,
  utf8Length,
  type VersionAndMetadata,
  WRITTEN_AT_HEADER,
} from "./_metadata_headers.ts";

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

/** The seqNos of a message's events, from its headers. */
export interface MessageSeqNos {
  readonly firstSeqNo: number;
  readonly count: number;
}

/** What a message's headers tell about its events. */
export interface MessageHeaders extends MessageSeqNos, VersionAndMetadata {}

const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;
const SPACE = 0x20;
const E = 0x45;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const SEQ_NO_NAME = textEncoder.encode(`${SEQ_NO_HEADER}:`);
const COUNT_NAME = textEncoder.encode(`${COUNT_HEADER}:`);
const OUR_NAME = textEncoder.encode(OUR_PREFIX);

function startsWith(block: Uint8Array, at: number, prefix: Uint8Array): boolean {
  for (let j = 0; j < prefix.length; j++) if (block[at + j] !== prefix[j]) return false;
  return true;
}

// The decimal value from `start` to `end` (spaces around it allowed), -2 when it is none.
function decimalAt(block: Uint8Array, start: number, end: number): number {
  let k = start;
  while (k < end && block[k] === SPACE) k++;
  let value = 0;
  let digits = 0;
  for (; k < end && block[k]! >= 0x30 && block[k]! <= 0x39; k++, digits++) {
    value = value * 10 + block[k]! - 0x30;
  }
  while (k < end && block[k] === SPACE) k++;
  return digits > 0 && digits <= 15 && k === end ? value : -2;
}

// A header's text (UTF-8), as nats.js decodes it: spaces around it trimmed.
function textAt(block: Uint8Array, start: number, end: number): string {
  while (start < end && block[start] === SPACE) start++;
  while (end > start && block[end - 1] === SPACE) end--;
  return textDecoder.decode(block.subarray(start, end));
}

/**
 * The headers of a message from its raw header block ("NATS/1.0\r\n", then "name: value\r\n"
 * lines, then "\r\n"), in one pass that turns into strings only the lines of version and
 * metadata headers; `null` when the seqNo headers are missing or malformed.
 */
export function scanHeaderBlock(block: Uint8Array): MessageHeaders | null {
  let firstSeqNo = -1;
  let count = -1;
  let ours: [string, string][] | undefined;
  let line = block.indexOf(LF) + 1;
  while (line > 0 && line < block.length) {
    const end = block.indexOf(CR, line);
    if (end <= line) break;
    if (block[line] === E) {
      if (startsWith(block, line, SEQ_NO_NAME)) {
        if (firstSeqNo === -1) firstSeqNo = decimalAt(block, line + SEQ_NO_NAME.length, end);
      } else if (startsWith(block, line, COUNT_NAME)) {
        if (count === -1) count = decimalAt(block, line + COUNT_NAME.length, end);
      } else if (startsWith(block, line, OUR_NAME)) {
        const colon = block.indexOf(COLON, line);
        if (colon > line && colon < end) {
          (ours ??= []).push([textAt(block, line, colon), textAt(block, colon + 1, end)]);
        }
      }
    }
    line = end + 2;
  }
  if (firstSeqNo < 1 || count === 0 || count < -1) return null;
  const read = ours === undefined ? NO_METADATA : readMetadataHeaders(ours);
  return { firstSeqNo, count: count === -1 ? 1 : count, ...read };
}

/**
 * The headers of a received nats.js message from its raw header block when it is reachable
 * (`Msg` keeps it), which spares decoding every header into a map on the read path. Returns
 * `undefined` when the block is not reachable, so the caller uses `msg.headers`. Throws an
 * Error when a version or metadata header is malformed.
 */
export function scanHeaders(msg: unknown): MessageHeaders | null | undefined {
  const inner = (msg as { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } }).msg;
  const raw = inner?._rdata;
  const hdr = inner?._msg?.hdr;
  if (!(raw instanceof Uint8Array) || typeof hdr !== "number" || hdr <= 0) return undefined;
  return scanHeaderBlock(raw.subarray(0, hdr));
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
 * The message that stores `events` from seqNo `firstSeqNo` on with `version` and `metadata`,
 * accepted by JetStream only when the subject's last stream sequence is `expectedStreamSeq`
 * (0: the subject is empty); `writtenAt`, given by an import, is kept in place of the stored time.
 */
export function encodePersist(
  firstSeqNo: number,
  events: readonly Uint8Array[],
  expectedStreamSeq: number,
  version: number,
  metadata: EventMetadata,
  writtenAt?: number,
): PersistMessage {
  // The check goes first: nats-server 2.9 looks a header up by the first occurrence of its name
  // in the block and ignores it when that is not at a line's start, so a metadata header
  // named "…Nats-Expected-Last-Subject-Sequence" before it would switch the check off.
  const fields: (readonly [string, string])[] = [
    [EXPECTED_LAST_SUBJECT_SEQUENCE, `${expectedStreamSeq}`],
    [SEQ_NO_HEADER, `${firstSeqNo}`],
  ];
  if (events.length > 1) fields.push([COUNT_HEADER, `${events.length}`]);
  fields.push(...metadataHeaders(version, metadata));
  if (writtenAt !== undefined) fields.push([WRITTEN_AT_HEADER, `${writtenAt}`]);
  // On the wire: "NATS/1.0\r\n", then "name: value\r\n" per header, then "\r\n" (UTF-8;
  // names are ASCII).
  let headerBytes = HEADER_FRAME_BYTES;
  // Taken as they are, without append's check and lookup per header: the names are ASCII
  // tokens, the values have no CR, LF or white space at either end.
  const record: Record<string, string[]> = {};
  for (const [name, value] of fields) {
    record[name] = [value];
    headerBytes += name.length + utf8Length(value) + 4;
  }
  const h = MsgHdrsImpl.fromRecord(record);
  return { headers: h, headerBytes, body: events.length === 1 ? events[0]! : encodeBatch(events) };
}

/**
 * The bytes the headers of a one-event persist take at most without metadata (the largest
 * seqNos and version): metadata takes room of its own.
 */
export function maxSingleEventHeaderBytes(): number {
  const empty = [new Uint8Array(0)];
  const max = Number.MAX_SAFE_INTEGER;
  return encodePersist(max, empty, max, MAX_VERSION, EMPTY_METADATA).headerBytes;
}

function corrupt(typeName: string, id: string, seq: number, problem: string, cause?: unknown) {
  return new StorageError(`Message ${seq} of "${typeName}/${id}" ${problem}`, {
    reason: "corrupt-data",
    ...(cause === undefined ? {} : { cause }),
  });
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
    throw corrupt(
      typeName,
      id,
      msg.seq,
      `has no valid ${SEQ_NO_HEADER} / ${COUNT_HEADER} headers: not written by eventsourced`,
    );
  }
  return { firstSeqNo, count };
}

/** All the headers of a stored message, from its decoded headers. */
export function decodeMessageHeaders(
  typeName: string,
  id: string,
  msg: { readonly seq: number; readonly headers: MsgHdrs | undefined },
): MessageHeaders {
  const seqNos = decodeSeqNoHeaders(typeName, id, msg);
  const ours: [string, string][] = [];
  for (const [name, values] of msg.headers ?? []) {
    if (name.startsWith(OUR_PREFIX) && values.length > 0) ours.push([name, values[0]!]);
  }
  if (ours.length === 0) return { ...seqNos, ...NO_METADATA };
  try {
    return { ...seqNos, ...readMetadataHeaders(ours) };
  } catch (cause) {
    throw corrupt(typeName, id, msg.seq, `has a malformed ${errorText(cause)}`, cause);
  }
}

/** The headers of a message a consumer delivered, from its raw header block where reachable. */
export function receivedHeaders(
  typeName: string,
  id: string,
  msg: { readonly seq: number; readonly headers: MsgHdrs | undefined },
): MessageHeaders {
  let scanned: MessageHeaders | null | undefined;
  try {
    scanned = scanHeaders(msg);
  } catch (cause) {
    throw corrupt(typeName, id, msg.seq, `has a malformed ${errorText(cause)}`, cause);
  }
  return scanned ?? decodeMessageHeaders(typeName, id, msg);
}

/** Where a read starts: events before either bound are left out. */
export interface ReadBounds {
  readonly fromSeqNo: number;
  readonly fromPosition: number;
}

/** A stored message as far as its events go. */
export interface EventMessage {
  /** Its stream sequence. */
  readonly seq: number;
  readonly headers: MessageHeaders;
  readonly data: Uint8Array;
  /** When it was stored (ms since the Unix epoch, server clock). */
  readonly writtenAt: number;
}

/** The events of `msg` that `bounds` keeps. */
export function decodeEvents(
  typeName: string,
  id: string,
  msg: EventMessage,
  bounds: ReadBounds,
): PersistedEvent[] {
  const { seq: streamSeq, data } = msg;
  const writtenAt = msg.headers.writtenAt ?? msg.writtenAt;
  const { firstSeqNo, count, version, metadata } = msg.headers;
  if (streamSeq > MAX_STREAM_SEQUENCE) {
    throw new StorageError(
      `Message ${streamSeq} of "${typeName}/${id}" is beyond stream sequence ${MAX_STREAM_SEQUENCE}, the last whose positions are exact`,
      { reason: "invalid-configuration" },
    );
  }
  if (!Number.isFinite(writtenAt)) {
    throw corrupt(typeName, id, streamSeq, "has no valid stored time");
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
    events.push({
      typeName,
      id,
      seqNo,
      position,
      bytes: payloads[i]!,
      version,
      writtenAt,
      metadata,
    });
  }
  return events;
}
