// How an event's version and metadata go into the SQL columns of schema version 2 and come back
// with a page (packed_page.ts). Absent fields are null columns. A page carries the metadata of
// its events as one text, event after event, each `RS command_id US correlation_id US
// causation_id US headers` (RS: U+001E, US: U+001F; an absent id is empty, absent headers too;
// headers as jsonb prints them), and just `RS` for an event without metadata. Metadata never
// holds control characters and ids are never empty (event_metadata.ts), so the text splits
// back exactly. The server builds it with text concatenation and converts it to UTF-8 once per
// page, and the reader decodes it with one call per page: a third of the server's work and a
// fraction of the reader's that a JSON value per event cost (bench/README.md).

import { EMPTY_METADATA, type EventMetadata } from "../../src/event_metadata.ts";

/** The column values of one persist: version, command, correlation and causation ids, headers. */
export type MetadataParams = [number, string | null, string | null, string | null, string | null];

/** Whether a persist stores more than what its rows get by default (version 1, no metadata). */
export function hasMetadata(version: number, metadata: EventMetadata): boolean {
  return version !== 1 || metadata !== EMPTY_METADATA;
}

/** The column values of a persist with checked `version` and `metadata` (readPersistOptions). */
export function metadataParams(version: number, metadata: EventMetadata): MetadataParams {
  const headers = metadata.headers;
  return [
    version,
    metadata.commandId ?? null,
    metadata.correlationId ?? null,
    metadata.causationId ?? null,
    headers === undefined ? null : JSON.stringify(headers),
  ];
}

/** About how many bytes `metadata` adds to a batch (UTF-16 units of its values). */
export function metadataSize(metadata: EventMetadata): number {
  if (metadata === EMPTY_METADATA) return 0;
  let size = (metadata.commandId?.length ?? 0) + (metadata.correlationId?.length ?? 0) +
    (metadata.causationId?.length ?? 0);
  const headers = metadata.headers;
  if (headers !== undefined) {
    for (const name in headers) size += name.length + headers[name]!.length;
  }
  return size;
}

/**
 * An SQL expression over the columns of an events row: the text of its metadata as above,
 * without the leading RS; empty when it has none (never null, which string_agg would skip).
 */
export const METADATA_TEXT = `case when command_id is null and correlation_id is null
    and causation_id is null and headers is null then ''
  else coalesce(command_id, '') || E'\\x1f' || coalesce(correlation_id, '') || E'\\x1f'
    || coalesce(causation_id, '') || E'\\x1f' || coalesce(headers::text, '') end`;

/**
 * An SQL aggregate over the rows `p` of a page in `key` order, where `filter` holds: their
 * {@linkcode METADATA_TEXT}s, each after an RS, as UTF-8.
 */
export function pageMetadataSql(key: string, filter: string): string {
  return `convert_to(E'\\x1e' || string_agg(p.metadata, E'\\x1e' order by p.${key})
    filter (where ${filter}), 'UTF8')`;
}

const RECORD = "\u001e";
const UNIT = "\u001f";
// Keeps a leading U+FEFF, which is part of an id, not a byte order mark.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The metadata texts of a page's `count` events from {@linkcode pageMetadataSql}'s bytes, in
 * order; `undefined` when none of them has metadata.
 */
export function pageMetadataTexts(bytes: Uint8Array, count: number): string[] | undefined {
  if (bytes.length === count) return undefined; // an RS per event and nothing else
  const texts = decoder.decode(bytes).split(RECORD);
  if (texts.length !== count + 1) {
    throw new Error(`The metadata of a page of ${count} events has ${texts.length - 1} records`);
  }
  return texts;
}

/**
 * The metadata of one event from its text: `EMPTY_METADATA` when empty, else a frozen object
 * of the fields present, headers a frozen object sorted by name.
 */
export function unpackMetadata(text: string): EventMetadata {
  if (text.length === 0) return EMPTY_METADATA;
  const first = text.indexOf(UNIT);
  const second = text.indexOf(UNIT, first + 1);
  const third = text.indexOf(UNIT, second + 1);
  if (first < 0 || second < 0 || third < 0) {
    throw new Error(`Stored event metadata of ${text.length} characters has fewer than 4 fields`);
  }
  const metadata: { -readonly [K in keyof EventMetadata]: EventMetadata[K] } = {};
  if (first > 0) metadata.commandId = text.slice(0, first);
  if (second > first + 1) metadata.correlationId = text.slice(first + 1, second);
  if (third > second + 1) metadata.causationId = text.slice(second + 1, third);
  if (third + 1 < text.length) {
    metadata.headers = sortedHeaders(JSON.parse(text.slice(third + 1)) as Record<string, string>);
  }
  return Object.freeze(metadata);
}

// jsonb keeps object keys by length, then bytes; the port's headers are sorted by name.
function sortedHeaders(headers: Record<string, string>): Readonly<Record<string, string>> {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(headers).sort()) sorted[name] = headers[name]!;
  return Object.freeze(sorted);
}
