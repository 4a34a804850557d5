// How an event's version and metadata go into the SQL columns of schema version 2 and come back
// in a packed page (packed_page.ts). Absent fields are null columns; a page carries the
// metadata of an event as one JSON array `[command_id, correlation_id, causation_id, headers]`
// built by the server, or as nothing at all for an event without metadata, so that such events
// cost a reader a length of 0 and no decoding.

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
 * An SQL expression over the columns of an events row: its metadata as UTF-8 JSON, or an empty
 * bytea when it has none (never null, which would drop the event from the page's string_agg).
 */
export const METADATA_BYTES = `case when command_id is null and correlation_id is null
    and causation_id is null and headers is null then ''::bytea
  else convert_to(json_build_array(command_id, correlation_id, causation_id, headers)::text,
    'UTF8') end`;

// Keeps a leading U+FEFF of a value; the text itself always starts with "[".
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The metadata of a page's event from its {@linkcode METADATA_BYTES}: `EMPTY_METADATA` when
 * empty, else a frozen object of the fields present, headers a frozen object sorted by name.
 */
export function unpackMetadata(bytes: Uint8Array): EventMetadata {
  if (bytes.length === 0) return EMPTY_METADATA;
  const [commandId, correlationId, causationId, headers] = JSON.parse(decoder.decode(bytes)) as [
    string | null,
    string | null,
    string | null,
    Record<string, string> | null,
  ];
  const metadata: { -readonly [K in keyof EventMetadata]: EventMetadata[K] } = {};
  if (commandId !== null) metadata.commandId = commandId;
  if (correlationId !== null) metadata.correlationId = correlationId;
  if (causationId !== null) metadata.causationId = causationId;
  if (headers !== null) metadata.headers = sortedHeaders(headers);
  return Object.freeze(metadata);
}

// jsonb keeps object keys by length, then bytes; the port's headers are sorted by name.
function sortedHeaders(headers: Record<string, string>): Readonly<Record<string, string>> {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(headers).sort()) sorted[name] = headers[name]!;
  return Object.freeze(sorted);
}
