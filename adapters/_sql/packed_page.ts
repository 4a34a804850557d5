// A page of events comes back as one row holding one bytea that packs every event of the page,
// rather than one row per event: the drivers' per-row and per-column work (a row object, a
// string per bigint, a Buffer per bytea) then happens once per page, and each event costs a few
// DataView reads and a subarray. The server builds the bytea with string_agg over the page, so
// the page's rows are read exactly as before (same index, same keyset).
//
// Layout, all integers big-endian as int4send/int8send write them, per event in key order:
//   by id:   seqNo int8 | position int8 | writtenAt int8 | ±version int4 | length int4 | bytes
//   by type: id length int4 | id (UTF-8) | then as by id
// writtenAt is timestamptz_send's: microseconds since 2000-01-01 UTC. The metadata of the events
// that have any comes beside the packed bytes, as one text for the page (metadata_columns.ts),
// in the same order; their versions are packed negated, so the reader knows which events it
// belongs to, and a page without metadata aggregates and sends none.
//
// Each event's bytes are a view into its page's buffer, not a copy: code that keeps the bytes of
// one event keeps its page's buffer alive (a few MiB at most, see below).
//
// A page stops early once it holds PAGE_BYTES of event and metadata bytes (always at least one
// event), so a log of large events never builds one huge value; the row says how many rows the
// page query found and how many it packed, so a reader knows whether more may follow.

import { EMPTY_METADATA } from "../../src/event_metadata.ts";
import type { PersistedEvent } from "../../src/event_log.ts";
import { toBytes, toNumber } from "./client.ts";
import { METADATA_TEXT, PageMetadata, pageMetadataSql } from "./metadata_columns.ts";

/** Bytes after which a page stops (the event that crosses it is still included). */
export const PAGE_BYTES = 4 * 1024 * 1024;

/** One unpacked page: its events, and whether the log may hold more after them. */
export interface Page {
  readonly events: PersistedEvent[];
  readonly full: boolean;
}

/** The columns a page query (`inner` of {@linkcode packedPageSql}) selects from the events. */
export const PAGE_COLUMNS =
  `seq_no, position, bytes, written_at, version, ${METADATA_TEXT} as metadata`;

/**
 * Wraps a page query (`inner`, ordered by `key`, with a limit, selecting
 * {@linkcode PAGE_COLUMNS}) so it returns one row: how many rows it found, how many are packed,
 * the packed bytes and the packed events' metadata. `maxBytes` is the placeholder of the
 * PAGE_BYTES parameter.
 */
export function packedPageSql(inner: string, key: string, item: string, maxBytes: string): string {
  const packed = `p.before < ${maxBytes}`;
  return `select count(*) as found, count(*) filter (where ${packed}) as packed_count,
      string_agg(${item}, ''::bytea order by p.${key}) filter (where ${packed}),
      ${pageMetadataSql(key, packed)}
    from (select l.*, coalesce(sum(octet_length(l.bytes) + octet_length(l.metadata))
        over (order by l.${key} rows between unbounded preceding and 1 preceding), 0) as before
      from (${inner}) as l) as p`;
}

/** The packed item of a read by id (see the layout above). */
export const BY_ID_ITEM = "int8send(p.seq_no) || int8send(p.position) || " +
  "timestamptz_send(p.written_at) || " +
  "int4send(case when p.metadata = '' then p.version else -p.version end) || " +
  "int4send(octet_length(p.bytes)) || p.bytes";

/** The packed item of a read by type name. */
export const BY_TYPE_ITEM = "int4send(octet_length(convert_to(p.id, 'UTF8'))) || " +
  "convert_to(p.id, 'UTF8') || " + BY_ID_ITEM;

// Keeps a leading U+FEFF, which is part of an id, not a byte order mark.
const idDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Unpacks the page columns `found`, `packed count`, `packed bytes`, `metadata` of `row` from
 * `offset`.
 * `id` is the entity of a read by id; `undefined` reads each event's id from the bytes.
 */
export function unpackPage(
  row: readonly unknown[] | undefined,
  offset: number,
  limit: number,
  typeName: string,
  id: string | undefined,
): Page {
  const found = row === undefined ? 0 : toNumber(row[offset]);
  const count = found === 0 ? 0 : toNumber(row![offset + 1]);
  const events: PersistedEvent[] = new Array(count);
  if (count > 0) {
    const packed = toBytes(row![offset + 2]);
    const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
    let at = 0;
    let lastIdBytes: Uint8Array | undefined;
    let lastId = "";
    const metadata = new PageMetadata(row![offset + 3] as string | null);
    for (let i = 0; i < count; i++) {
      let eventId = id;
      if (eventId === undefined) {
        const idLength = view.getInt32(at);
        const idBytes = packed.subarray(at + 4, at + 4 + idLength);
        at += 4 + idLength;
        // Events of one entity often come in runs: decode its id once per run.
        if (lastIdBytes === undefined || !sameBytes(lastIdBytes, idBytes)) {
          lastIdBytes = idBytes;
          lastId = idDecoder.decode(idBytes);
        }
        eventId = lastId;
      }
      const seqNo = readInt8(view, at);
      const position = readInt8(view, at + 8);
      const writtenAt = readMicroseconds(view, at + 16);
      let version = view.getInt32(at + 24);
      const length = view.getInt32(at + 28);
      at += 32;
      let eventMetadata = EMPTY_METADATA;
      if (version < 0) {
        version = -version;
        eventMetadata = metadata.next();
      }
      events[i] = {
        typeName,
        id: eventId,
        seqNo,
        position,
        bytes: packed.subarray(at, at + length),
        version,
        writtenAt,
        metadata: eventMetadata,
      };
      at += length;
    }
    if (at !== packed.length) {
      throw new Error(`A packed page of ${count} events has ${packed.length - at} bytes left over`);
    }
    if (!metadata.done()) throw new Error("A packed page has more metadata than events");
  }
  return { events, full: found === limit || count < found };
}

// seqNos and positions stay below 2^53, so two 32-bit halves give the exact number without a
// BigInt.
function readInt8(view: DataView, at: number): number {
  return view.getUint32(at) * 0x1_0000_0000 + view.getUint32(at + 4);
}

// 2000-01-01T00:00:00Z, where timestamptz_send counts from, in ms since the Unix epoch.
const POSTGRES_EPOCH_MS = 946_684_800_000;

// A timestamptz_send value as whole milliseconds since the Unix epoch, rounded down (so times
// in order stay in order). The microseconds are exact up to 2^53 (the year 2285).
function readMicroseconds(view: DataView, at: number): number {
  const micros = view.getInt32(at) * 0x1_0000_0000 + view.getUint32(at + 4);
  return Math.floor(micros / 1000) + POSTGRES_EPOCH_MS;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
